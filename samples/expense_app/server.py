"""Run Expensely in a background thread: `with start_sample_app("changed") as app: app.url`."""
from __future__ import annotations

import socket
import threading
import time

import httpx
import uvicorn

from guidecast.samples.expense_app.app import create_app

HOST = "127.0.0.1"


class SampleApp:
    """A running Expensely server. Use `.url`, `.variant`, `.stop()`, or as a context manager."""

    def __init__(self, variant: str, server: uvicorn.Server, thread: threading.Thread, port: int):
        self.variant = variant
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self._server = server
        self._thread = thread

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 2.0) -> None:
        if not self._thread.is_alive():
            return
        self._server.should_exit = True
        self._thread.join(timeout / 2)
        if self._thread.is_alive():  # open keep-alive connections: stop waiting for them
            self._server.force_exit = True
            self._thread.join(timeout / 2)

    def __enter__(self) -> SampleApp:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"SampleApp(variant={self.variant!r}, url={self.url!r})"


def start_sample_app(variant: str = "base", port: int = 0, timeout: float = 10.0, ui: dict | None = None) -> SampleApp:
    """Start the app on 127.0.0.1 (port 0: a free port) and return once it answers HTTP. `ui`: settings of
    `app.UI` to change (a relabelled field, an extra field or menu item)."""
    app = create_app(variant, ui)  # raises ValueError for an unknown variant, before any thread starts
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as e:
        sock.close()
        raise OSError(f"cannot start Expensely on {HOST}:{port}: {e.strerror}") from None
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host=HOST, port=port, log_level="warning", access_log=False, lifespan="off",
        timeout_graceful_shutdown=1, timeout_keep_alive=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name=f"expensely-{variant}-{port}")
    thread.start()
    running = SampleApp(variant, server, thread, port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not thread.is_alive():
            sock.close()
            raise RuntimeError(f"Expensely ({variant}) stopped while starting on port {port}")
        if server.started:
            try:
                if httpx.get(f"{running.url}/login", timeout=1.0).status_code == 200:
                    return running
            except httpx.HTTPError:
                pass
        time.sleep(0.02)
    running.stop()
    sock.close()
    raise RuntimeError(f"Expensely ({variant}) did not answer on {running.url} within {timeout:.0f} s")
