"""The hosted form: `GET /f/{org}/{survey}` renders it; a plain HTML form POST to the same path
submits it, so it works with JavaScript off.

The POST goes through `Submissions.submit`, the same door as the JSON API and the embed: answers
are validated there, once, and its field errors come back here to be shown next to their fields
with the supporter's answers kept. The page carries the version it was rendered from and a
`response_id` made at render time, so pressing Submit twice stores one response.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from litestar import Controller, HttpMethod, MediaType, Request, Response, get, post, route
from litestar.connection import ASGIConnection
from litestar.datastructures import FormMultiDict, State
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler
from litestar.params import FromPath, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.api.deps import DbSession, Now, Submitter, sessions_of
from feedback.api.form_pages import errors_so_far, next_page, page_of, split_pages, step
from feedback.api.form_strings import (
    FALLBACK,
    STRINGS,
    negotiate_locale,
    strings_for,
    words_lang,
)
from feedback.api.form_view import (
    answers_from_form,
    errors_by_key,
    fields,
    summary,
    text_direction,
)
from feedback.api.links import results_path
from feedback.api.problems import EXCEPTION_HANDLERS, RateLimited, log_internal_error
from feedback.api.public_guard import client_of, rate_limit_of
from feedback.api.templating import TEMPLATES
from feedback.errors import (
    Conflict,
    DomainError,
    FieldError,
    Invalid,
    NotFound,
    TooLarge,
    UnsupportedFormat,
)
from feedback.loop.public_results import has_public_results
from feedback.responses.schemas import SubmissionCreate
from feedback.responses.submissions import Submissions, public_form
from feedback.surveys.definition import Definition, localise_definition
from feedback.surveys.framing import Framing, framing_of
from feedback.surveys.models import Survey
from feedback.surveys.schedule import survey_schedule
from feedback.surveys.service import get_public_survey, survey_settings
from feedback.translations import translate
from feedback.validation import validate_model

CHANNEL = "hosted"
_VERSION = re.compile(r"[1-9][0-9]{0,8}")
_PAGE = re.compile(r"[0-9]{1,3}")
FORM_MEDIA_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# allowed_origins are normalised when saved; this re-check keeps anything else out of a header.
_ORIGIN = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::\d{1,5})?|https?://\[[0-9A-Fa-f:.]+\](?::\d{1,5})?"
)


@dataclass(frozen=True, slots=True)
class SurveyPage:
    """What every page of one survey needs before it knows which page it is."""

    org_slug: str
    survey: Survey
    locale: str
    strings: dict[str, str]
    frame_ancestors: tuple[str, ...]
    framing: Framing
    # The survey's public results page, for the pages after the form (`with_results_link`).
    results_href: str | None = None

    @property
    def action(self) -> str:
        return f"/f/{self.org_slug}/{self.survey.slug}"


def security_headers(
    frame_ancestors: Sequence[str] = (), logo_url: str | None = None
) -> dict[str, str]:
    """Headers of every hosted page. The page runs no script at all and loads only our
    stylesheet (and the organisation's logo); it may be framed by the survey's allowed origins
    only (the iframe embed)."""
    ancestors = " ".join(["'self'", *frame_ancestors])
    images = " ".join(["'self'", "data:", *([_origin_of(logo_url)] if logo_url else [])])
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'self'; img-src {images}; form-action 'self'; "
            f"base-uri 'none'; frame-ancestors {ancestors}"
        ),
        "X-Content-Type-Options": "nosniff",
        # Personal links carry a token in the URL; never hand it to another site.
        "Referrer-Policy": "no-referrer",
        # A rendered form holds a fresh response_id (and maybe a personal token).
        "Cache-Control": "no-store",
    }


def _origin_of(url: str) -> str:
    # settings.HttpsUrl admits https URLs with a host only; the port stays, the path goes.
    parts = urlsplit(url)
    return f"https://{parts.netloc.rsplit('@', 1)[-1]}"


def _html(
    page: SurveyPage | None,
    template: str,
    status: int,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response[str]:
    locale = page.locale if page else context.pop("locale", "en")
    strings = page.strings if page else strings_for(locale)
    body = TEMPLATES.get_template(template).render(
        lang=locale,
        dir=text_direction(locale),
        t=strings,
        words=words_lang(locale),
        css_url="/form.css",
        title=page.framing.title if page else "",
        framing=page.framing if page else None,
        **context,
    )
    ancestors = page.frame_ancestors if page else ()
    logo = page.framing.logo_url if page else None
    return Response(
        body,
        status_code=status,
        media_type=MediaType.HTML,
        headers=security_headers(ancestors, logo) | (headers or {}),
    )


async def survey_page(
    session: AsyncSession,
    *,
    org_slug: str,
    survey_slug: str,
    requested_locale: str | None,
    accept_language: str | None,
) -> SurveyPage:
    org, survey = await get_public_survey(session, org_slug=org_slug, survey_slug=survey_slug)
    settings = survey_settings(survey)
    locale = negotiate_locale(
        requested_locale, accept_language, settings.locales, survey.default_locale
    )
    return SurveyPage(
        org_slug=org.slug,
        survey=survey,
        locale=locale,
        strings=strings_for(locale),
        frame_ancestors=tuple(o for o in settings.allowed_origins if _ORIGIN.fullmatch(o)),
        framing=framing_of(survey, settings, org_name=org.name, locale=locale),
    )


async def with_results_link(session: AsyncSession, page: SurveyPage) -> SurveyPage:
    """The page with a link to the survey's public results, in its locale, if it has any."""
    if not await has_public_results(session, page.survey):
        return page
    return replace(page, results_href=results_path(page.org_slug, page.survey.slug, page.locale))


def form_page(
    page: SurveyPage,
    definition: Definition,
    *,
    version: int,
    response_id: uuid.UUID,
    token: str | None,
    values: Mapping[str, Sequence[str]] | None = None,
    errors: Sequence[FieldError] = (),
    index: int = 0,
) -> Response[str]:
    """The form, blank or as the supporter sent it with the server's errors beside its fields.
    `definition` is the version's definition, as stored or already localised. `index` is the
    page to show when skip logic splits the form (feedback/api/form_pages.py)."""
    values = values or {}
    answers = answers_from_form(definition, values, page.locale)
    shown = step(definition, index, values, answers)
    if not shown.keys:  # errors only about questions hidden on that page: start again
        shown = step(definition, 0, values, answers)
    localised = localise_definition(
        Definition(questions=[q for q in definition.questions if q.key in shown.keys]),
        page.locale,
        page.survey.default_locale,
    )
    by_key = errors_by_key(errors, localised.keys())
    return _html(
        page,
        "form.html",
        422 if errors else 200,
        action=page.action,
        version=version,
        response_id=response_id,
        token=token,
        fields=fields(localised, page.strings, values, by_key, page.locale),
        summary=summary(errors, localised, by_key),
        step=shown,
    )


async def current_form_page(
    session: AsyncSession, page: SurveyPage, token: str | None, *, now: datetime
) -> Response[str]:
    """A blank form of the current version, with a fresh response_id; or why there is none."""
    try:
        form = await public_form(
            session,
            org_slug=page.org_slug,
            survey_slug=page.survey.slug,
            locale=page.locale,
            token=token,
            now=now,
        )
    except NotFound:  # no published version yet
        return not_ready_page(page)
    except Conflict as exc:
        linked = await with_results_link(session, page)
        return closed_page(linked, exc.extra.get("next_opens_at"))
    except Invalid:  # the only Invalid here is an unknown personal token
        return _html(
            page,
            "error.html",
            404,
            heading=page.strings["not_found"],
            message=page.strings["link_invalid"],
        )
    return form_page(
        page,
        Definition.model_validate({"questions": form.questions}),
        version=form.version,
        response_id=uuid.uuid4(),
        token=token,
    )


def closed_page(page: SurveyPage, next_opens_at: datetime | None) -> Response[str]:
    """Between waves, with when the next opens on the survey's own clock; archived: no date."""
    schedule = survey_schedule(page.survey)
    local = next_opens_at.astimezone(schedule.zone) if next_opens_at and schedule else None
    text = f"{local:%Y-%m-%d %H:%M} ({schedule.timezone})" if local and schedule else ""
    return _html(
        page,
        "closed.html",
        200,
        opens_at=local,
        opens_at_text=text,
        results_href=page.results_href,
    )


def thank_you_page(page: SurveyPage, *, repeated: bool) -> Response[str]:
    return _html(page, "thank_you.html", 200, repeated=repeated, results_href=page.results_href)


def not_found_page(accept_language: str | None) -> Response[str]:
    # No survey, so no survey locales: speak the browser's language if the form UI does.
    locale = negotiate_locale(None, accept_language, list(STRINGS), FALLBACK)
    strings = strings_for(locale)
    return _html(
        None,
        "error.html",
        404,
        locale=locale,
        heading=strings["not_found"],
        message=strings["not_found_body"],
    )


def not_ready_page(page: SurveyPage) -> Response[str]:
    """A survey that exists but has no published version: not open yet, in its language."""
    return _html(
        page,
        "error.html",
        404,
        heading=page.strings["not_ready"],
        message=page.strings["not_ready_body"],
    )


def _error_page(
    request: Request[Any, Any, Any],
    status: int,
    key: str,
    headers: dict[str, str] | None = None,
    **values: object,
) -> Response[str]:
    # Before the survey is known there are no survey locales: the supporter's own language, as
    # the page's `locale` or the browser asks, if the pages speak it. No database is read here:
    # this answers floods (429) too.
    wanted = request.query_params.get("locale")
    locale = negotiate_locale(
        wanted if wanted and len(wanted) <= 35 else None,
        request.headers.get("accept-language"),
        list(STRINGS),
        FALLBACK,
    )
    strings = strings_for(locale)
    return _html(
        None,
        "error.html",
        status,
        headers,
        locale=locale,
        heading=strings[key],
        message=strings[f"{key}_body"].format(**values),
    )


def page_error(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    """The supporters' pages (`/f/`, `/r/`) answer every refusal with a page in the
    supporter's language, never with problem+json: the one table of them."""
    if isinstance(exc, RateLimited):
        retry = {"Retry-After": str(exc.retry_after)}
        return _error_page(request, 429, "too_many", retry, n=exc.retry_after)
    status = exc.status_code if isinstance(exc, HTTPException) else None
    if isinstance(exc, TooLarge) or status == 413:
        return _error_page(request, 413, "too_large")
    if isinstance(exc, NotFound) or status == 404:
        return _error_page(request, 404, "not_found")
    if status == 405:
        # A method the page does not take (PUT on a form): still 405 with its Allow header, so
        # that clients learn what the page takes; the supporter is told to open it again.
        assert isinstance(exc, HTTPException)
        return _error_page(request, 405, "bad_request", dict(exc.headers or {}))
    if isinstance(exc, DomainError | ValidationException | RecursionError) or (
        status is not None and status < 500
    ):
        code = 415 if isinstance(exc, UnsupportedFormat) else status or 400
        return _error_page(request, code if code < 500 else 400, "bad_request")
    log_internal_error(request, exc)
    return _error_page(request, 500, "server_error")


# Every key of the API's table (problems.EXCEPTION_HANDLERS): Litestar picks the handler of
# the most specific class across app and controller, so each must be overridden here.
PAGE_ERRORS: dict[type[Exception] | int, Any] = dict.fromkeys(EXCEPTION_HANDLERS, page_error)


async def rate_limit(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The public routes' limit per client address and survey, shared with the JSON API's
    buckets. (Not their CORS middleware: this page posts to its own origin, which is no
    survey's allowed origin, and needs no CORS.)"""
    state, params = connection.app.state, connection.path_params
    wait = await rate_limit_of(state).hit(
        client_of(state, connection.scope), params["org_slug"], params["survey_slug"]
    )
    if wait:
        raise RateLimited("Too many requests to this survey; slow down.", wait)


def head_of(get_handler: HTTPRouteHandler) -> HTTPRouteHandler:
    """HEAD for a GET route that supporters' links point to: the same function on the same path
    (and layers), so the same status and headers; the app sends no body (app.drop_head_body).
    RFC 9110 9.1 asks every GET to take HEAD, and link checkers and newsletter tools probe links
    with it. Out of the OpenAPI document, which documents the GET."""
    return route(
        list(get_handler.paths),
        http_method=HttpMethod.HEAD,
        media_type=get_handler.media_type or None,
        opt=dict(get_handler.opt),
        include_in_schema=False,
    )(get_handler.fn)


class HostedFormController(Controller):
    path = "/f/{org_slug:str}/{survey_slug:str}"
    tags = ["supporters"]
    opt = {"public": True}
    exception_handlers = PAGE_ERRORS
    guards = [rate_limit]

    @get(operation_id="HostedForm", media_type=MediaType.HTML, summary="The hosted form page")
    async def show(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        org_slug: FromPath[str],
        survey_slug: FromPath[str],
        now: Now,
        locale: Annotated[str | None, QueryParameter(max_length=35)] = None,
        token: Annotated[str | None, QueryParameter(max_length=128)] = None,
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
        return await current_form_page(db_session, page, token, now=now)

    show_head = head_of(show)

    @post(
        operation_id="SubmitHostedForm",
        media_type=MediaType.HTML,
        summary="Submit the hosted form (application/x-www-form-urlencoded)",
        status_code=200,
    )
    async def submit(
        self,
        request: Request[Any, Any, Any],
        state: State,
        submissions: Submitter,
        now: Now,
        org_slug: FromPath[str],
        survey_slug: FromPath[str],
    ) -> Response[str]:
        if request.content_type[0] not in FORM_MEDIA_TYPES:
            raise UnsupportedFormat("Send the form as application/x-www-form-urlencoded.")
        posted = Posted.of(await request.form())
        accept = request.headers.get("accept-language")
        # Reads only, in a session of their own: the request's write session would hold
        # SQLite's write lock, which the submission writer's own connection needs.
        async with sessions_of(state)() as session:
            try:
                page = await survey_page(
                    session,
                    org_slug=org_slug,
                    survey_slug=survey_slug,
                    requested_locale=posted.locale,
                    accept_language=accept,
                )
            except NotFound:
                return not_found_page(accept)
            page = await with_results_link(session, page)
            definition = await _definition_of(submissions, org_slug, survey_slug, posted.version)
            if definition is None:
                return await _stale_form_page(session, page, posted, now=now)
        return await submit_posted(submissions, page, posted, definition, now=now)


@dataclass(frozen=True, slots=True)
class Posted:
    """A hosted form as its POST came: answers by field name, and the hidden fields."""

    values: dict[str, list[str]]
    version: int | None
    response_id: str | None
    locale: str | None
    token: str | None
    page: int | None = None

    @classmethod
    def of(cls, form: FormMultiDict) -> Posted:
        def first(name: str) -> str | None:
            value = form.get(name)
            return value if isinstance(value, str) and value else None

        version = first("_version")
        page = first("_page")
        return cls(
            values={k: [v for v in form.getall(k) if isinstance(v, str)] for k in form},
            # ASCII digits only: str.isdigit() also takes "¹", which int() refuses.
            version=int(version) if version and _VERSION.fullmatch(version) else None,
            response_id=first("_response_id"),
            locale=first("_locale"),
            token=first("_token"),
            page=int(page) if page and _PAGE.fullmatch(page) else None,
        )

    def response_uuid(self) -> uuid.UUID:
        """The posted response_id, or a new one when it was mangled (nothing was stored)."""
        try:
            return uuid.UUID(self.response_id or "")
        except ValueError:
            return uuid.uuid4()


async def _definition_of(
    submissions: Submissions, org_slug: str, survey_slug: str, version: int | None
) -> Definition | None:
    if version is None:
        return None
    try:
        return await submissions.definition(
            await submissions.survey(org_slug, survey_slug), version
        )
    except Invalid:
        return None


async def _stale_form_page(
    session: AsyncSession, page: SurveyPage, posted: Posted, *, now: datetime
) -> Response[str]:
    """A page whose version is missing or unknown (only a tampered page has one): the current
    form again, with the answers kept."""
    try:
        current = await public_form(
            session,
            org_slug=page.org_slug,
            survey_slug=page.survey.slug,
            locale=page.locale,
            token=None,
            now=now,
        )
    except NotFound:  # no published version yet
        return not_ready_page(page)
    except Conflict as exc:
        return closed_page(page, exc.extra.get("next_opens_at"))
    return form_page(
        page,
        Definition.model_validate({"questions": current.questions}),
        version=current.version,
        response_id=uuid.uuid4(),
        token=posted.token,
        values=posted.values,
        errors=[
            FieldError(
                "/version",
                translate(page.locale, "the form is out of date; please submit it again"),
            )
        ],
    )


async def submit_posted(
    submissions: Submissions,
    page: SurveyPage,
    posted: Posted,
    definition: Definition,
    *,
    now: datetime,
) -> Response[str]:
    """Store the answers through the one submission door; thank-you, closed, or the form again
    with the answers kept and each error beside its field."""
    assert posted.version is not None
    version = posted.version

    def again(errors: Sequence[FieldError], index: int) -> Response[str]:
        return form_page(
            page,
            definition,
            version=version,
            response_id=posted.response_uuid(),
            token=posted.token,
            values=posted.values,
            errors=errors,
            index=index,
        )

    answers = answers_from_form(definition, posted.values, page.locale)
    pages = len(split_pages(definition))
    if posted.page is not None and posted.page < pages - 1:
        # A page before the last: check what it asked, then show the next page with a question.
        errors = errors_so_far(definition, posted.page, answers)
        if errors:
            return again(errors, posted.page)
        following = next_page(definition, posted.page, answers)
        if following is not None:
            return again((), following)
    try:
        submission = validate_model(
            SubmissionCreate,
            {
                "response_id": posted.response_id,
                "version": version,
                "answers": answers,
                "locale": page.locale,
                "channel": CHANNEL,
                "respondent_token": posted.token,
            },
        )
        await submissions.submit(
            org_slug=page.org_slug,
            survey_slug=page.survey.slug,
            submission=submission,
            received_at=now,
        )
    except Invalid as exc:
        return again(exc.errors, min(page_of(definition, exc.errors, posted.page or 0), pages - 1))
    except Conflict as exc:
        if "response_id" in exc.extra:  # sent before with other answers: those are kept
            return thank_you_page(page, repeated=True)
        return closed_page(page, exc.extra.get("next_opens_at"))
    # A replay of the same response_id and answers (Submit pressed twice) lands here too.
    return thank_you_page(page, repeated=False)
