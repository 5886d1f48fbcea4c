"""The loopback redirect receiver (RFC 8252 §7.3): a one-shot HTTP server on 127.0.0.1.

The browser comes back to http://127.0.0.1:PORT/?state=…&code=… (or …&error=…). The server
takes the first answer whose state is the one this sign-in sent, shows the user a short
page, and wakes the waiting sign-in. Anything else — a favicon, a stray probe, an answer
with another state (any local process can call this port) — is refused and changes nothing:
the sign-in keeps waiting for the real answer or its time-out.
"""

from __future__ import annotations

import hmac
import html
import threading
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from minicrm_desktop.services.core.local_http import LocalServer, QuietHandler


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
        self.ignored = 0  # answers refused for their state
        self._state: str | None = None  # until set, no answer can be the right one
        self._lock = threading.Lock()  # handler threads race for the one answer
        receiver = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path != "/" or "state" not in params:
                    self._reply(404, "Not found", "This address only receives MiniCRM's "
                                "sign-in answer.")
                    return
                taken = receiver._take(Callback(params))
                if taken == "wrong state":
                    self._reply(400, "Not this sign-in", "This answer does not belong to the "
                                "sign-in MiniCRM is waiting for, so it was ignored. Finish "
                                "signing in in the browser window MiniCRM opened.")
                    return
                if taken == "answered":
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
                self.send_body(status, "text/html; charset=utf-8", body)

        # The query holds the authorization code: QuietHandler keeps it out of logs.
        self._server = LocalServer(Handler, name="sign-in-loopback").start()

    @property
    def redirect_uri(self) -> str:
        return self._server.base_url + "/"

    def expect(self, state: str) -> None:
        """The state this sign-in sent: only an answer carrying it is taken."""
        with self._lock:
            self._state = state

    def _take(self, callback: Callback) -> str:
        with self._lock:
            if self.callback is not None or self.waker.cancelled:
                return "answered"
            if self._state is None or not same_state(callback.get("state"), self._state):
                self.ignored += 1
                return "wrong state"
            self.callback = callback
        self.waker.set()
        return "taken"

    def close(self) -> None:
        self._server.close()


def same_state(received: str, sent: str) -> bool:
    """Constant-time comparison (any text: a forged state need not be ASCII)."""
    return hmac.compare_digest(received.encode("utf-8"), sent.encode("utf-8"))
