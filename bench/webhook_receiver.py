"""A webhook receiver for bench_webhooks.py: answers 204 to every POST and counts the distinct
`webhook-id`s it was sent; GET answers {"distinct": n, "total": m}."""

from __future__ import annotations

import json
from typing import Any

seen: set[bytes] = set()
total = 0


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global total
    if scope["type"] != "http":
        return
    while True:  # drain the body
        message = await receive()
        if not message.get("more_body"):
            break
    if scope["method"] == "POST":
        total += 1
        for name, value in scope["headers"]:
            if name == b"webhook-id":
                seen.add(value)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    body = json.dumps({"distinct": len(seen), "total": total}).encode()
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
