"""The API browser at /schema/swagger, served whole from the package: Swagger UI's script and
stylesheet come from feedback/api/static/swagger-ui (a copy of the npm package swagger-ui-dist,
with its licence), not from a CDN, so the page works on a network without internet and loads
no third-party code into a page where people paste API keys."""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

SWAGGER_UI_VERSION = "5.18.2"
SWAGGER_UI = Path(__file__).parent / "static" / "swagger-ui"
ASSETS_PATH = "/static/swagger-ui"


def swagger_assets() -> Router:
    """The vendored files; a day in caches, like the embed's (their URL carries no version)."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[SWAGGER_UI],
        name="swagger-ui",
        cache_control=CacheControlHeader(public=True, max_age=86400),
        include_in_schema=False,
    )


def swagger_plugin() -> SwaggerRenderPlugin:
    return SwaggerRenderPlugin(
        version=SWAGGER_UI_VERSION,
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
        path="/swagger",
    )
