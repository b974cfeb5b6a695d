"""The public results page, "you said, we did": `GET /r/{org}/{survey}`.

A page to link from a newsletter: plain HTML and the forms' stylesheet, no script, readable at
320 px and in print, in the survey locale the reader asks for (`?locale=`, then the browser's
languages, then the survey's default). Bars are `<meter>` elements, which need no inline style
(the page's CSP allows none). A survey without public results answers a 404 page in its own
language; an unknown survey, in the browser's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.params import FromPath, QueryParameter

from feedback.api.deps import AppSettings, DbSession, Now, TrendRollups
from feedback.api.form_strings import STRINGS, date_text, preferred_locales, words_lang
from feedback.api.form_view import text_direction
from feedback.api.forms import (
    PAGE_ERRORS,
    SurveyPage,
    head_of,
    not_found_page,
    rate_limit,
    security_headers,
    survey_page,
)
from feedback.api.links import results_path, results_url
from feedback.api.templating import TEMPLATES
from feedback.errors import NotFound
from feedback.loop.public_results import PublicResults, public_results
from feedback.loop.result_sentences import percent_text, phrases_for
from feedback.surveys.definition import match_locale

# Results change when a wave closes or a decision is published, not from one reader to the
# next: a newsletter's burst of readers may share a few minutes' copy.
RESULTS_CACHE = {"Cache-Control": "public, max-age=300", "Vary": "Accept-Language"}


@dataclass(frozen=True, slots=True)
class Language:
    """Another locale of the page, named in its own language when the forms know it."""

    locale: str
    name: str
    href: str


def languages(results: PublicResults) -> list[Language]:
    out = []
    for locale in results.locales:
        if locale != results.locale:
            known = match_locale(locale, STRINGS)
            name = STRINGS[known]["language_name"] if known else locale
            href = results_path(results.org_slug, results.survey_slug, locale)
            out.append(Language(locale, name, href))
    return out


def _page(page: SurveyPage, template: str, status: int, **context: Any) -> Response[str]:
    body = TEMPLATES.get_template(template).render(
        lang=page.locale,
        dir=text_direction(page.locale),
        t=page.strings,
        words=words_lang(page.locale),
        css_url="/form.css",
        title=page.framing.title,
        **context,
    )
    headers = security_headers(page.frame_ancestors)
    if status == 200:
        headers |= RESULTS_CACHE
    return Response(body, status_code=status, media_type=MediaType.HTML, headers=headers)


def results_html(page: SurveyPage, results: PublicResults, base_url: str) -> Response[str]:
    t = page.strings
    locale = results.locale
    own = None if locale == page.survey.default_locale else locale
    phrases = phrases_for(locale)
    return _page(
        page,
        "results.html",
        200,
        r=results,
        description=t["results_description"].format(title=results.title),
        canonical=results_url(base_url, results.org_slug, results.survey_slug, own),
        alternates=[
            (other, results_url(base_url, results.org_slug, results.survey_slug, other))
            for other in results.locales
        ],
        languages=languages(results),
        note=t["suppression_note"].format(n=results.min_n),
        date_text=lambda day: date_text(day, locale),
        percent=lambda share: percent_text(share, phrases),
    )


class ResultsPageController(Controller):
    path = "/r/{org_slug:str}/{survey_slug:str}"
    tags = ["supporters"]
    opt = {"public": True}
    exception_handlers = PAGE_ERRORS
    guards = [rate_limit]

    @get(
        operation_id="PublicResultsPage",
        media_type=MediaType.HTML,
        summary='The public results page, "you said, we did"',
    )
    async def show(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        app_settings: AppSettings,
        now: Now,
        rollups: TrendRollups,
        org_slug: FromPath[str],
        survey_slug: FromPath[str],
        locale: Annotated[str | None, QueryParameter(max_length=35)] = None,
    ) -> Response[str]:
        accept = request.headers.get("accept-language")
        try:
            page = await survey_page(
                db_session,
                org_slug=org_slug,
                survey_slug=survey_slug,
                requested_locale=locale,
                accept_language=accept,
            )
        except NotFound:
            return not_found_page(accept)
        try:
            results = await public_results(
                db_session,
                org_slug=org_slug,
                survey_slug=survey_slug,
                wanted_locales=preferred_locales(locale, accept),
                now=now,
                rollups=rollups,
            )
        except NotFound:
            return _page(
                page,
                "error.html",
                404,
                heading=page.strings["results_not_found"],
                message=page.strings["results_not_found_body"],
            )
        return results_html(page, results, app_settings.base_url)

    show_head = head_of(show)
