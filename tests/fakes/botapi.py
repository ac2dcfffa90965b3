"""A fake Telegram Bot API server on real loopback HTTP, for tests.

It speaks HTTP/1.1 (h11 over an anyio listener on ``127.0.0.1:<free port>``) at
``POST /bot<token>/<method>`` with form, JSON or multipart bodies, like the real API, so
python-telegram-bot's ``telegram.Bot`` (or any HTTP client, or a subprocess) talks to it
unchanged. Point a client at :attr:`FakeBotApi.base_url` (the API root: append ``/bot``
for ``telegram.Bot(base_url=...)``).

Hosting: ``async with api.serving():`` runs it in the test's own event loop (asyncio or
trio; on trio's virtual clock a long poll or a scripted delay costs no real time), and
``with api.serving_in_thread():`` runs it on an event loop in a background thread, for
tests whose client is a subprocess.

Methods: getMe, getUpdates (long polling over :meth:`push_update`), sendMessage,
editMessageText, sendChatAction, answerCallbackQuery, setMyCommands, deleteWebhook;
:meth:`handle` adds or replaces one. ``sendMessage`` and ``editMessageText`` with
``parse_mode=MarkdownV2`` check the entity syntax (reserved characters must be escaped,
entities closed) and answer Telegram's own 400 ``Bad Request: can't parse entities: ...``.
The message length check (4096 UTF-16 units) is applied to the text as sent, which is
stricter than Telegram (it counts the text after parsing).

Every request is recorded in :attr:`calls`; :meth:`fail` scripts failures (429 with
``retry_after``, 403, 400, 5xx, a dropped connection, a delay).
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.abc
import anyio.from_thread
import h11

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijkl"
TELEGRAM_TEXT_LIMIT = 4096


@dataclass(frozen=True)
class BotApiCall:
    """One request as the server received it. ``params`` holds the raw field strings
    (python-telegram-bot sends strings as-is and everything else JSON-encoded);
    ``at`` is ``anyio.current_time()`` of the server's loop when it arrived."""

    method: str
    params: dict[str, str]
    at: float
    files: dict[str, bytes] = field(default_factory=dict)

    def json(self, name: str) -> Any:
        """The field ``name`` decoded as JSON (``chat_id`` -> int, ``reply_markup`` -> dict)."""
        return json.loads(self.params[name])


@dataclass(frozen=True)
class Failure:
    """A scripted answer that replaces the next normal answer of one method."""

    status: int = 400
    description: str = "Bad Request: scripted failure"
    parameters: dict[str, Any] = field(default_factory=dict)
    disconnect: bool = False  # close the connection without answering
    delay: float = 0.0  # seconds to wait before answering (or before disconnecting)


class BotApiError(Exception):
    """Raised by a method handler to answer with an API error."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


Handler = Callable[[BotApiCall], Awaitable[Any]]


class FakeBotApi:
    """The fake server. ``chats``, when given, is the set of chat ids that exist; a send
    to any other chat is answered ``400 Bad Request: chat not found``."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        username: str = "odek_test_bot",
        chats: Iterable[int] | None = None,
    ) -> None:
        self.token = token
        self.bot_user = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": "odek test",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.chats = None if chats is None else set(chats)
        self.calls: list[BotApiCall] = []
        self.commands: list[dict[str, Any]] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.port = 0
        self._failures: dict[str, deque[Failure | None]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._updates_arrived: anyio.Event | None = None
        self._calls_arrived: anyio.Event | None = None
        self._loop_thread: int | None = None
        self._portal: anyio.from_thread.BlockingPortal | None = None
        self._handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "sendChatAction": self._true,
            "answerCallbackQuery": self._true,
            "setMyCommands": self._set_my_commands,
            "deleteWebhook": self._true,
        }

    # --- test-facing API -----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API root, e.g. ``http://127.0.0.1:41234`` (clients append ``/bot<token>``)."""
        if not self.port:
            raise RuntimeError("the fake Bot API server is not running")
        return f"http://127.0.0.1:{self.port}"

    def calls_to(self, method: str) -> list[BotApiCall]:
        """The recorded requests to ``method``, oldest first."""
        return [c for c in self.calls if c.method == method]

    def fail(
        self,
        method: str,
        *,
        status: int = 400,
        description: str | None = None,
        retry_after: int | None = None,
        disconnect: bool = False,
        delay: float = 0.0,
        times: int = 1,
        after: int = 0,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """Answer ``times`` calls of ``method`` with an error instead of normally, starting
        after ``after`` more normal answers. ``retry_after`` sets ``parameters.retry_after``
        (use with ``status=429``), ``migrate_to_chat_id`` the supergroup a chat became."""
        if description is None:
            description = _DEFAULT_DESCRIPTIONS.get(status, "Bad Request: scripted failure")
            if retry_after is not None:
                description = f"Too Many Requests: retry after {retry_after}"
        parameters: dict[str, Any] = {}
        if retry_after is not None:
            parameters["retry_after"] = retry_after
        if migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = migrate_to_chat_id
        failure = Failure(status, description, parameters, disconnect, delay)
        self._failures.setdefault(method, deque()).extend([None] * after + [failure] * times)

    def handle(self, method: str, handler: Handler) -> None:
        """Serve ``method`` with ``handler`` (an async function of the call that returns the
        ``result`` or raises :class:`BotApiError`); replaces a built-in one."""
        self._handlers[method] = handler

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for ``getUpdates`` (an ``update_id`` is added when missing) and
        wake a pending long poll. Callable from the test's loop or, when served in a
        thread, from any thread."""
        if self._portal is not None and threading.get_ident() != self._loop_thread:
            result: dict[str, Any] = self._portal.call(self._push_update_now, update)
            return result
        return self._push_update_now(update)

    def text_update(self, text: str, *, chat_id: int, user_id: int | None = None) -> dict[str, Any]:
        """Push a private or group text message update from a user and return it."""
        user = {"id": user_id or chat_id, "is_bot": False, "first_name": "Tester"}
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "group"}
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self.push_update({"message": message})

    def press_update(
        self, data: str, *, chat_id: int, message_id: int, user_id: int | None = None
    ) -> dict[str, Any]:
        """Push a press, by a user, of the inline button with callback ``data`` under the
        bot's message ``message_id`` in ``chat_id``, and return the update."""
        user = {"id": user_id or chat_id, "is_bot": False, "first_name": "Tester"}
        message = self.messages.get((chat_id, message_id)) or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "text": "",
        }
        query = {
            "id": f"cb{next(self._message_ids)}",
            "from": user,
            "chat_instance": str(chat_id),
            "data": data,
            "message": message,
        }
        return self.push_update({"callback_query": query})

    async def wait_for_calls(self, method: str, count: int = 1) -> list[BotApiCall]:
        """Wait (in the server's loop) until ``method`` has been called ``count`` times."""
        while len(self.calls_to(method)) < count:
            if self._calls_arrived is None:
                raise RuntimeError("the fake Bot API server is not running")
            await self._calls_arrived.wait()
        return self.calls_to(method)

    async def serve(
        self, *, task_status: anyio.abc.TaskStatus[FakeBotApi] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Listen on a free loopback port and serve until cancelled."""
        self._updates_arrived = anyio.Event()
        self._calls_arrived = anyio.Event()
        self._loop_thread = threading.get_ident()
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        async with listener:
            self.port = listener.extra(anyio.abc.SocketAttribute.local_port)
            task_status.started(self)
            try:
                await listener.serve(self._connection)
            finally:
                self.port = 0

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[FakeBotApi]:
        """Run the server in the current event loop for the duration of the block."""
        async with anyio.create_task_group() as tg:
            await tg.start(self.serve)
            try:
                yield self
            finally:
                tg.cancel_scope.cancel()

    @contextmanager
    def serving_in_thread(self) -> Iterator[FakeBotApi]:
        """Run the server on an asyncio loop in a background thread for the block."""
        with (
            anyio.from_thread.start_blocking_portal() as portal,
            portal.wrap_async_context_manager(self.serving()),
        ):
            self._portal = portal
            try:
                yield self
            finally:
                self._portal = None

    # --- HTTP ---------------------------------------------------------------------------

    async def _connection(self, stream: anyio.abc.ByteStream) -> None:
        # Swallow every connection error: a client dropping a long poll must not kill the
        # listener (anyio's Listener.serve would propagate the handler's exception).
        try:
            async with stream:
                conn = h11.Connection(h11.SERVER)
                while True:
                    request = await _read_request(conn, stream)
                    if request is None:
                        return
                    answer = await self._answer(*request)
                    if answer is None:
                        return  # a scripted dropped connection
                    status, payload = answer
                    body = json.dumps(payload).encode()
                    headers = [
                        ("content-type", "application/json"),
                        ("content-length", str(len(body))),
                    ]
                    await stream.send(conn.send(h11.Response(status_code=status, headers=headers)))
                    await stream.send(conn.send(h11.Data(data=body)))
                    await stream.send(conn.send(h11.EndOfMessage()))
                    if conn.our_state is h11.MUST_CLOSE:
                        return
                    conn.start_next_cycle()
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, h11.ProtocolError, OSError):
            return

    async def _answer(self, request: h11.Request, body: bytes) -> tuple[int, dict[str, Any]] | None:
        path = urllib.parse.urlsplit(request.target.decode()).path
        prefix, _, method = path.rpartition("/")
        if not prefix.startswith("/bot"):
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if prefix.removeprefix("/bot") != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        params, files = _decode_body(request, body)
        call = BotApiCall(method, params, anyio.current_time(), files)
        self.calls.append(call)
        assert self._calls_arrived is not None
        self._calls_arrived.set()
        self._calls_arrived = anyio.Event()

        queue = self._failures.get(method)
        failure = queue.popleft() if queue else None
        if failure is not None:
            if failure.delay:
                await anyio.sleep(failure.delay)
            if failure.disconnect:
                return None
            return _error(BotApiError(failure.status, failure.description, failure.parameters))
        handler = self._handlers.get(method)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            return 200, {"ok": True, "result": await handler(call)}
        except BotApiError as exc:
            return _error(exc)

    # --- methods ------------------------------------------------------------------------

    async def _true(self, _call: BotApiCall) -> bool:
        return True

    async def _get_me(self, _call: BotApiCall) -> dict[str, Any]:
        return self.bot_user

    async def _set_my_commands(self, call: BotApiCall) -> bool:
        self.commands = call.json("commands")
        return True

    def _push_update_now(self, update: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        if self._updates_arrived is not None:
            self._updates_arrived.set()
            self._updates_arrived = anyio.Event()
        return update

    async def _get_updates(self, call: BotApiCall) -> list[dict[str, Any]]:
        offset = int(call.params.get("offset", "0") or 0)
        timeout = float(call.params.get("timeout", "0") or 0)
        limit = int(call.params.get("limit", "100") or 100)
        if offset:
            # As on Telegram: an offset confirms (drops) every earlier update.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        with anyio.move_on_after(timeout):
            while not self._updates:
                assert self._updates_arrived is not None
                await self._updates_arrived.wait()
        return self._updates[:limit]

    def _chat(self, call: BotApiCall) -> int:
        raw = call.params.get("chat_id", "")
        try:
            chat_id = int(raw)
        except ValueError:
            raise BotApiError(400, "Bad Request: chat not found") from None
        if self.chats is not None and chat_id not in self.chats:
            raise BotApiError(400, "Bad Request: chat not found")
        return chat_id

    def _check_text(self, call: BotApiCall) -> str:
        text = call.params.get("text", "")
        if not text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > TELEGRAM_TEXT_LIMIT:
            raise BotApiError(400, "Bad Request: message is too long")
        if call.params.get("parse_mode") == "MarkdownV2":
            problem = markdown_v2_error(text)
            if problem is not None:
                raise BotApiError(400, f"Bad Request: can't parse entities: {problem}")
        return text

    async def _send_message(self, call: BotApiCall) -> dict[str, Any]:
        chat_id = self._chat(call)
        text = self._check_text(call)
        message = self._message(chat_id, next(self._message_ids), call, text)
        self.messages[(chat_id, message["message_id"])] = message
        return message

    async def _edit_message_text(self, call: BotApiCall) -> dict[str, Any]:
        chat_id = self._chat(call)
        message_id = int(call.params.get("message_id", "0"))
        old = self.messages.get((chat_id, message_id))
        if old is None:
            raise BotApiError(400, "Bad Request: message to edit not found")
        text = self._check_text(call)
        markup = call.json("reply_markup") if "reply_markup" in call.params else None
        if text == old["text"] and markup == old.get("reply_markup"):
            raise BotApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        message = self._message(chat_id, message_id, call, text)
        message["edit_date"] = int(time.time())
        self.messages[(chat_id, message_id)] = message
        return message

    def _message(
        self, chat_id: int, message_id: int, call: BotApiCall, text: str
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": self.bot_user,
            "text": text,
        }
        if "reply_markup" in call.params:
            message["reply_markup"] = call.json("reply_markup")
        return message


_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    409: "Conflict: terminated by other getUpdates request",
    429: "Too Many Requests: retry after 5",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


def _error(exc: BotApiError) -> tuple[int, dict[str, Any]]:
    payload: dict[str, Any] = {
        "ok": False,
        "error_code": exc.status,
        "description": exc.description,
    }
    if exc.parameters:
        payload["parameters"] = exc.parameters
    return exc.status, payload


async def _read_request(
    conn: h11.Connection, stream: anyio.abc.ByteStream
) -> tuple[h11.Request, bytes] | None:
    request: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            try:
                data = await stream.receive(65536)
            except anyio.EndOfStream:
                data = b""
            conn.receive_data(data)
        elif isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            assert request is not None
            return request, bytes(body)
        else:  # ConnectionClosed or PAUSED
            return None


def _decode_body(request: h11.Request, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    """Form, JSON or multipart fields as strings (non-strings JSON-encoded, as PTB sends them)."""
    headers = {k.decode().lower(): v.decode() for k, v in request.headers}
    ctype = headers.get("content-type", "")
    query = urllib.parse.urlsplit(request.target.decode()).query
    params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    files: dict[str, bytes] = {}
    if ctype.startswith("application/json") and body:
        for key, value in json.loads(body).items():
            params[key] = value if isinstance(value, str) else json.dumps(value)
    elif ctype.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"content-type: {ctype}\r\n\r\n".encode() + body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if not isinstance(name, str) or not isinstance(payload, bytes):
                continue
            if part.get_filename() is not None:
                files[name] = payload
            else:
                params[name] = payload.decode()
    elif body:
        params.update(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
    return params, files


# --- MarkdownV2 syntax check ---------------------------------------------------------------

_ENTITY_NAMES = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
    "[": "TextUrl",
}
_ALWAYS_RESERVED = set("#+-=.!(){}")


def markdown_v2_error(text: str) -> str | None:
    """Why Telegram would refuse ``text`` as MarkdownV2 (its own wording), or ``None``.

    Checks what a converter can get wrong: unescaped reserved characters, unclosed
    entities, code and pre blocks, and link URLs. Offsets are UTF-8 byte offsets, as
    Telegram reports them."""

    def offset(pos: int) -> int:
        return len(text[:pos].encode())

    def reserved(ch: str) -> str:
        return f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"

    def scan_to(pos: int, closing: str) -> int:
        """Index of the next unescaped ``closing`` at or after ``pos``, or -1."""
        while pos < len(text):
            if text[pos] == "\\":
                pos += 2
            elif text.startswith(closing, pos):
                return pos
            else:
                pos += 1
        return -1

    stack: list[tuple[str, int]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text):
                return reserved("\\")
            i += 2
            continue
        if ch == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = scan_to(i + len(fence), fence)
            if end < 0:
                kind = "Pre" if fence == "```" else "Code"
                return f"Can't find end of {kind} entity at byte offset {offset(i)}"
            i = end + len(fence)
            continue
        marker = ch
        if text.startswith("__", i) or text.startswith("||", i):
            marker = text[i : i + 2]
        if marker in ("*", "_", "__", "~", "||"):
            opened = [n for n, (m, _) in enumerate(stack) if m == marker]
            if opened:
                del stack[opened[-1] :]
            else:
                stack.append((marker, i))
            i += len(marker)
            continue
        if ch == "[":
            stack.append(("[", i))
        elif ch == "]":
            if not stack or stack[-1][0] != "[":
                return reserved("]")
            stack.pop()
            if text.startswith("(", i + 1):
                end = scan_to(i + 2, ")")
                if end < 0:
                    return f"Can't find end of a URL at byte offset {offset(i + 1)}"
                i = end
        elif ch == ">":
            if i and text[i - 1] != "\n":
                return reserved(">")
        elif ch in _ALWAYS_RESERVED or ch == "|":
            return reserved(ch)
        i += 1
    if stack:
        marker, pos = stack[0]
        return f"Can't find end of {_ENTITY_NAMES[marker]} entity at byte offset {offset(pos)}"
    return None
