"""The loopback redirect receiver (RFC 8252 §7.3): a one-shot HTTP server on 127.0.0.1.

The browser comes back to http://127.0.0.1:PORT/?state=…&code=… (or …&error=…). The server
takes the first answer that carries a state, shows the user a short page, and wakes the
waiting sign-in. Other requests (a favicon, a stray probe) get a 404 and change nothing.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Callback:
    """What the browser brought back (query parameters, first value of each)."""

    params: dict[str, str]

    def get(self, key: str) -> str:
        return self.params.get(key, "")


class Waker:
    """Wakes the waiting sign-in: when the browser answers, or when the user cancels."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.cancelled = False

    def cancel(self) -> None:
        """Stop waiting for the browser (from any thread)."""
        self.cancelled = True
        self._event.set()

    def set(self) -> None:
        self._event.set()

    def wait(self, timeout_s: float) -> bool:
        return self._event.wait(timeout_s)


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>MiniCRM</title></head>
<body style="font-family: sans-serif; margin: 3em; max-width: 36em">
<h2>{title}</h2><p>{text}</p></body></html>"""


class LoopbackReceiver:
    """Listens on 127.0.0.1 at a random free port until `close()`."""

    def __init__(self, waker: Waker) -> None:
        self.waker = waker
        self.callback: Callback | None = None
        self._lock = threading.Lock()  # handler threads race for the one answer
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path != "/" or "state" not in params:
                    self._reply(404, "Not found", "This address only receives MiniCRM's "
                                "sign-in answer.")
                    return
                if not receiver._take(Callback(params)):
                    self._reply(409, "Already answered", "MiniCRM already received a "
                                "sign-in answer. You can close this tab.")
                    return
                if "error" in params:
                    self._reply(200, "Sign-in not completed",
                                "MiniCRM was not signed in. You can close this tab.")
                else:
                    self._reply(200, "Signed in",
                                "You can close this tab and return to MiniCRM.")

            def _reply(self, status: int, title: str, text: str) -> None:
                body = _PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # the query holds the authorization code: keep it out of logs

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll interval: close() waits for the serving loop to notice.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="sign-in-loopback", daemon=True)
        self._thread.start()

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def _take(self, callback: Callback) -> bool:
        with self._lock:
            if self.callback is not None or self.waker.cancelled:
                return False
            self.callback = callback
        self.waker.set()
        return True

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
