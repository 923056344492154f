"""ASGI middleware in front of every route: bearer-token auth and a bound on request bodies.

With a token, a request without `Authorization: Bearer <token>` gets 401 before anything
else is read. Bodies are read here in full, up to `max_body_bytes` (413 beyond), so no
request can make the server buffer an unbounded body; the app then reads the same bytes.
"""

from __future__ import annotations

import hmac

from nerfgen.writers.encode import json_bytes


class RequestGuard:
    def __init__(self, app, token: str | None, max_body_bytes: int):
        self.app = app
        self.expected = None if token is None else f"Bearer {token}".encode()
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if self.expected is not None and not hmac.compare_digest(headers.get(b"authorization", b""), self.expected):
            await _error(
                send,
                401,
                "missing or wrong bearer token (Authorization: Bearer <token>)",
                ((b"www-authenticate", b"Bearer"),),
            )
            return
        declared = headers.get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await _error(send, 413, f"request body over {self.max_body_bytes} bytes")
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body_bytes:
                await _error(send, 413, f"request body over {self.max_body_bytes} bytes")
                return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive):
    """A receive callable that yields the already read body once, then defers to `receive`
    (which reports the disconnect when the client goes)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed():
        return pending.pop() if pending else await receive()

    return replayed


async def _error(send, status: int, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    content = json_bytes({"error": message}, indent=None)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})
