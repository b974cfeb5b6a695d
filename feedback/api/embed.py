"""The embed script and the forms' stylesheet, as cacheable static assets.

Both are built once per process: the script gets the forms' UI strings written in (one table for
the hosted page and the embed), and each asset an ETag from its bytes. Their URLs carry no
version, so caches keep them a day and then revalidate (a 304 costs a few bytes); a year-long
`immutable` would strand sites on an old script after an upgrade.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from litestar import Request, Response, get

from feedback.api.form_strings import FALLBACK, STRINGS
from feedback.api.forms import head_of

STATIC = Path(__file__).parent / "static"
STRINGS_MARKER = "/*STRINGS*/ { en: {} }"
CACHE_CONTROL = "public, max-age=86400, stale-while-revalidate=604800"


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str
    etag: str

    @classmethod
    def of(cls, text: str, media_type: str) -> Asset:
        body = text.encode()
        return cls(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


@cache
def embed_script() -> Asset:
    source = (STATIC / "embed.js").read_text(encoding="utf-8")
    if STRINGS_MARKER not in source:
        raise RuntimeError("embed.js lost its strings marker")
    # Only the strings the script uses (`t.submit`, `ctx.t.queued`, …) travel with it.
    used = set(re.findall(r"\bt\.([a-z_]+)\b", source))
    unknown = used - STRINGS[FALLBACK].keys()
    if unknown:
        raise RuntimeError(f"embed.js uses strings that form_strings lacks: {sorted(unknown)}")
    table = {
        locale: {k: v for k, v in texts.items() if k in used} for locale, texts in STRINGS.items()
    }
    strings = json.dumps(table, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    # `</` cannot occur in these strings, but a future translation must not end a <script>.
    strings = strings.replace("</", "<\\/")
    return Asset.of(source.replace(STRINGS_MARKER, strings), "text/javascript")


@cache
def stylesheet() -> Asset:
    return Asset.of((STATIC / "form.css").read_text(encoding="utf-8"), "text/css")


def _serve(request: Request[Any, Any, Any], asset: Asset) -> Response[bytes]:
    headers = {
        "ETag": asset.etag,
        "Cache-Control": CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
        # Any site may load these (the script decides per survey which origins it talks to);
        # CORP and ACAO let pages with COEP or Subresource Integrity load them too.
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Access-Control-Allow-Origin": "*",
    }
    wanted = {
        t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")
    }
    if asset.etag in wanted or "*" in wanted:
        return Response(b"", status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@get(
    "/embed.js",
    opt={"public": True},
    operation_id="EmbedScript",
    media_type="text/javascript",
    tags=["supporters"],
    summary="The embeddable form script",
)
async def embed_js(request: Request[Any, Any, Any]) -> Response[bytes]:
    """`<div data-feedback-survey="org/survey"></div><script src="…/embed.js" async></script>`."""
    return _serve(request, embed_script())


embed_js_head = head_of(embed_js)


@get(
    "/form.css",
    opt={"public": True},
    operation_id="FormStylesheet",
    media_type="text/css",
    tags=["supporters"],
    summary="The stylesheet of the hosted and embedded forms",
)
async def form_css(request: Request[Any, Any, Any]) -> Response[bytes]:
    return _serve(request, stylesheet())


form_css_head = head_of(form_css)
