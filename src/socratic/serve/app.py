"""The OpenAI-compatible tutor server: `/v1/chat/completions` (streaming and not), `/v1/models`,
`/health`, and `/`, a static chat page.

    socratic serve --model embedded            # then open http://127.0.0.1:8000/
    SOCRATIC_API_KEY=... socratic serve --model hf:runs/x/train/mathdial --host 0.0.0.0

`create_app(backend, config)` builds the FastAPI app around any backend (tests pass a FakeBackend);
`run(config)` loads the model and serves it with uvicorn. The tutor system prompt is prepended
unless a request brings its own system message. Requests are bounded (body size, prompt size in
characters and in the model's tokens, max_tokens, JSON depth, concurrency + waiting queue -> 503), a
request for another model is a 404, and a client that disconnects stops its generation. With
SOCRATIC_API_KEY set every /v1 route wants `Authorization: Bearer <key>`. One log line per request,
without contents or keys.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from socratic.backends import Backend, GenerationOptions, context_length, count_tokens, prompt_tokens
from socratic.errors import SocraticError
from socratic.render import Message, load_system_prompt, system_message
from socratic.serve.batcher import StreamBatcher, can_batch
from socratic.serve.config import ServeConfig
from socratic.serve.generations import Busy, Generation, Limiter, StopScanner
from socratic.serve.schemas import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    Delta,
    ModelCard,
    ModelList,
    ResponseMessage,
    Usage,
    completion_id,
    error_body,
    now,
)

log = logging.getLogger("socratic.serve")

API_KEY_ENV = "SOCRATIC_API_KEY"
# The prefills kept for the next turns of recent conversations: ~11,600 tokens of the embedded model in fp32.
SERVE_PREFIX_BYTES = 512 << 20


class ApiError(Exception):
    """An error answered in OpenAI's JSON shape."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", *,
                 param: str | None = None, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type_, param, code
        self.headers = headers

    def response(self) -> JSONResponse:
        body = error_body(self.message, self.type, param=self.param, code=self.code)
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def create_app(backend: Backend, config: ServeConfig | None = None, *, api_key: str | None = None) -> FastAPI:
    """The server app around `backend`. `api_key` (when not None/empty) turns on bearer-token checks."""
    config = config or ServeConfig(model=backend.spec)
    if config.max_concurrency > 1 and can_batch(backend):
        backend = StreamBatcher(backend, max_batch=config.max_concurrency)
    tutor_prompt = load_system_prompt(config.system_prompt)
    model_name = config.served_model_name or backend.spec
    served_names = {model_name, backend.spec}
    created = now()
    expected_key = api_key.encode() if api_key else None
    executor = ThreadPoolExecutor(max_workers=config.max_concurrency, thread_name_prefix="socratic-gen")
    state: dict[str, Limiter] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        state["limiter"] = Limiter(config.max_concurrency, config.queue_size, config.queue_timeout_s)
        yield
        executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="socratic tutor", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.add_middleware(_RequestLog)

    def limiter() -> Limiter:
        if "limiter" not in state:  # an app used without its lifespan (some test clients)
            state["limiter"] = Limiter(config.max_concurrency, config.queue_size, config.queue_timeout_s)
        return state["limiter"]

    def check_key(request: Request) -> None:
        if expected_key is None:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        # compare_digest takes constant time whatever the mismatch; the key is never logged.
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected_key):
            raise ApiError(401, "missing or invalid API key: send 'Authorization: Bearer <key>'",
                           code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, error: ApiError) -> JSONResponse:
        return error.response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        return ApiError(error.status_code, str(error.detail), headers=getattr(error, "headers", None)).response()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        page = resources.files("socratic.serve").joinpath("static/index.html").read_text("utf-8")
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    @app.get("/health")
    async def health() -> dict:
        lim = limiter()
        return {"status": "ok", "model": model_name, "auth_required": expected_key is not None,
                "active": lim.active, "waiting": lim.waiting, "max_tokens_limit": config.max_tokens_limit}

    @app.get("/v1/models")
    async def models(request: Request) -> ModelList:
        check_key(request)
        return ModelList(data=[ModelCard(id=model_name, created=created)])

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        check_key(request)
        chat = _parse_request(await _read_body(request, config.max_body_bytes))
        if chat.model is not None and chat.model not in served_names:
            # Answering under the requested name would claim a model this server does not have. The
            # name is not echoed back: a confused client may have put a secret there.
            raise ApiError(404, f"this server serves one model, {model_name!r}: ask for it, or leave out "
                                "'model'", param="model", code="model_not_found")
        messages, options = _prepare(chat, config, tutor_prompt)
        # Tokenizing 60,000 characters takes ~40 ms: off the event loop, which serves every other client.
        options = await asyncio.to_thread(_fit_context, backend, messages, options,
                                          explicit=chat.requested_max_tokens() is not None)
        lim = limiter()
        try:
            await lim.acquire()
        except Busy:
            raise ApiError(503, "the server is busy: all workers and the waiting queue are full; retry later",
                           "server_busy", code="server_busy", headers={"Retry-After": "5"}) from None
        generation = Generation(backend, messages, options, executor, on_done=lim.release)
        reply_id, model = completion_id(), model_name
        if chat.stream:
            include_usage = bool(chat.stream_options and chat.stream_options.include_usage)
            events = _sse_events(generation, chat.stop, reply_id, model, include_usage, backend, messages, options)
            return StreamingResponse(events, media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        scanner, parts = StopScanner(chat.stop), []
        # A streamed response notices a client that left when it writes to it; this one writes once, at
        # the end, so it watches for the disconnect meanwhile and stops the generation then.
        watcher = asyncio.create_task(_cancel_when_gone(request, generation))
        try:
            async for piece in generation.pieces():
                parts.append(scanner.feed(piece))
                if scanner.stopped:
                    break
        except Exception as error:  # noqa: BLE001 - the worker re-raises whatever the backend raised
            log.error("generation failed: %s", type(error).__name__)
            raise ApiError(500, f"generation failed: {type(error).__name__}", "server_error") from None
        finally:
            watcher.cancel()
        text = ("".join(parts) + scanner.flush()).rstrip()
        usage = _usage(backend, messages, text)
        return ChatCompletion(id=reply_id, created=now(), model=model, usage=usage, choices=[Choice(
            message=ResponseMessage(content=text), finish_reason=_finish(scanner, usage, options))])

    return app


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) anything over `limit` bytes before reading it all."""
    too_large = ApiError(413, f"request body over the limit of {limit} bytes", code="body_too_large")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


async def _cancel_when_gone(request: Request, generation: Generation, every_s: float = 0.2) -> None:
    while not await request.is_disconnected():
        await asyncio.sleep(every_s)
    generation.cancel.set()  # the worker stops at its next piece and gives its slot back


def _parse_request(body: bytes) -> ChatCompletionRequest:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, f"the request body is not valid JSON: {error}", code="invalid_json") from None
    except RecursionError:  # "[[[[..." 100k deep: the parser's recursion, not a server fault
        raise ApiError(400, "the request body is nested too deeply", code="invalid_json") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the request body must be a JSON object", code="invalid_json")
    try:
        return ChatCompletionRequest.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors())
        first = error.errors()[0]["loc"]
        raise ApiError(422, f"invalid request: {problems}", param=str(first[0]) if first else None,
                       code="invalid_request") from None


def _prepare(chat: ChatCompletionRequest, config: ServeConfig, tutor_prompt: str) -> tuple[list[Message],
                                                                                            GenerationOptions]:
    """The backend's messages (tutor prompt prepended unless the client sent a system message) and options."""
    max_tokens = chat.requested_max_tokens() or config.default_max_tokens
    if max_tokens > config.max_tokens_limit:
        raise ApiError(400, f"max_tokens={max_tokens} is over this server's limit of {config.max_tokens_limit}",
                       param="max_tokens", code="max_tokens_exceeded")
    messages: list[Message] = [m.as_message() for m in chat.messages]  # type: ignore[misc]
    if not any(m["role"] == "system" for m in messages):
        messages.insert(0, system_message(chat.context or "", tutor_prompt, chat.answer_key))
    if sum(len(m["content"]) for m in messages) > config.max_prompt_chars:
        raise ApiError(400, f"the conversation is over this server's limit of {config.max_prompt_chars} characters",
                       param="messages", code="context_too_long")
    temperature = config.default_temperature if chat.temperature is None else chat.temperature
    options = GenerationOptions(max_new_tokens=max_tokens, temperature=temperature, top_p=chat.top_p or 1.0,
                                greedy=temperature == 0.0, n=1, seed=chat.seed)
    return messages, options


def _fit_context(backend: Backend, messages: list[Message], options: GenerationOptions, *,
                 explicit: bool) -> GenerationOptions:
    """Refuse (400) a prompt that, in the model's own tokens, leaves no room for the reply: prompt +
    max_tokens over the model's context. A default max_tokens (not asked for) shrinks to what fits."""
    window = context_length(backend)
    prompt = prompt_tokens(backend, messages) if window else None
    if window is None or prompt is None or prompt + options.max_new_tokens <= window:
        return options
    if prompt < window and not explicit:
        return options.model_copy(update={"max_new_tokens": window - prompt})
    if prompt >= window:
        message = f"the conversation is {prompt} tokens; this model's context is {window} tokens"
    else:
        message = (f"the conversation ({prompt} tokens) plus max_tokens={options.max_new_tokens} is over this "
                   f"model's context of {window} tokens: shorten the conversation or lower max_tokens")
    raise ApiError(400, message, param="messages", code="context_length_exceeded")


def _usage(backend: Backend, messages: list[Message], text: str) -> Usage | None:
    completion = count_tokens(backend, text)
    prompt = count_tokens(backend, "\n".join(m["content"] for m in messages))
    if completion is None or prompt is None:
        return None
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


def _finish(scanner: StopScanner, usage: Usage | None, options: GenerationOptions) -> str:
    if not scanner.stopped and usage is not None and usage.completion_tokens >= options.max_new_tokens:
        return "length"
    return "stop"


async def _sse_events(generation: Generation, stops: list[str], reply_id: str, model: str, include_usage: bool,
                      backend: Backend, messages: list[Message], options: GenerationOptions):
    """Server-sent events the way OpenAI streams: role chunk, content chunks, finish chunk, [DONE]."""

    def event(delta: Delta, finish: str | None = None, usage: Usage | None = None, choices: bool = True) -> str:
        chunk = ChatCompletionChunk(id=reply_id, created=now(), model=model, usage=usage,
                                    choices=[ChunkChoice(delta=delta, finish_reason=finish)] if choices else [])
        return f"data: {chunk.model_dump_json(exclude_none=True)}\n\n"

    scanner, parts = StopScanner(stops), []
    yield event(Delta(role="assistant", content=""))
    try:
        async for piece in generation.pieces():
            text = scanner.feed(piece)
            if text:
                parts.append(text)
                yield event(Delta(content=text))
            if scanner.stopped:
                break
        if rest := scanner.flush():
            parts.append(rest)
            yield event(Delta(content=rest))
    except Exception as error:  # noqa: BLE001 - headers are sent: report it as an error event
        log.error("generation failed: %s", type(error).__name__)
        body = error_body(f"generation failed: {type(error).__name__}", "server_error")
        yield f"data: {json.dumps(body)}\n\n"
        yield "data: [DONE]\n\n"
        return
    usage = _usage(backend, messages, "".join(parts))
    yield event(Delta(), finish=_finish(scanner, usage, options))
    if include_usage and usage is not None:
        yield event(Delta(), usage=usage, choices=False)
    yield "data: [DONE]\n\n"


class _RequestLog:
    """One access-log line per request when its response is complete: no bodies, headers or keys."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), [0]

        async def send_logged(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            client = scope.get("client") or ("-", 0)
            log.info("%s %s %s %d %.0fms", client[0], scope["method"], scope["path"], status[0],
                     (time.perf_counter() - start) * 1000)


def run(config: ServeConfig) -> None:
    """Load the model, then serve until interrupted."""
    import uvicorn

    from socratic.backends import load_backend
    from socratic.backends.prefixes import reusing_prefixes

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    api_key = os.environ.get(API_KEY_ENV) or None
    if config.host not in {"127.0.0.1", "localhost", "::1"} and api_key is None:
        log.warning("serving on %s without an API key: anyone who can reach it can use it (set %s)",
                    config.host, API_KEY_ENV)
    # The port first: a busy one is one line before the model is loaded, not after "serving ...".
    listening = listen(config.host, config.port)
    backend = load_backend(config.model)
    app = create_app(backend, config, api_key=api_key)
    log.info("serving %s on http://%s:%d/ (auth %s)", config.served_model_name or backend.spec, config.host,
             config.port, "on" if api_key else "off")
    server = uvicorn.Server(uvicorn.Config(app, host=config.host, port=config.port, access_log=False,
                                           log_level="info"))
    # A client sends the whole conversation each turn: the prefills of recent prompts are kept, so a turn
    # that extends one prefills only its new messages.
    with reusing_prefixes(backend, SERVE_PREFIX_BYTES):
        server.run(sockets=[listening])


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (as uvicorn binds one), or a SocraticError naming the port when it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise SocraticError(f"--port {port}: cannot listen on {host}:{port} ({error.strerror}); another server may "
                            "be using it: stop it or choose another --port") from None
    sock.set_inheritable(True)
    return sock
