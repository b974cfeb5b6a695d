"""The API browsers at /schema/swagger and /schema/elements, served whole from the package: their
scripts and stylesheets come from feedback/api/static/{swagger-ui,elements} (copies of the npm
packages swagger-ui-dist and @stoplight/elements, with their licences), not from a CDN, so the
pages work on a network without internet and load no third-party code into a page where people
paste API keys."""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import StoplightRenderPlugin, SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

SWAGGER_UI_VERSION = "5.18.2"
ELEMENTS_VERSION = "7.7.18"
STATIC = Path(__file__).parent / "static"
SWAGGER_PATH = "/static/swagger-ui"
ELEMENTS_PATH = "/static/elements"


def browser_assets() -> list[Router]:
    """The vendored files; a day in caches, like the embed's (their URLs carry no version)."""
    return [
        create_static_files_router(
            path=path,
            directories=[STATIC / path.rsplit("/", 1)[1]],
            name=path.rsplit("/", 1)[1],
            cache_control=CacheControlHeader(public=True, max_age=86400),
            include_in_schema=False,
        )
        for path in (SWAGGER_PATH, ELEMENTS_PATH)
    ]


def swagger_plugin() -> SwaggerRenderPlugin:
    return SwaggerRenderPlugin(
        version=SWAGGER_UI_VERSION,
        js_url=f"{SWAGGER_PATH}/swagger-ui-bundle.js",
        css_url=f"{SWAGGER_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{SWAGGER_PATH}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{SWAGGER_PATH}/favicon-32x32.png'>",
        path="/swagger",
    )


def elements_plugin() -> StoplightRenderPlugin:
    return StoplightRenderPlugin(
        version=ELEMENTS_VERSION,
        js_url=f"{ELEMENTS_PATH}/web-components.min.js",
        css_url=f"{ELEMENTS_PATH}/styles.min.css",
        favicon=f"<link rel='icon' type='image/png' href='{SWAGGER_PATH}/favicon-32x32.png'>",
        path="/elements",
    )
