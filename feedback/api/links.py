"""Addresses of the pages that we hand out: the public results page, a signed report."""

from __future__ import annotations

from urllib.parse import quote, urlencode


def results_path(org_slug: str, survey_slug: str, locale: str | None = None) -> str:
    """`/r/{org}/{survey}`, with `?locale=` when given."""
    path = f"/r/{quote(org_slug, safe='')}/{quote(survey_slug, safe='')}"
    return path + "?" + urlencode({"locale": locale}) if locale else path


def results_url(base_url: str, org_slug: str, survey_slug: str, locale: str | None = None) -> str:
    """The results page's absolute address, on the public base URL (`FEEDBACK_BASE_URL`)."""
    return base_url.rstrip("/") + results_path(org_slug, survey_slug, locale)


def report_url(base_url: str, token: str) -> str:
    """A signed report link's absolute address, on the public base URL (`FEEDBACK_BASE_URL`)."""
    return f"{base_url.rstrip('/')}/reports/{token}"
