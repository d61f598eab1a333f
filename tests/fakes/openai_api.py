"""A local stand-in for an OpenAI-compatible chat server, for the real `openai` client to call.

A stdlib `ThreadingHTTPServer` on 127.0.0.1 (port 0) in a daemon thread, so both the sync
`OpenAI` client (which would deadlock against a server on the test's own event loop) and
`AsyncOpenAI` can use it. Point a client at it with
`OpenAI(base_url=fake.base_url, api_key="x", max_retries=0, timeout=0.5)`; respx cannot stand in
because openai 3.x sends through httpx2, not httpx.

Serves `POST /v1/chat/completions` (also streamed, as server-sent events, when `stream` is true)
and `GET /v1/models`; anything else gets OpenAI's 404 error body. Each completion answers with the
next scripted `Reply` -- a tool call (arguments as a JSON string, or deliberately malformed text),
content, JSON content, a refusal, a `length` cut, an HTTP error with OpenAI's error body, or a
delay longer than the client's timeout -- and, once the script is used up, with
`default(request_body)`. Without a default the fake answers 500 and says the script ran out, so a
test never passes on an answer nobody scripted. A request without `model` or `messages` gets
OpenAI's 400, a wrong key 401 when `api_key` is set.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = [
    "FakeOpenAI",
    "RecordedRequest",
    "Reply",
    "error_reply",
    "json_reply",
    "length_reply",
    "refusal_reply",
    "slow_reply",
    "text_reply",
    "tool_call_reply",
]

_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}


@dataclass(frozen=True)
class Reply:
    """One scripted answer; build it with the `*_reply` functions of this module.

    Attributes:
        content: The assistant message's content (None for tool calls and refusals).
        tool_calls: (function name, arguments text) pairs, sent as `tool_calls`.
        refusal: The message's `refusal`.
        finish_reason: `stop`, `tool_calls`, `length`...
        status: The HTTP status; not 2xx means `error_message` in OpenAI's error body.
        error_message: The error body's `message`.
        delay_s: Seconds to wait before answering (released at once when the fake stops).
    """

    content: str | None = None
    tool_calls: tuple[tuple[str, str], ...] = ()
    refusal: str | None = None
    finish_reason: str = "stop"
    status: int = 200
    error_message: str = ""
    delay_s: float = 0.0


def text_reply(content: str) -> Reply:
    """Plain assistant content."""
    return Reply(content=content)


def json_reply(value: Any) -> Reply:
    """Content holding `value` as JSON, as a model answers a `json_schema` response_format."""
    return Reply(content=json.dumps(value))


def tool_call_reply(name: str, arguments: Mapping[str, Any] | str) -> Reply:
    """A call of tool `name`; a string is sent verbatim, so it can be malformed on purpose."""
    text = arguments if isinstance(arguments, str) else json.dumps(dict(arguments))
    return Reply(tool_calls=((name, text),), finish_reason="tool_calls")


def refusal_reply(refusal: str = "I can't help with that.") -> Reply:
    """A refusal: `content` null, `refusal` set (what `parse()` reports as `message.refusal`)."""
    return Reply(refusal=refusal)


def length_reply(partial: str = '{"intent": "bu') -> Reply:
    """Output cut at the token limit (`finish_reason` "length")."""
    return Reply(content=partial, finish_reason="length")


def error_reply(status: int = 429, message: str = "") -> Reply:
    """An HTTP error in OpenAI's error body (429: RateLimitError, 500: InternalServerError)."""
    default = "Rate limit reached for requests" if status == 429 else f"fake error {status}"
    return Reply(status=status, error_message=message or default)


def slow_reply(delay_s: float, then: Reply | None = None) -> Reply:
    """`then` (default: some content) after `delay_s` seconds -- longer than a client's timeout."""
    return dataclasses.replace(then or text_reply("too late"), delay_s=delay_s)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received: path with query, `Authorization` header, parsed JSON body."""

    method: str
    path: str
    authorization: str | None
    body: Any


def _error_body(status: int, message: str) -> dict[str, Any]:
    kind, code = _ERROR_TYPES.get(status, ("api_error", None))
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _tokens(value: Any) -> int:
    return len(json.dumps(value).split()) if value is not None else 0


@dataclass
class FakeOpenAI:
    """The chat completions API on 127.0.0.1; use `with FakeOpenAI() as llm:`.

    Attributes:
        model: The model `GET /v1/models` lists.
        api_key: When set, requests must carry `Authorization: Bearer <api_key>`.
        default: Answers a completion once the script is used up (given the request body).
        requests: Every request received, in order.
    """

    model: str = "fake-model"
    api_key: str | None = None
    default: Callable[[dict[str, Any]], Reply] | None = None
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._serve(self, "GET")

            def do_POST(self) -> None:
                fake._serve(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            # A short poll interval keeps `stop()` (which waits for the loop) in milliseconds.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-openai",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release delayed answers, stop serving and close the socket."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>/v1`, for the client's `base_url` (or `OPENAI_BASE_URL`)."""
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, *replies: Reply) -> None:
        """Queue answers for the next completions, in order."""
        with self._lock:
            self._script.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted answers not used yet."""
        with self._lock:
            return len(self._script)

    def completions(self) -> list[dict[str, Any]]:
        """The bodies of the chat completion requests received."""
        with self._lock:
            return [r.body for r in self.requests if r.path.startswith("/v1/chat/completions")]

    # -- serving (in the server's threads) -------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        authorization = handler.headers.get("Authorization")
        with self._lock:
            self.requests.append(RecordedRequest(method, handler.path, authorization, body))
        # A client that gave up (its timeout) has closed the connection: nothing to answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._answer(handler, method, handler.path.split("?", 1)[0], authorization, body)

    def _answer(
        self,
        handler: BaseHTTPRequestHandler,
        method: str,
        path: str,
        authorization: str | None,
        body: Any,
    ) -> None:
        if self.api_key is not None and authorization != f"Bearer {self.api_key}":
            message = "Incorrect API key provided. You can find your API key in your settings."
            self._send_json(handler, 401, _error_body(401, message))
        elif (method, path) == ("GET", "/v1/models"):
            model = {"id": self.model, "object": "model", "created": 0, "owned_by": "fake"}
            self._send_json(handler, 200, {"object": "list", "data": [model]})
        elif (method, path) == ("POST", "/v1/chat/completions"):
            self._complete(handler, body)
        else:
            message = f"Invalid URL ({method} {path})"
            self._send_json(handler, 404, _error_body(404, message))

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._script:
                return self._script.pop(0)
        if self.default is None:
            return error_reply(500, "fake OpenAI: no scripted reply left and no default")
        return self.default(body)

    def _complete(self, handler: BaseHTTPRequestHandler, body: Any) -> None:
        if not isinstance(body, dict) or not body.get("model"):
            message = "you must provide a model parameter"
            self._send_json(handler, 400, _error_body(400, message))
            return
        if not body.get("messages"):
            message = "'messages' is a required property"
            self._send_json(handler, 400, _error_body(400, message))
            return
        reply = self._next_reply(body)
        if reply.delay_s and self._stopping.wait(reply.delay_s):
            return  # the fake is stopping: drop the connection unanswered
        if reply.status >= 300:
            self._send_json(handler, reply.status, _error_body(reply.status, reply.error_message))
        elif body.get("stream"):
            self._send_stream(handler, body, reply)
        else:
            self._send_json(handler, 200, self._completion(body, reply))

    def _message(self, reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        message["refusal"] = reply.refusal
        if reply.tool_calls:
            message["tool_calls"] = [
                {"id": f"call_{next(self._ids)}", "type": "function"}
                | {"function": {"name": name, "arguments": arguments}}
                for name, arguments in reply.tool_calls
            ]
        return message

    def _completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        message = self._message(reply)
        choice = {"index": 0, "message": message, "finish_reason": reply.finish_reason}
        prompt = _tokens(body.get("messages"))
        completion = _tokens(message.get("content")) + _tokens(message.get("tool_calls"))
        return {
            "id": f"chatcmpl-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "system_fingerprint": "fp_fake",
            "choices": [choice | {"logprobs": None}],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }

    def _chunks(self, body: dict[str, Any], reply: Reply) -> Iterator[dict[str, Any]]:
        base: dict[str, Any] = {"id": f"chatcmpl-{next(self._ids)}"}
        base["object"] = "chat.completion.chunk"
        base |= {"created": int(time.time()), "model": body["model"]}
        delta = self._message(reply)
        if "tool_calls" in delta:
            delta["tool_calls"] = [{"index": i} | c for i, c in enumerate(delta["tool_calls"])]
        yield base | {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        yield base | {"choices": [{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}]}

    def _send_stream(
        self, handler: BaseHTTPRequestHandler, body: dict[str, Any], reply: Reply
    ) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        frames = [f"data: {json.dumps(chunk)}\n\n" for chunk in self._chunks(body, reply)]
        handler.wfile.write(("".join(frames) + "data: [DONE]\n\n").encode())

    def _send_json(self, handler: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("x-request-id", f"req_{next(self._ids)}")
        handler.end_headers()
        handler.wfile.write(data)
