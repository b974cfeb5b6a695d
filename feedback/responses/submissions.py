"""The supporter side: the public form, submissions and revisions.

`Submissions` is created once per process (the app's lifespan; `feedback.api.deps.Submitter`
injects it) and is the one door through which a supporter's answers get stored, whatever the
channel: the public JSON API, the hosted form page, the embed, an offline queue replaying.

What it keeps in memory is only what can never change: which survey id an (organisation slug,
survey slug) names (slugs are never renamed) and the definitions of published versions (immutable,
enforced by a trigger). A survey's settings, schedule and archival are read inside the
transaction that stores the answers, so no other process can contradict them.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.errors import DomainError, FieldError, Invalid, NotFound
from feedback.loop.public_results import has_public_results
from feedback.orgs.keys import hash_secret
from feedback.responses.group_commit import DEFAULT_MAX_BATCH, GroupCommit, WriteStore
from feedback.responses.models import Respondent
from feedback.responses.respondents import anonymous_respondent_id
from feedback.responses.schemas import RevisionCreate, SubmissionCreate
from feedback.responses.store_statements import (
    NewResponse,
    Outcome,
    Revision,
    SurveyStates,
    revise_response,
    store_responses,
)
from feedback.surveys import queries as survey_queries
from feedback.surveys.answers import AnswerValue, normalise_answers
from feedback.surveys.definition import Definition, choose_locale, localise_definition
from feedback.surveys.framing import Framing, framing_of
from feedback.surveys.models import SurveyVersion
from feedback.surveys.schedule import WaveWindow, archived_by, archived_conflict
from feedback.surveys.service import (
    current_version,
    definition_of,
    get_public_survey,
    survey_settings,
    wave_accepting_at,
)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Bounds on what the process remembers: enough for every live survey and version.
MAX_CACHED = 4096
# What a submission's document keeps of its body: the respondent's secrets become the link to
# the respondent and are never stored as they came.
_NOT_STORED = frozenset({"respondent_token", "anonymous_id"})


@dataclass(frozen=True, slots=True)
class SurveyRef:
    """A public survey's identity: fixed for its lifetime, so safe to remember."""

    org_id: uuid.UUID
    survey_id: uuid.UUID
    org_slug: str
    survey_slug: str


@dataclass(frozen=True, slots=True)
class PublishedVersion:
    """A published version as submissions read it: immutable, so safe to remember."""

    number: int
    definition: Definition
    published_at: datetime


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    """What a submission or revision answers. `created` is False for a replay of an earlier
    identical request (HTTP 200 rather than 201). `edit_token` is set for submissions only."""

    response_id: uuid.UUID
    revision: int
    wave: int
    edit_token: str | None
    created: bool


@dataclass(frozen=True, slots=True)
class PublicForm:
    """What a form needs: the current version, localised, and the wave it will land in."""

    org_slug: str
    survey_slug: str
    title: str
    version: int
    locale: str
    locales: list[str]
    questions: list[dict[str, Any]]
    wave: WaveWindow
    allow_edits: bool
    respondent: bool
    has_results: bool
    """Whether the survey shows public results (the thank-you links to them)."""
    framing: Framing


def body_hash(document: dict[str, Any]) -> str:
    """SHA-256 of a body's canonical JSON: the same content in any key order hashes alike.

    msgspec (Litestar's own JSON codec) sorts keys ten times faster than `json.dumps`, which
    matters on the submission and import paths."""
    return hashlib.sha256(msgspec.json.encode(document, order="sorted")).hexdigest()


class Submissions:
    """Validates submissions, then hands them to the group-commit writer."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        store: WriteStore,
        *,
        secret: str,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        self._sessions = sessions
        self.store = store
        self._secret = secret
        # The writer's hints about surveys' state (see SurveyStates), shared with imports.
        self.survey_states = SurveyStates()
        # Autocommit: every write of store_responses but one is idempotent (waves), and that
        # one, the responses with their revisions, answers and anonymous respondents, is a
        # single statement on PostgreSQL, so a batch needs no BEGIN/COMMIT round trips.
        self._writer: GroupCommit[NewResponse, Outcome] = GroupCommit(
            store,
            partial(store_responses, surveys=self.survey_states),
            max_batch=max_batch,
            autocommit=True,
        )
        self._refs: dict[tuple[str, str], SurveyRef] = {}
        self._versions: dict[tuple[uuid.UUID, int], PublishedVersion] = {}

    @property
    def secret(self) -> str:
        return self._secret

    async def close(self) -> None:
        """Store what is queued, then release the writer."""
        await self._writer.close()
        await self.store.close()

    # --- the public door -----------------------------------------------------------------

    async def submit(
        self,
        *,
        org_slug: str,
        survey_slug: str,
        submission: SubmissionCreate,
        received_at: datetime,
    ) -> SubmissionResult:
        """Store a supporter's submission; the domain function behind every channel.

        - `submission` is the body of POST /api/v1/public/{org}/{survey}/responses. Its answers
          are validated against `submission.version` (any published version of the survey).
        - `received_at` is the server's receive time (the request's `now`); it picks the wave.
        - Returns when the response is committed: `created=True` for a new response, False for
          a replay of the same `response_id` with the same body (the original result again,
          the same `edit_token` included).

        Raises (nothing is stored in any of these cases):
        - `NotFound`: no such organisation or survey.
        - `Invalid`: bad answers (pointers `/answers/<key>`), an unknown or unpublished version
          (`/version`), an unknown `respondent_token` (`/respondent_token`).
        - `Conflict`: the survey is archived; no wave is open (`extra["next_opens_at"]`, a
          datetime or None); the `response_id` was used for a different body.
        """
        survey = await self.survey(org_slug, survey_slug)
        definition = await self.definition(survey, submission.version)
        values = _normalised(definition, submission.answers, submission.locale)
        document = submission.model_dump(mode="json")
        pk = uuid.uuid4()
        edit_token = self.edit_token(pk)
        token = submission.respondent_token
        anonymous = None
        if token is None and submission.anonymous_id is not None:
            anonymous = anonymous_respondent_id(
                self._secret, survey.org_id, submission.anonymous_id
            )
        item = NewResponse(
            org_id=survey.org_id,
            survey_id=survey.survey_id,
            response_id=submission.response_id,
            pk=pk,
            version=submission.version,
            document={k: v for k, v in document.items() if k not in _NOT_STORED},
            body_hash=body_hash(document),
            values=values,
            submitted_at=received_at,
            received_at=received_at,
            channel=submission.channel,
            locale=submission.locale,
            edit_token_hash=hash_secret(edit_token),
            token_hash=None if token is None else hash_secret(token),
            anonymous_respondent_id=anonymous,
        )
        outcome = await self._writer.submit(item)
        if isinstance(outcome, DomainError):
            raise outcome
        return SubmissionResult(
            response_id=outcome.response_id,
            revision=outcome.revision,
            wave=outcome.wave,
            edit_token=edit_token if outcome.pk == pk else self.edit_token(outcome.pk),
            created=outcome.created,
        )

    async def revise(
        self,
        *,
        org_slug: str,
        survey_slug: str,
        response_id: uuid.UUID,
        edit_token: str,
        if_match: frozenset[int] | None,
        revision: RevisionCreate,
        received_at: datetime,
    ) -> SubmissionResult:
        """Add revision n+1 to a response, keeping every earlier one.

        `if_match` holds the revision numbers the client believes current (None: any). Raises
        `NotFound` (unknown id or wrong token), `Invalid` (answers, version), `Conflict`
        (archived, edits not allowed, the response's wave has closed) or `StaleRevision`
        (the response is at another revision). Resending the revision that is already
        current answers it again with `created=False`.
        """
        if revision.response_id is not None and revision.response_id != response_id:
            raise Invalid.at("/response_id", "must be the response id of the URL")
        survey = await self.survey(org_slug, survey_slug)
        definition = await self.definition(survey, revision.version)
        values = _normalised(definition, revision.answers, revision.locale)
        document = revision.model_dump(mode="json")
        document["response_id"] = str(response_id)
        item = Revision(
            survey_id=survey.survey_id,
            response_id=response_id,
            edit_token_hash=hash_secret(edit_token),
            if_match=if_match,
            version=revision.version,
            # A form resends the secrets it submitted with: they are taken, and not stored.
            document={k: v for k, v in document.items() if k not in _NOT_STORED},
            body_hash=body_hash(document),
            values=values,
            received_at=received_at,
            channel=revision.channel,
        )
        stored = await self.store.run(lambda conn: revise_response(conn, item))
        return SubmissionResult(
            response_id=response_id,
            revision=stored.revision,
            wave=stored.wave,
            edit_token=None,
            created=stored.created,
        )

    def edit_token(self, response_pk: uuid.UUID) -> str:
        """The edit token of a response: a keyed hash of our random id for it.

        Derived rather than stored, so a replay can answer the original result, token included;
        only its SHA-256 is stored, and without the instance secret the database cannot give it.
        """
        digest = hmac.new(
            self._secret.encode(), b"edit-token\x00" + response_pk.bytes, hashlib.sha256
        ).digest()
        return digest.hex()

    # --- what never changes ----------------------------------------------------------------

    async def survey(self, org_slug: str, survey_slug: str) -> SurveyRef:
        key = (org_slug, survey_slug)
        found = self._refs.get(key)
        if found is None:
            async with self._sessions() as session:
                org, survey = await get_public_survey(
                    session, org_slug=org_slug, survey_slug=survey_slug
                )
            found = SurveyRef(org.id, survey.id, org.slug, survey.slug)
            _remember(self._refs, key, found)
        return found

    async def definition(self, survey: SurveyRef, number: int) -> Definition:
        """The definition of a published version; `Invalid` at /version otherwise."""
        return (await self.version(survey, number)).definition

    async def version(self, survey: SurveyRef, number: int) -> PublishedVersion:
        """A published version (its definition and when it was published); `Invalid` at
        /version otherwise."""
        key = (survey.survey_id, number)
        found = self._versions.get(key)
        if found is None:
            async with self._sessions() as session:
                version = await session.scalar(
                    survey_queries.published_versions_of(survey.survey_id).where(
                        SurveyVersion.number == number
                    )
                )
            if version is None or version.published_at is None:
                raise Invalid.at(
                    "/version", f"is not a published version of this survey ({number})"
                )
            found = PublishedVersion(number, definition_of(version), version.published_at)
            _remember(self._versions, key, found)
        return found


async def public_form(
    session: AsyncSession,
    *,
    org_slug: str,
    survey_slug: str,
    locale: str | None,
    token: str | None,
    now: datetime,
) -> PublicForm:
    """The current version of a survey, localised, and the wave open at `now`.

    Raises `NotFound` (no such survey, or no published version yet), `Conflict` when archived or
    between waves (`extra["next_opens_at"]`), `Invalid` at `/token` for an unknown token.
    """
    org, survey = await get_public_survey(session, org_slug=org_slug, survey_slug=survey_slug)
    if archived_by(survey, now):
        raise archived_conflict(survey)
    version = await current_version(session, survey)
    if version is None:
        raise NotFound(f"Survey '{survey.slug}' has no published version yet.")
    window = await wave_accepting_at(session, survey, now)
    respondent = False
    if token is not None:
        found = await session.scalar(
            select(Respondent.id).where(
                Respondent.org_id == org.id, Respondent.token_hash == hash_secret(token)
            )
        )
        if found is None:
            raise Invalid([FieldError("/token", "is not a valid respondent token")])
        respondent = True
    settings = survey_settings(survey)
    chosen = choose_locale(locale, settings.locales, survey.default_locale)
    localised = localise_definition(definition_of(version), chosen, survey.default_locale)
    framing = framing_of(survey, settings, org_name=org.name, locale=chosen)
    return PublicForm(
        org_slug=org.slug,
        survey_slug=survey.slug,
        title=framing.title,
        version=version.number,
        locale=chosen,
        locales=list(settings.declared_locales(survey.default_locale)),
        questions=localised.to_json()["questions"],
        wave=window,
        allow_edits=settings.allow_edits,
        respondent=respondent,
        has_results=await has_public_results(session, survey),
        framing=framing,
    )


def _normalised(
    definition: Definition, answers: dict[str, Any], locale: str | None
) -> list[AnswerValue]:
    # The supporter reads these messages: in the submission's language.
    try:
        return normalise_answers(definition, answers, locale)
    except Invalid as exc:
        raise Invalid(exc.errors, "The answers are invalid.") from None


def _remember(cache: dict[K, V], key: K, value: V) -> None:
    if len(cache) >= MAX_CACHED:
        cache.pop(next(iter(cache)))  # the oldest entry: dicts keep insertion order
    cache[key] = value
