"""The upload limit of :class:`~deblurgan.serve.guard.Guard` around stub applications: bodies
of exactly the limit and one byte over, with and without a Content-Length, arriving in
several messages (driven by hand, and over a real socket with chunked transfer), and
applications that catch the error (the client is still told 413)."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time

import pytest

pytest.importorskip("starlette")
from deblurgan.serve.guard import SECURITY_HEADERS, Guard, UploadTooLarge  # noqa: E402

from .conftest import free_port, serving  # noqa: E402

LIMIT = 1000
HOST = b"127.0.0.1:8000"  # the Guard below listens on 127.0.0.1:8000


class Recorder:
    """Stub applications that read the whole body, each noting what it was handed."""

    def __init__(self) -> None:
        self.calls = 0
        self.pieces: list[int] = []  # the size of each body message the application got
        self.caught: list[BaseException] = []

    async def _read(self, receive) -> None:
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            self.pieces.append(len(message.get("body", b"")))
            if not message.get("more_body", False):
                return

    async def echo(self, scope, receive, send) -> None:
        """Answers 200 with the number of bytes it read; errors propagate."""
        self.calls += 1
        await self._read(receive)
        await _reply(send, 200, {"received": sum(self.pieces)})

    async def swallowing(self, scope, receive, send) -> None:
        """Catches every error while reading and answers 400 in two body messages."""
        self.calls += 1
        try:
            await self._read(receive)
        except Exception as error:  # what a careless form parser does
            self.caught.append(error)
        await send({"type": "http.response.start", "status": 400, "headers": []})
        await send({"type": "http.response.body", "body": b"bad ", "more_body": True})
        await send({"type": "http.response.body", "body": b"form"})

    async def silent(self, scope, receive, send) -> None:
        """Catches every error while reading and returns without answering."""
        self.calls += 1
        try:
            await self._read(receive)
        except Exception as error:
            self.caught.append(error)
            return
        await _reply(send, 200, {"received": sum(self.pieces)})

    async def stubborn(self, scope, receive, send) -> None:
        """Catches the error, reads on anyway, and answers 400."""
        self.calls += 1
        for _ in range(2):
            try:
                await self._read(receive)
            except Exception as error:
                self.caught.append(error)
        await _reply(send, 400, {"received": sum(self.pieces)})

    async def own_413(self, scope, receive, send) -> None:
        """Answers the error itself, as Starlette's exception handler does."""
        self.calls += 1
        try:
            await self._read(receive)
        except UploadTooLarge as error:
            await _reply(send, 413, {"detail": error.detail, "from": "app"})
            return
        await _reply(send, 200, {"received": sum(self.pieces)})


async def _reply(send, status: int, payload: dict) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"x-app", b"1"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _drive(app, pieces: list[int], declared: int | None = None) -> tuple[int, dict, bytes, int]:
    """Send a POST whose body arrives as messages of ``pieces`` bytes through a Guard with a
    limit of :data:`LIMIT`; its status, headers and body, and how many body messages the
    server still holds (the Guard never asked for them)."""
    headers = [(b"host", HOST)]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    scope = {"type": "http", "method": "POST", "path": "/upload", "headers": headers}
    incoming = [
        {"type": "http.request", "body": b"x" * n, "more_body": i < len(pieces) - 1}
        for i, n in enumerate(pieces)
    ]
    sent: list[dict] = []

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(Guard(app, "127.0.0.1", 8000, max_body=LIMIT)(scope, receive, send))
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1, sent  # exactly one reply
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    unread = sum(m["type"] == "http.request" for m in incoming)
    return starts[0]["status"], dict(starts[0]["headers"]), body, unread


EXACT_SPLITS = [[LIMIT], [1, LIMIT - 1], [LIMIT - 1, 1], [250] * 4, [0, 400, 0, 600, 0]]
OVER_SPLITS = [[LIMIT + 1], [LIMIT, 1], [1, LIMIT], [250] * 4 + [1], [1] * (LIMIT + 1)]


@pytest.mark.parametrize("pieces", EXACT_SPLITS)
@pytest.mark.parametrize("declared", [True, False])
def test_a_body_of_exactly_the_limit_reaches_the_app_whole(pieces, declared):
    app = Recorder()
    status, _, body, _ = _drive(app.echo, pieces, LIMIT if declared else None)
    assert status == 200 and json.loads(body) == {"received": LIMIT}
    assert app.pieces == pieces


def test_a_declared_length_one_byte_over_is_refused_before_the_app_runs():
    app = Recorder()
    status, headers, body, _ = _drive(app.echo, [LIMIT + 1], LIMIT + 1)
    assert status == 413 and "--max-upload" in json.loads(body)["detail"]
    assert app.calls == 0 and headers[b"x-content-type-options"] == b"nosniff"


@pytest.mark.parametrize("pieces", OVER_SPLITS)
def test_a_body_one_byte_over_without_a_length_is_413_at_the_message_that_crosses(pieces):
    app = Recorder()
    status, headers, body, _ = _drive(app.echo, pieces)
    assert status == 413 and "--max-upload" in json.loads(body)["detail"]
    assert app.pieces == pieces[:-1]  # everything but the message that crossed the limit
    assert b"x-app" not in headers and headers[b"content-type"] == b"application/json"


def test_a_body_longer_than_its_declared_length_is_still_counted():
    app = Recorder()
    status, _, _, _ = _drive(app.echo, [500, 501], declared=LIMIT)
    assert status == 413 and app.pieces == [500]


@pytest.mark.parametrize("pieces", [[LIMIT, 1], [600, 401]])
def test_an_app_that_swallows_the_error_and_answers_400_still_sends_413(pieces):
    app = Recorder()
    status, headers, body, _ = _drive(app.swallowing, pieces)
    assert status == 413 and b"form" not in body and "limit" in json.loads(body)["detail"]
    assert [type(e) for e in app.caught] == [UploadTooLarge]
    assert all(headers[name] == value for name, value in SECURITY_HEADERS)


def test_an_app_that_swallows_the_error_and_answers_nothing_still_sends_413():
    app = Recorder()
    status, _, body, _ = _drive(app.silent, [600, 401])
    assert status == 413 and "limit" in json.loads(body)["detail"] and len(app.caught) == 1


def test_an_app_that_reads_on_after_the_error_gets_it_again_and_no_more_body():
    app = Recorder()
    status, _, _, unread = _drive(app.stubborn, [600, 401, 5])
    assert status == 413 and app.pieces == [600] and unread == 1  # not read past the error
    assert [type(e) for e in app.caught] == [UploadTooLarge, UploadTooLarge]


def test_an_app_that_swallows_nothing_within_the_limit_answers_itself():
    app = Recorder()
    status, _, body, _ = _drive(app.silent, [600, 400])
    assert status == 200 and json.loads(body) == {"received": LIMIT} and not app.caught


def test_the_apps_own_413_goes_out_with_the_security_headers():
    app = Recorder()
    status, headers, body, _ = _drive(app.own_413, [LIMIT, 1])
    assert status == 413 and json.loads(body)["from"] == "app"
    assert headers[b"x-app"] == b"1" and headers[b"x-frame-options"] == b"DENY"


# --- over a real socket: the server hands the body over as it arrives ---------------------


@pytest.fixture(scope="module")
def server():
    """One uvicorn server with a Guard (limit :data:`LIMIT`) in front of the stub apps,
    chosen by path; yields its port and the recorder, reset before each request."""
    pytest.importorskip("uvicorn")
    box: dict = {}

    async def dispatch(scope, receive, send):
        if scope["type"] != "http":
            return
        app = getattr(box["recorder"], scope["path"].strip("/"))
        await app(scope, receive, send)

    port = free_port()
    with serving(Guard(dispatch, "127.0.0.1", port, max_body=LIMIT), port):
        yield port, box


def _post(port: int, path: str, pieces: list[int], chunked: bool) -> tuple[int, bytes]:
    """POST ``pieces`` bytes one socket write at a time, 20 ms apart (so the server reads
    them separately), chunked or with a Content-Length; the reply's status and body. One
    piece goes out with the headers (the server may answer and close before reading it)."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    head += "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {sum(pieces)}\r\n"
    writes = [b"x" * n for n in pieces]
    if chunked:
        writes = [b"%x\r\n%s\r\n" % (len(w), w) for w in writes]
        writes[-1] += b"0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall((head + "\r\n").encode() + (writes.pop() if len(writes) == 1 else b""))
        for data in writes:
            time.sleep(0.02)
            sock.sendall(data)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    match = re.match(rb"HTTP/1.1 (\d+) [^\r]*\r\n.*?\r\n\r\n(.*)", reply, re.S)
    assert match, reply
    return int(match.group(1)), match.group(2)


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_over_a_socket_exactly_the_limit_passes_and_one_byte_more_is_413(server, chunked):
    port, box = server
    box["recorder"] = exact = Recorder()
    status, body = _post(port, "/echo", [250] * 4, chunked)
    assert status == 200 and json.loads(body) == {"received": LIMIT}
    assert len(exact.pieces) >= 2, exact.pieces  # several messages: the counting is exercised
    box["recorder"] = over = Recorder()
    status, body = _post(port, "/echo", [250] * 4 + [1] if chunked else [LIMIT + 1], chunked)
    assert status == 413 and "limit" in body.decode()
    assert sum(over.pieces) <= LIMIT and over.calls == (1 if chunked else 0)


def test_over_a_socket_an_app_that_swallows_the_error_still_answers_413(server):
    port, box = server
    for path in ("/swallowing", "/silent"):
        box["recorder"] = app = Recorder()
        status, body = _post(port, path, [400, 400, 201], chunked=True)
        assert status == 413 and b"form" not in body, (path, body)
        assert len(app.caught) == 1 and len(app.pieces) >= 1


@pytest.mark.parametrize(
    "kind, expected", [("websocket", [{"type": "websocket.close", "code": 1008}]), ("other", [])]
)
def test_websockets_are_closed_with_policy_violation_and_never_reach_the_app(kind, expected):
    app = Recorder()
    scope = {"type": kind, "path": "/ws", "headers": [(b"host", HOST)]}
    sent: list[dict] = []

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        sent.append(message)

    asyncio.run(Guard(app.echo, "127.0.0.1", 8000, max_body=LIMIT)(scope, receive, send))
    assert sent == expected and app.calls == 0
