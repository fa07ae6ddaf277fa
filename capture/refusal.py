"""Did the app refuse the step? Validation errors, error pages and HTTP 4xx/5xx answers after an action.

Before a step acts, the error signals already on the page are noted; after it (once the page settled),
the step was refused when a new one shows: a visible `role=alert` (not a success message) or an error
summary / field error by the usual class names, a field marked `aria-invalid="true"` (with the message it
points to), the browser's own validation message on a field of a form it would not send, or
when the page's document answered 4xx/5xx. What the app said is quoted back to the user.
"""
from __future__ import annotations

from dataclasses import dataclass

MAX_MESSAGE = 300
ACTS = {"click", "dblclick", "press", "check", "uncheck"}  # actions that submit; fills never count

SIGNALS_JS = """() => {
  const norm = (s) => (s || '').replace(/\\s+/g, ' ').trim();
  const vis = (e) => e.checkVisibility ? e.checkVisibility() : !!e.offsetParent;
  const calm = /success|info|notice|status/i;
  const alerts = [];
  const sel = '[role=alert], .error-summary, .errorlist, .alert-error, .alert-danger, .field-error, ' +
              '.invalid-feedback, .error-message, .help-block.error, .form-error';
  for (const e of document.querySelectorAll(sel)) {
    if (!vis(e) || calm.test(e.className || '')) continue;
    if (e.parentElement && e.parentElement.closest(sel) && vis(e.parentElement.closest(sel))) continue;
    const t = norm(e.innerText);
    if (t) alerts.push(t);
  }
  const fields = [];
  const labelOf = (f) => {
    const l = f.labels && f.labels[0];
    return norm((l && l.innerText) || f.getAttribute('aria-label') || f.getAttribute('placeholder') || f.name || '');
  };
  for (const f of document.querySelectorAll('[aria-invalid=true]')) {
    if (!vis(f)) continue;
    const ids = (f.getAttribute('aria-describedby') || f.getAttribute('aria-errormessage') || '').split(/\\s+/);
    const said = ids.filter(Boolean).map((id) => document.getElementById(id)).filter(Boolean)
      .map((e) => norm(e.innerText)).filter(Boolean).join(' ');
    fields.push({label: labelOf(f), message: said || 'marked as not valid'});
  }
  // Fields the browser would not send (its `invalid` events since the last look, see WATCH_JS).
  for (const f of new Set(window.__guidecastInvalid || [])) {
    if (f.isConnected && vis(f) && f.validationMessage) fields.push({label: labelOf(f), message: f.validationMessage});
  }
  window.__guidecastInvalid = [];
  return {alerts, fields};
}"""


# In every document of the replay: note the fields the browser refuses to submit (it fires `invalid` on them).
WATCH_JS = """addEventListener('invalid', (e) => { (window.__guidecastInvalid ||= []).push(e.target); }, true);"""


@dataclass
class Signals:
    alerts: list[str]
    fields: list[tuple[str, str]]  # (label, message)

    @classmethod
    def read(cls, page) -> Signals:
        try:
            got = page.evaluate(SIGNALS_JS)
        except Exception:  # noqa: BLE001 - a page being replaced has no signals we can read
            return cls([], [])
        return cls.parse(got)

    @classmethod
    def parse(cls, got: dict) -> Signals:
        """From what SIGNALS_JS answered."""
        return cls(list(got["alerts"]), [(f["label"], f["message"]) for f in got["fields"]])


def refusal(before: Signals | None, after: Signals, status: tuple[int, str] | None) -> str | None:
    """What the app said when it refused the step, or None when it did not. `before`: the signals before the
    action (None: the action cannot submit, only the HTTP status counts); `status`: the last document answer
    since the action (status code, reason)."""
    said: list[str] = []
    if before is not None:
        alerts = [t for t in after.alerts if t not in before.alerts]
        fields = [f for f in after.fields if f not in before.fields]
        said = list(alerts)
        for label, message in fields:
            if any(message in t for t in said):
                continue
            said.append(message if not label or label.casefold() in message.casefold() else f"{label}: {message}")
    if said:
        return _short("; ".join(said))
    if status is not None and status[0] >= 400:
        return f"HTTP {status[0]} {status[1]}".strip()
    return None


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 1].rstrip() + "…"
