"""Any OpenAI-compatible chat server: `openai:MODEL[@BASE_URL]` (OpenAI, vLLM, Ollama, llama.cpp, LM Studio).

    backend = load_backend("openai:gpt-4o-mini")                        # key from OPENAI_API_KEY
    backend = load_backend("openai:smollm@http://127.0.0.1:8000/v1")    # a local server, no key needed

The key comes from SOCRATIC_OPENAI_API_KEY or OPENAI_API_KEY only; it goes in the Authorization
header and nowhere else (never in logs or error messages). Transient failures (timeouts, connection
errors, 429 honouring Retry-After, 5xx) are retried with exponential backoff and jitter; other 4xx
fail at once with the server's message. n samples are n requests with seeds seed+i, because many
servers ignore `n`. Safe to call from many threads at once (the judge does).
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import random
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from socratic.backends.base import BackendError, GenerationOptions, cut_at_turn_end, stream_until_turn_end
from socratic.errors import SocraticError
from socratic.render import Message

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
KEY_VARIABLES = ("SOCRATIC_OPENAI_API_KEY", "OPENAI_API_KEY")
_RETRY_STATUS = {408, 409, 429}


def api_key_from_env() -> str | None:
    for name in KEY_VARIABLES:
        if os.environ.get(name):
            return os.environ[name]
    return None


def split_spec_argument(arg: str) -> tuple[str, str]:
    """'MODEL[@BASE_URL]' -> (model, base_url); the URL is recognised by its scheme, so a model may hold '@'."""
    model, at, url = arg.rpartition("@")
    if at and url.startswith(("http://", "https://")) and model:
        return model, url.rstrip("/")
    return arg, DEFAULT_BASE_URL


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (an integer/float) or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


class _Transient(Exception):
    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.wait = wait


class OpenAIBackend:
    """Chat completions over HTTP with retries; see the module docstring."""

    def __init__(self, model: str, base_url: str = DEFAULT_BASE_URL, *, spec: str | None = None,
                 api_key: str | None = None, timeout: float = 120.0, max_attempts: int = 6,
                 backoff: float = 1.0, max_backoff: float = 60.0, concurrency: int = 4,
                 supports_json_schema: bool = True):
        self.model, self.base_url = model, base_url.rstrip("/")
        self.spec = spec or (f"openai:{model}" if self.base_url == DEFAULT_BASE_URL
                             else f"openai:{model}@{self.base_url}")
        # A remote model can change behind the same name; the spec is the best identity we have.
        self.cache_id = self.spec
        self.supports_json_schema = supports_json_schema
        self.max_attempts, self.backoff, self.max_backoff = max(1, max_attempts), backoff, max_backoff
        self.concurrency = max(1, concurrency)
        key = api_key if api_key is not None else api_key_from_env()
        if not key and self.base_url == DEFAULT_BASE_URL:
            raise SocraticError(f"{self.spec} needs an API key: set OPENAI_API_KEY (or SOCRATIC_OPENAI_API_KEY)")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        # httpx.Client is safe to share between threads; its pool bounds the open connections.
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout,
                                    limits=httpx.Limits(max_connections=max(8, self.concurrency * 2)))
        self._sleep = time.sleep
        self._slots: threading.BoundedSemaphore | None = None  # see limit_in_flight
        self._rng = random.Random()
        self._rng_lock = threading.Lock()

    @classmethod
    def from_spec(cls, arg: str, *, spec: str | None = None, **kwargs: Any) -> OpenAIBackend:
        model, base_url = split_spec_argument(arg)
        return cls(model, base_url, spec=spec, **kwargs)

    def close(self) -> None:
        self._client.close()

    def limit_in_flight(self, concurrency: int) -> None:
        """At most `concurrency` requests open at once across all threads, and `generate` pools that wide.

        For callers that fetch several batches at once (socratic.backends.inflight); call it before any request.
        Without it each `generate` call has its own pool of `self.concurrency` threads and no shared limit.
        """
        self.concurrency = max(1, concurrency)
        self._slots = threading.BoundedSemaphore(self.concurrency)
        if self.concurrency * 2 > 8:  # the connection pool must not be the narrower limit
            old, self._client = self._client, httpx.Client(
                base_url=self.base_url, headers=self._client.headers, timeout=self._client.timeout,
                limits=httpx.Limits(max_connections=self.concurrency * 2))
            old.close()

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        if self._slots is None:
            return self._client.post("/chat/completions", json=body)
        with self._slots:  # held for the request only, not for a retry's back-off sleep
            return self._client.post("/chat/completions", json=body)

    # -- requests --------------------------------------------------------------------------------

    def payload(self, messages: Sequence[Message], options: GenerationOptions, seed: int | None,
                stream: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "max_tokens": options.max_new_tokens,
            "temperature": 0.0 if options.greedy else options.temperature,
            "top_p": 1.0 if options.greedy else options.top_p,
        }
        if seed is not None:
            body["seed"] = seed
        if options.json_schema is not None and self.supports_json_schema:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "reply", "schema": options.json_schema,
                                                       "strict": True}}
        if stream:
            body["stream"] = True
        return body

    def _backoff(self, attempt: int, hinted: float | None) -> float:
        if hinted is not None:
            return min(hinted, self.max_backoff)
        with self._rng_lock:
            jitter = self._rng.uniform(0, 1)
        return min(self.max_backoff, self.backoff * (2 ** attempt) * (0.5 + jitter))

    def _with_retries(self, call):
        last = ""
        for attempt in range(self.max_attempts):
            try:
                return call()
            except _Transient as problem:
                last = str(problem)
                if attempt + 1 == self.max_attempts:
                    break
                wait = self._backoff(attempt, problem.wait)
                log.warning("%s: %s; retry %d/%d in %.1fs", self.spec, last, attempt + 1,
                            self.max_attempts - 1, wait)
                self._sleep(wait)
        raise BackendError(f"{self.spec}: gave up after {self.max_attempts} attempts; last error: {last}")

    def _check(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        if status in _RETRY_STATUS or status >= 500:
            raise _Transient(f"HTTP {status}", retry_after_seconds(response.headers.get("retry-after")))
        raise BackendError(f"{self.spec}: HTTP {status}: {_server_message(response)}")

    def complete(self, messages: Sequence[Message], options: GenerationOptions, seed: int | None) -> str:
        """One reply (one request, retried when the failure is transient)."""
        body = self.payload(messages, options, seed)

        def call() -> str:
            try:
                response = self._post(body)
            except httpx.TimeoutException as error:
                raise _Transient(f"timeout ({type(error).__name__})") from error
            except httpx.TransportError as error:
                raise _Transient(f"connection error ({type(error).__name__})") from error
            self._check(response)
            try:
                content = response.json()["choices"][0]["message"]["content"]
            except (ValueError, KeyError, IndexError, TypeError) as error:
                raise BackendError(f"{self.spec}: unexpected response: {response.text[:300]}") from error
            return content or ""

        text = self._with_retries(call)
        # Structured output is the whole answer; free text is cut at a new speaker's turn.
        return text if options.json_schema is not None else cut_at_turn_end(text)

    def generate(self, conversations: Sequence[list[Message]], options: GenerationOptions) -> list[list[str]]:
        jobs = [(c, options.seed + i if options.seed is not None else None)
                for c in conversations for i in range(options.n)]
        if len(jobs) <= 1 or self.concurrency == 1:
            flat = [self.complete(c, options, seed) for c, seed in jobs]
        else:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(jobs))) as pool:
                flat = list(pool.map(lambda job: self.complete(job[0], options, job[1]), jobs))
        return [flat[k * options.n:(k + 1) * options.n] for k in range(len(conversations))]

    def stream(self, messages: list[Message], options: GenerationOptions) -> Iterator[str]:
        """Server-sent events, piece by piece; retried only until the first byte of the reply arrives."""
        body = self.payload(messages, options, options.seed, stream=True)

        def open_stream():
            request = self._client.build_request("POST", "/chat/completions", json=body)
            try:
                response = self._client.send(request, stream=True)
            except httpx.TimeoutException as error:
                raise _Transient(f"timeout ({type(error).__name__})") from error
            except httpx.TransportError as error:
                raise _Transient(f"connection error ({type(error).__name__})") from error
            if response.status_code >= 400:
                response.read()
                response.close()
            self._check(response)
            return response

        response = self._with_retries(open_stream)
        try:
            pieces = _sse_content(response.iter_lines())
            if options.json_schema is not None:
                yield from pieces
            else:
                yield from stream_until_turn_end(pieces)
        except httpx.HTTPError as error:
            raise BackendError(f"{self.spec}: the stream broke off: {type(error).__name__}") from error
        finally:
            response.close()


def _sse_content(lines: Iterator[str]) -> Iterator[str]:
    """The content deltas of an OpenAI SSE stream (`data: {json}` lines, ending with `data: [DONE]`)."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            chunk = json.loads(data)
        except ValueError:
            continue
        if chunk.get("error"):
            raise BackendError(f"the server reported an error mid-stream: {chunk['error']}")
        for choice in chunk.get("choices") or []:
            piece = (choice.get("delta") or {}).get("content")
            if piece:
                yield piece


def _server_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if error:
            return str(error)
    except (ValueError, AttributeError):
        pass
    return response.text[:300] or response.reason_phrase
