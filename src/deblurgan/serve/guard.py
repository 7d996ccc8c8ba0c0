"""What keeps other websites in the same browser away from ``deblurgan serve``.

:class:`Guard` is plain ASGI middleware in front of every route, the static files included:

- **Host** (DNS rebinding): a page of ``evil.example`` whose name was re-pointed at
  127.0.0.1 reaches this server as the same origin, but its requests still say
  ``Host: evil.example``. Only the names of this server are answered (421 otherwise):
  ``127.0.0.1``, ``localhost``, ``[::1]`` and the ``--host`` given, each with the port.
  When listening on every address (``0.0.0.0`` or ``::``) any IP address is accepted as
  well: rebinding needs a domain name, an address cannot be re-pointed.
- **Origin** (cross-site requests): a request that changes something (any method but
  GET, HEAD and OPTIONS) is refused with 403 when its ``Origin`` is present and is not
  this server, or its ``Sec-Fetch-Site`` says it came from another site. Browsers send
  both; local scripts (curl) send neither and are accepted. ``/api/`` reads from another
  site are refused the same way.
- **Upload size**: request bodies are counted as they arrive, chunked ones included, and
  the request fails with 413 at the first byte past the limit, so nothing larger is ever
  stored, not even in a temporary file. The client is told 413 even when the application
  catches the error and answers otherwise, or not at all.
- **Headers** on every response: a Content-Security-Policy allowing only this server's
  own scripts, styles and images and no framing, ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: no-referrer`` and ``Cross-Origin-Resource-Policy: same-origin``
  (another site cannot even embed a result as an image).
"""

from __future__ import annotations

import ipaddress
import json

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deblurgan.serve.words import mebibytes

LOCAL_NAMES = ("127.0.0.1", "localhost", "::1")
WILDCARDS = ("0.0.0.0", "::", "")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class UploadTooLarge(HTTPException):
    """Raised from ``receive`` at the first byte past the limit (an HTTPException, so the
    framework answers 413 instead of reporting a parse error)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit))


def too_large_message(limit: int) -> str:
    """What an upload over ``limit`` bytes is told (HTTP 413)."""
    return f"upload larger than the server's limit of {mebibytes(limit)} (--max-upload)"


def split_host(value: str) -> tuple[str, int | None]:
    """``"[::1]:8000"`` -> ``("::1", 8000)``; ``"localhost"`` -> ``("localhost", None)``.

    Raises:
        ValueError: Not a host, or a port that is not a number.
    """
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
        if rest and port is None:
            raise ValueError(value)
    elif value.count(":") == 1:
        name, _, port = value.partition(":")
    else:
        name, port = value, None
    if not name or (port is not None and not port.isdigit()):
        raise ValueError(value)
    return name, int(port) if port is not None else None


def host_allowed(value: str | None, host: str, port: int) -> bool:
    """Whether a ``Host`` header names this server, listening on ``host``:``port``."""
    try:
        name, given_port = split_host(value or "")
    except ValueError:
        return False
    if (given_port or 80) != port:
        return False
    listening = host.strip("[]").lower()
    if name in LOCAL_NAMES or name == listening:
        return True
    if listening in WILDCARDS:
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True
    return False


def cross_site_reason(headers: Headers) -> str | None:
    """Why a browser request came from another site (None: it did not, or not a browser)."""
    site = headers.get("sec-fetch-site")
    if site in ("cross-site", "same-site"):
        return f"Sec-Fetch-Site: {site}"
    origin = headers.get("origin")
    if origin is not None and origin.lower() != f"http://{headers.get('host', '').lower()}":
        return f"Origin: {origin}"
    return None


class Guard:
    """ASGI middleware applying the checks above to ``app``.

    Args:
        app: The application behind it.
        host: The address the server listens on (``--host``).
        port: The port it listens on.
        max_body: Largest request body accepted, in bytes.
    """

    def __init__(self, app: ASGIApp, host: str, port: int, max_body: int) -> None:
        self.app, self.host, self.port, self.max_body = app, host, port, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["type"] != "http":  # no websockets here
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        if not host_allowed(headers.get("host"), self.host, self.port):
            await _respond(send, 421, "this server does not answer to that host name")
            return
        reason = cross_site_reason(headers)
        if reason and (scope["method"] not in SAFE_METHODS or scope["path"].startswith("/api/")):
            await _respond(send, 403, f"refused a request from another website ({reason})")
            return
        length = headers.get("content-length")
        if length and length.isdigit() and int(length) > self.max_body:
            await _respond(send, 413, too_large_message(self.max_body))
            return
        await self._limited(scope, receive, send)

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        received, too_large, started, replaced = 0, False, False, False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            if too_large:
                raise UploadTooLarge(self.max_body)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    too_large = True
                    raise UploadTooLarge(self.max_body)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started, replaced
            if message["type"] == "http.response.start":
                if too_large and message["status"] != 413:  # whatever the app made of it
                    await _respond(send, 413, too_large_message(self.max_body))
                    replaced = True
                    return
                started = True
                message = {**message, "headers": _with_security_headers(message)}
            if not replaced:
                await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except UploadTooLarge:
            if started:  # the app answered before reading too far: too late for a 413
                raise
        if too_large and not (started or replaced):  # the error escaped, or was swallowed
            await _respond(send, 413, too_large_message(self.max_body))


def _with_security_headers(message: Message) -> list[tuple[bytes, bytes]]:
    names = {name for name, _ in SECURITY_HEADERS}
    kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
    return kept + list(SECURITY_HEADERS)


async def _respond(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *SECURITY_HEADERS,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
