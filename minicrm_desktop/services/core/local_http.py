"""An HTTP server on 127.0.0.1 served from a thread: the sign-in loopback receiver, the
development identity provider, and the tests' fake outside services all run on it.

Handlers derive from `QuietHandler`: requests here carry authorization codes, tokens and
keys, so nothing is logged, and replies are never cached."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# A short poll interval: close() waits for the serving loop to notice.
POLL_S = 0.05


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's name)
        pass  # requests carry codes, tokens and keys: keep them out of logs

    def send_body(self, status: int, content_type: str, body: bytes,
                  headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.send_body(status, "application/json; charset=utf-8", json.dumps(body).encode(),
                       headers)


class LocalServer:
    """`start()` serves on a daemon thread; `serve_forever()` blocks instead (a CLI)."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, port: int = 0,
                 name: str = "local-http") -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self._name = name
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalServer:
        self._thread = threading.Thread(target=self.server.serve_forever, args=(POLL_S,),
                                        name=self._name, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def close(self, timeout_s: float | None = None) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout_s)
        self.server.server_close()
