"""The tabs of a replay or recording: naming popups, following the current tab, answering dialogs.

Pages are named `main` (the first) and `popup-1`, `popup-2`, ... in the order they open. A step
that opens a popup makes it the current tab; when a popup closes, its opener becomes current again.
"""
from __future__ import annotations

from guidecast.capture.bundle import DialogInfo


class Tabs:
    def __init__(self, context, first_page=None, timeout_ms: int | None = None):
        self.timeout_ms = timeout_ms
        self.pages: dict[str, object] = {}
        self.opener: dict[str, str] = {}
        self.current = "main"
        self.dialog_answer = "accept"
        self.dialogs: list[DialogInfo] = []
        self.crashed: str | None = None
        self._fresh: list[str] = []
        self._count = 0
        if first_page is not None:
            self._add(first_page, "main")
        context.on("page", self._on_page)

    @property
    def page(self):
        return self.pages[self.current]

    def name_of(self, page) -> str | None:
        return next((n for n, p in self.pages.items() if p is page), None)

    def _add(self, page, name: str) -> None:
        self.pages[name] = page
        if self.timeout_ms:
            page.set_default_timeout(self.timeout_ms)
        page.on("dialog", self._on_dialog)
        page.on("close", lambda p: self._on_close(name))
        page.on("crash", lambda p: setattr(self, "crashed", name))

    def _on_page(self, page) -> None:
        if self.name_of(page):
            return
        if not self.pages and not self._count:  # the first page of a context we were handed empty
            self._count = -1
            self._add(page, "main")
            return
        self._count = max(self._count, 0) + 1
        name = f"popup-{self._count}"
        opener = page.opener()
        self.opener[name] = (self.name_of(opener) if opener else None) or self.current
        self._add(page, name)
        self._fresh.append(name)

    def closed(self, name: str) -> None:
        """Forget tab `name` (closed); its opener becomes current if it was current."""
        self._on_close(name)

    def _on_close(self, name: str) -> None:
        self.pages.pop(name, None)
        if name in self._fresh:
            self._fresh.remove(name)
        if self.current == name:
            back = self.opener.get(name, "main")
            self.current = back if back in self.pages else next(iter(self.pages), "main")

    def _on_dialog(self, dialog) -> None:
        answer = self.dialog_answer
        self.dialogs.append(DialogInfo(type=dialog.type, message=dialog.message, answer=answer))
        try:
            dialog.accept() if answer == "accept" else dialog.dismiss()
        except Exception:  # noqa: BLE001 - the page went away while the dialog was open
            pass

    def take_new(self) -> str | None:
        """The newest popup opened since the last call (it becomes current), or None."""
        fresh = [n for n in self._fresh if n in self.pages]
        self._fresh.clear()
        if not fresh:
            return None
        self.current = fresh[-1]
        return fresh[-1]

    def switch(self, name: str) -> bool:
        if name not in self.pages:
            return False
        self.current = name
        self._fresh.clear()
        return True
