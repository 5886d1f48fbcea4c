"""A real OpenAI-compatible HTTP server on 127.0.0.1 with scripted replies, for the real
`openai` client to talk to."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from minicrm_desktop.services.core.local_http import LocalServer, QuietHandler


@dataclass
class Reply:
    status: int = 200
    content: str | None = None  # the assistant message's text, for 200
    error: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    hang: threading.Event | None = None  # wait for this before answering
    drop: bool = False  # close the connection without answering

    @staticmethod
    def answer(data: Any) -> Reply:
        return Reply(content=data if isinstance(data, str) else json.dumps(data))

    @staticmethod
    def fail(status: int, message: str = "scripted failure", **headers: str) -> Reply:
        return Reply(status=status, error=message, headers=headers)


class FakeOpenAI:
    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.arrived = threading.Event()
        self.release = threading.Event()
        fake = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(body)
                fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                fake.arrived.set()
                reply = fake.replies.popleft() if fake.replies else Reply.fail(
                    500, "no scripted reply left")
                if reply.hang is not None:
                    reply.hang.wait(30)
                if reply.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if reply.status == 200:
                    payload: dict[str, Any] = {
                        "id": f"chatcmpl-{len(fake.requests)}",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body.get("model", "test-model"),
                        "choices": [{
                            "index": 0, "finish_reason": "stop", "logprobs": None,
                            "message": {"role": "assistant", "content": reply.content,
                                        "refusal": None},
                        }],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1,
                                  "total_tokens": 2},
                    }
                else:
                    payload = {"error": {"message": reply.error, "type": "scripted",
                                         "code": None, "param": None}}
                data = json.dumps(payload).encode()
                with contextlib.suppress(OSError):  # the client gave up (a timeout test)
                    self.send_body(reply.status, "application/json", data,
                                   {k.replace("_", "-"): v for k, v in reply.headers.items()})

        self.server = LocalServer(Handler, name="fake-openai")

    @property
    def url(self) -> str:
        return self.server.base_url + "/v1"

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.release.set()
        for reply in self.replies:
            if reply.hang is not None:
                reply.hang.set()
        self.server.close(10)

    def user_messages(self, index: int = -1) -> list[str]:
        return [m["content"] for m in self.requests[index]["messages"] if m["role"] == "user"]
