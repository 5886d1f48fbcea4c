"""Structured answers from an OpenAI-compatible server through the official `openai` client.

Every answer is held to a JSON Schema (structured outputs, strict mode) and then checked
again by our own validator; an answer that fails is sent back once with the problems, and
refused if it fails again. HTTP failures become `AIUnavailable` with a specific message.
Requests run on a helper thread so that a cancelled task returns at once.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .config import AIConfig
from .errors import AIError, AIRefused, AIUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
Messages = list[dict[str, str]]
_POLL_S = 0.05
MAX_ANSWER_CHARS = 200_000

REPAIR = (
    "Your answer breaks the required format: {problems}. Answer again with a corrected "
    "JSON object in the same schema. Change only what the problems require."
)


class Cancelled(AIError):
    """The user cancelled the request."""


class AnswerProblem(ValueError):
    """An answer that breaks the contract; the message is sent back to the model."""


def _base(config: AIConfig) -> str:
    return config.base_url or "https://api.openai.com/v1"


def explain(exc: BaseException, config: AIConfig) -> AIUnavailable | AIRefused:
    """A clear, specific message for each way a request can fail."""
    import openai

    where = _base(config)
    if isinstance(exc, openai.APITimeoutError):
        return AIUnavailable(
            f"The AI server at {where} did not answer within {config.timeout_s:g} seconds "
            "(timeout).")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        detail = f": {type(cause).__name__}" if cause else ""
        return AIUnavailable(
            f"Cannot reach the AI server at {where} (connection failed{detail}). Check the "
            "network and the base URL in Settings.")
    if isinstance(exc, openai.AuthenticationError):
        return AIUnavailable(
            "The AI server refused the API key (401 Unauthorized). Enter a valid key in "
            "Settings → AI assistant, or set OPENAI_API_KEY.")
    if isinstance(exc, openai.PermissionDeniedError):
        return AIUnavailable(
            f"The API key may not use model {config.model!r} (403 Forbidden).")
    if isinstance(exc, openai.RateLimitError):
        return AIUnavailable(
            "The AI server's rate limit or quota is exhausted (429 Too Many Requests); "
            "wait a minute or check the account's quota.")
    if isinstance(exc, openai.NotFoundError):
        return AIUnavailable(
            f"The AI server has no model {config.model!r} or the base URL is wrong "
            "(404 Not Found). Check both in Settings.")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status >= 500:
            return AIUnavailable(
                f"The AI server had an internal error (HTTP {status}); try again later.")
        return AIUnavailable(
            f"The AI server refused the request (HTTP {status}): {_short(exc.message)}")
    if isinstance(exc, openai.LengthFinishReasonError | openai.ContentFilterFinishReasonError):
        return AIRefused("The model stopped before finishing its answer; nothing was used.")
    return AIUnavailable(f"The AI request failed: {type(exc).__name__}: {_short(str(exc))}")


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ModelClient:
    """One conversation's worth of requests to the configured server."""

    def __init__(self, config: AIConfig, cancelled: Callable[[], bool] | None = None) -> None:
        if not config.api_key:
            raise AIUnavailable("No API key is set (Settings → AI assistant, or OPENAI_API_KEY).")
        self.config = config
        self.cancelled = cancelled or (lambda: False)
        # Imported here, not at the top: the client library takes ~0.35 s to import, and
        # the app and every CLI command would pay for it at start-up.
        import openai

        self._client = openai.OpenAI(
            api_key=config.api_key,
            base_url=config.base_url or None,
            timeout=config.timeout_s,
            max_retries=config.retries,
        )

    def close(self) -> None:
        self._client.close()

    def complete(self, messages: Messages, name: str, schema: dict[str, Any]) -> str:
        """The text of one structured answer."""
        # Plain dicts: the client's TypedDicts describe exactly these shapes.
        conversation: Any = messages
        response_format: Any = {
            "type": "json_schema",
            "json_schema": {"name": name, "strict": True, "schema": schema},
        }

        def request() -> str:
            response = self._client.chat.completions.create(
                # No temperature: reasoning models refuse one; the schema constrains enough.
                model=self.config.model, messages=conversation,
                response_format=response_format,
            )
            if not response.choices:
                raise AnswerProblem("the answer has no choices")
            choice = response.choices[0]
            refusal = getattr(choice.message, "refusal", None)
            if refusal:
                raise AIRefused(f"The model declined: {_short(refusal)}")
            return choice.message.content or ""

        import openai

        try:
            return self._run(request)
        except (AIError, AnswerProblem):
            raise
        except openai.OpenAIError as exc:
            log.info("AI request failed: %s", type(exc).__name__)
            raise explain(exc, self.config) from None

    def _run(self, fn: Callable[[], T]) -> T:
        """Run `fn` on a helper thread; return early (Cancelled) when the task is cancelled."""
        box: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:  # handed to the waiting thread
                box["error"] = exc
            finally:
                done.set()

        if self.cancelled():
            raise Cancelled("cancelled")
        threading.Thread(target=work, name="minicrm-ai-request", daemon=True).start()
        while not done.wait(_POLL_S):
            if self.cancelled():
                self.close()  # drops the connection; the helper thread ends with an error
                raise Cancelled("cancelled")
        if "error" in box:
            raise box["error"]
        value: T = box["value"]
        return value


def ask_structured(
    config: AIConfig,
    messages: Messages,
    name: str,
    schema: dict[str, Any],
    validate: Callable[[Any], T],
    cancelled: Callable[[], bool] | None = None,
) -> T:
    """Ask for a JSON answer in `schema`, check it with `validate` (raising AnswerProblem),
    send the problems back once, and refuse if the second answer breaks the contract too."""
    client = ModelClient(config, cancelled)
    try:
        conversation = list(messages)
        problems = ""
        for attempt in (1, 2):
            content = client.complete(conversation, name, schema)
            try:
                if len(content) > MAX_ANSWER_CHARS:
                    raise AnswerProblem(f"the answer is longer than {MAX_ANSWER_CHARS} characters")
                try:
                    data = json.loads(content)
                except json.JSONDecodeError as exc:
                    raise AnswerProblem(f"not valid JSON ({exc.msg} at character {exc.pos})") \
                        from None
                return validate(data)
            except AnswerProblem as exc:
                problems = str(exc)
                log.info("AI answer %d broke the contract: %s", attempt, problems)
            conversation += [
                {"role": "assistant", "content": content[:20_000]},
                {"role": "user", "content": REPAIR.format(problems=problems)},
            ]
        raise AIRefused(
            f"The model's answer broke the contract twice, so it was not used: {_short(problems)}")
    finally:
        client.close()
