"""The statements that store responses: blocking functions run on the group commit's connection.

Named for what it holds, the storing statements, apart from the queueing and transactions of
`group_commit` that run them.

They take a SQLAlchemy `Connection` already inside a transaction and never commit: the caller
(`feedback.responses.group_commit`) runs a whole batch in one transaction, in one call into the
SQLite writer thread or one `run_sync` on a PostgreSQL connection. Items were validated before they
got here; what only the database can decide (the survey's state and wave at the time, duplicates,
respondent tokens) comes back per item as an outcome, so one item's refusal never fails the others
in its batch. Unexpected database errors raise, and the caller retries item by item.

Rows that two transactions may both write (waves, respondents, responses: anything inserted
with ON CONFLICT) are written in one global order, by their conflict key, so that batches of
different requests or processes that overlap wait for each other instead of deadlocking.

A refused item leaves nothing behind ("a rejected request changes nothing"): the respondent an
item would create is written only for a response really inserted. An embed's anonymous
respondent, whose id is known beforehand, is inserted after the responses, from those inserted
(PostgreSQL: in the same statement; SQLite: with its foreign keys checked at commit). A
respondent named by an imported ref has to exist (or be found) first; the ones a call made
that end up linked to no inserted response are deleted again in its transaction.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from feedback.db import utcnow
from feedback.errors import Conflict, DomainError, Invalid, NotFound, StaleRevision
from feedback.loop.fanout import Events, subscribed
from feedback.responses import bulk, change_log
from feedback.responses.models import Answer, Respondent, Response, ResponseRevision
from feedback.surveys.answers import AnswerValue
from feedback.surveys.models import Survey, Wave
from feedback.surveys.queries import stored_wave_at
from feedback.surveys.schedule import WaveWindow, archived_by, archived_conflict, wave_accepting
from feedback.surveys.service import survey_settings


@dataclass(slots=True)
class NewResponse:
    """A validated submission (or imported line) ready to store as revision 1."""

    org_id: uuid.UUID
    survey_id: uuid.UUID
    response_id: uuid.UUID
    pk: uuid.UUID
    version: int
    document: dict[str, Any]
    body_hash: str
    values: list[AnswerValue]
    submitted_at: datetime
    received_at: datetime
    channel: str
    locale: str | None
    edit_token_hash: str | None = None
    # At most one of these links the response to a respondent.
    token_hash: str | None = None
    anonymous_respondent_id: uuid.UUID | None = None
    ref_hash: str | None = None


@dataclass(slots=True)
class Revision:
    """A validated revision of an existing response."""

    survey_id: uuid.UUID
    response_id: uuid.UUID
    edit_token_hash: str
    if_match: frozenset[int] | None
    version: int
    document: dict[str, Any]
    body_hash: str
    values: list[AnswerValue]
    received_at: datetime
    # The channel the revision came through; None keeps the response's (a form that did not say).
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class Stored:
    """What a submission or revision left in the database. `created` is False for a replay."""

    pk: uuid.UUID
    response_id: uuid.UUID
    revision: int
    wave: int
    created: bool


Outcome = Stored | DomainError


@dataclass(slots=True)
class _SurveyState:
    survey: Survey
    # Read in the current transaction (not remembered from an earlier one).
    fresh: bool
    windows: list[WaveWindow] = field(default_factory=list)


class SurveyStates:
    """What the writer knows of the surveys it writes to, kept across batches: each survey's
    row and the wave windows found for it, so a batch needs no round trip to read them.

    A hint, never the truth: the statement that inserts responses also checks that each
    survey's `updated_at` (bumped by every change of settings, schedule or archival) is still
    the one the hint was read with, and inserts nothing otherwise; the batch is then redone on
    a fresh read. Wave rows are only ever created from a fresh read. So no change made by
    another process can be contradicted by what this one remembers.
    """

    MAX_SURVEYS = 4096

    def __init__(self) -> None:
        self._states: dict[uuid.UUID, _SurveyState] = {}

    def get(
        self, conn: Connection, ids: set[uuid.UUID], *, fresh: bool
    ) -> dict[uuid.UUID, _SurveyState]:
        """The surveys of `ids` (absent: no such survey), each marked `fresh` when read by this
        call, i.e. in the caller's transaction; `fresh=True` reads them all."""
        wanted = ids if fresh else ids - self._states.keys()
        if len(self._states) + len(wanted) > self.MAX_SURVEYS:
            self._states.clear()
            wanted = ids
        for survey_id in wanted:
            self._states.pop(survey_id, None)
        if wanted:
            for row in conn.execute(select(Survey).where(Survey.id.in_(list(wanted)))):
                self._states[row.id] = _SurveyState(Survey(**row._asdict()), fresh=False)
        # Copies: concurrent transactions (imports on PostgreSQL) share the remembered states,
        # but whether a state was read in *this* transaction is this call's own answer.
        found = ((i, self._states.get(i)) for i in ids)
        return {
            i: _SurveyState(state.survey, fresh=i in wanted, windows=state.windows)
            for i, state in found
            if state is not None
        }

    def forget(self, ids: set[uuid.UUID]) -> None:
        for survey_id in ids:
            self._states.pop(survey_id, None)


class _Stale(Exception):
    """A remembered survey state is older than the database's; redo on a fresh read."""


def store_responses(
    conn: Connection,
    items: Sequence[NewResponse],
    surveys: SurveyStates | None = None,
    *,
    staged: bool = False,
) -> list[Outcome]:
    """Store new responses; one outcome per item, in order.

    `staged` (large batches in a transaction, i.e. imports): on PostgreSQL the answer rows
    are COPYed into a temporary table first (`bulk.stage`) rather than sent as JSON.

    Each item is checked against its survey (archived, the wave holding its `submitted_at`, its
    respondent), then all are inserted with ON CONFLICT (survey_id, response_id) DO NOTHING. An
    item whose insert did not take (the same response_id stored earlier, by a batch-mate, or by
    a racing transaction of another process) or that its survey refused is looked up: the same
    body is a replay of the stored response, another body a conflict. So concurrent duplicates
    meet on the unique constraint and store exactly one.

    Respondents are created for inserted responses only (see the module's docstring). Items
    with a `ref_hash` (imports) must come in a transaction: the ref respondents made for items
    that were not inserted are deleted again before it commits.
    """
    surveys = surveys or SurveyStates()
    ids = {item.survey_id for item in items}
    # The ref respondents this call inserted, over every pass of a batch redone on _Stale.
    made: set[uuid.UUID] = set()
    try:
        tokens = _token_respondents(conn, items)
        fresh = False
        for _ in range(3):
            try:
                states = surveys.get(conn, ids, fresh=fresh)
                return _store(conn, items, states, tokens, made, staged=staged)
            except _Stale:
                surveys.forget(ids)
                fresh = True
    except BaseException:
        # The transaction will not commit: forget the wave windows it may have created.
        surveys.forget(ids)
        raise
    raise RuntimeError("the survey changed three times during one batch")


def _store(
    conn: Connection,
    items: Sequence[NewResponse],
    surveys: dict[uuid.UUID, _SurveyState],
    tokens: dict[int, uuid.UUID],
    made: set[uuid.UUID],
    *,
    staged: bool,
) -> list[Outcome]:
    outcomes: list[Outcome | None] = [None] * len(items)
    placed: dict[int, tuple[int, uuid.UUID | None]] = {}
    # In time order per survey, so that the wave rows a batch creates come in wave order.
    for i in sorted(range(len(items)), key=lambda i: (items[i].survey_id, items[i].submitted_at)):
        item = items[i]
        state = surveys.get(item.survey_id)
        if state is None:
            outcomes[i] = NotFound("The survey no longer exists.")
            continue
        wave = _wave_for(conn, state, item.submitted_at)
        if isinstance(wave, DomainError):
            if not state.fresh:
                raise _Stale  # a refusal is only ever made on a fresh read
            outcomes[i] = wave
            continue
        respondent_id = tokens.get(i)
        if item.token_hash is not None and respondent_id is None:
            outcomes[i] = Invalid.at("/respondent_token", "is not a valid respondent token")
            continue
        placed[i] = (wave.number, respondent_id)
    # Refs are found or made only now, for the items no check refused.
    refs = _ref_respondents(conn, [items[i] for i in placed], made)
    for i, (wave_number, respondent_id) in placed.items():
        item = items[i]
        if item.ref_hash is not None:
            placed[i] = (wave_number, refs[(item.org_id, item.ref_hash)])
        elif respondent_id is None and item.token_hash is None:
            placed[i] = (wave_number, item.anonymous_respondent_id)
    stamps = {survey_id: state.survey.updated_at for survey_id, state in surveys.items()}
    in_key_order = sorted(placed, key=lambda i: (items[i].survey_id, items[i].response_id))
    events = Events(conn)
    wanted = subscribed(conn, {items[i].org_id for i in placed}, "response.created")
    for i in in_key_order:
        if items[i].org_id in wanted:
            survey = surveys[items[i].survey_id].survey
            events.add(**_created_event(items[i], placed[i][0], survey))
    new = [(items[i], *placed[i]) for i in in_key_order]
    created = _insert_new(conn, new, stamps, events, staged=staged)
    if made:
        linked = {placed[i][1] for i in placed if items[i].pk in created}
        _delete_respondents(conn, made - linked)
    for i in placed:
        if items[i].pk in created:
            outcomes[i] = Stored(items[i].pk, items[i].response_id, 1, placed[i][0], created=True)
    unsettled = [i for i, item in enumerate(items) if item.pk not in created]
    if unsettled:
        existing = _existing(conn, [items[i] for i in unsettled])
        for i in unsettled:
            found = existing.get((items[i].survey_id, items[i].response_id))
            if found is not None:
                outcomes[i] = _replay_or_conflict(items[i], found)
    assert all(o is not None for o in outcomes)
    return [o for o in outcomes if o is not None]


RESPONSE_COLUMNS = (
    "id",
    "org_id",
    "survey_id",
    "response_id",
    "respondent_id",
    "wave_number",
    "version",
    "revision",
    "channel",
    "locale",
    "submitted_at",
    "revised_at",
    "received_at",
    "edit_token_hash",
    "body_hash",
)
REVISION_COLUMNS = ("response_id", "revision", "version", "document", "body_hash", "submitted_at")
ANONYMOUS_COLUMNS = ("id", "org_id", "kind", "attributes", "created_at", "updated_at")
# An answer row: its revision's columns, then an AnswerValue's (in the named tuple's order).
ANSWER_REVISION_COLUMNS = (
    "org_id",
    "survey_id",
    "response_id",
    "revision",
    "wave_number",
    "version",
    "respondent_id",
    "channel",
    "is_current",
)
# AnswerValue's fields are named after their columns.
ANSWER_VALUE_COLUMNS = AnswerValue._fields


def _answer_rows(conn: Connection) -> bulk.ChildRows:
    return bulk.ChildRows(conn, Answer, ANSWER_REVISION_COLUMNS, ANSWER_VALUE_COLUMNS)


def _created_event(item: NewResponse, wave: int, survey: Survey) -> dict[str, Any]:
    """`response.created`, whose id is the response's row id: one event per stored response,
    known before the insert, so the statement that inserts can fan out exactly the new ones."""
    return {
        "event_id": item.pk,
        "org_id": item.org_id,
        "event_type": "response.created",
        "data": {
            "survey": survey.slug,
            "response_id": str(item.response_id),
            "revision": 1,
            "version": item.version,
            "wave": wave,
            "channel": item.channel,
            "locale": item.locale,
            "submitted_at": item.submitted_at.isoformat(),
        },
        "now": item.received_at,
    }


def _insert_new(
    conn: Connection,
    new: Sequence[tuple[NewResponse, int, uuid.UUID | None]],
    stamps: dict[uuid.UUID, datetime],
    events: Events,
    *,
    staged: bool = False,
) -> set[uuid.UUID]:
    """Insert responses with their first revision and answer rows, and fan out the
    `response.created` events (`events`, keyed by response pk) and create the anonymous
    respondents of those really inserted; the pks that were new.

    Raises `_Stale`, having inserted nothing, when a survey's `updated_at` is not in `stamps`.
    """
    if not new:
        return set()
    # The anonymous respondents the items link to (id → organisation), in id order: the order
    # every writer inserts them in.
    anonymous = dict(
        sorted(
            (respondent_id, item.org_id)
            for item, _, respondent_id in new
            if respondent_id is not None and respondent_id == item.anonymous_respondent_id
        )
    )
    now = utcnow()
    respondents = bulk.Rows(conn, Respondent, ANONYMOUS_COLUMNS)
    responses = bulk.Rows(conn, Response, RESPONSE_COLUMNS)
    revisions = bulk.Rows(conn, ResponseRevision, REVISION_COLUMNS)
    answers = _answer_rows(conn)
    for item, wave, respondent_id in new:
        responses.add_row(
            item.pk,
            item.org_id,
            item.survey_id,
            item.response_id,
            respondent_id,
            wave,
            item.version,
            1,
            item.channel,
            item.locale,
            item.submitted_at,
            item.received_at,
            item.received_at,
            item.edit_token_hash,
            item.body_hash,
        )
        revisions.add_row(item.pk, 1, item.version, item.document, item.body_hash, item.received_at)
        parent = (
            item.org_id,
            item.survey_id,
            item.pk,
            1,
            wave,
            item.version,
            respondent_id,
            item.channel,
            True,
        )
        answers.add(parent, item.values)
    if conn.dialect.name == "postgresql":
        # One statement, one round trip: it checks the surveys' stamps, and inserts the
        # revisions and answers of the responses its first INSERT really inserted (RETURNING),
        # never of a duplicate it skipped, and the anonymous respondents they link to. The
        # foreign key of response.respondent_id is checked at the end of the statement, once
        # those are in.
        params: list[Any] = [list(stamps), list(stamps.values()), len(stamps)]
        r_select, r_param = responses.select(4)
        v_select, v_param = revisions.select(5)
        params += [r_param, v_param]
        sql = (
            "WITH stamps AS (SELECT count(*) = $3 AS ok FROM survey "  # noqa: S608
            "JOIN unnest($1::uuid[], $2::timestamptz[]) AS s(id, at) "
            "ON survey.id = s.id AND survey.updated_at = s.at), "
            f"new AS (INSERT INTO {responses.target()} SELECT * FROM ({r_select}) AS r "
            "WHERE (SELECT ok FROM stamps) "
            "ON CONFLICT (survey_id, response_id) DO NOTHING "
            "RETURNING id, survey_id, wave_number, respondent_id), "
            f"changes AS ({change_log.POSTGRES_FROM_NEW}), "
            f"revisions AS (INSERT INTO {revisions.target()} SELECT * FROM ({v_select}) AS v "
            "WHERE v.response_id IN (SELECT id FROM new))"
        )
        if answers:
            if staged:
                a_select = bulk.stage(conn, answers)
            else:
                a_select, a_param = answers.select(len(params) + 1)
                params.append(a_param)
            sql += (
                f", answers AS (INSERT INTO {answers.target()} SELECT * FROM ({a_select}) AS a "  # noqa: S608
                "WHERE a.response_id IN (SELECT id FROM new))"
            )
        if anonymous:
            for respondent_id, org_id in anonymous.items():
                respondents.add_row(respondent_id, org_id, "anonymous", {}, now, now)
            p_select, p_param = respondents.select(len(params) + 1)
            params.append(p_param)
            # ARRAY(…) runs `new` to its end before the first respondent is inserted, so the
            # respondents follow all the responses, in id order, as in every other batch.
            sql += (
                f", respondents AS (INSERT INTO {respondents.target()} "  # noqa: S608
                f"SELECT * FROM ({p_select}) AS p "
                "WHERE p.id = ANY(ARRAY(SELECT respondent_id FROM new)) "
                "ON CONFLICT (id) DO NOTHING)"
            )
        if events:
            e_insert, e_param = events.postgres_insert(
                len(params) + 1, only_events_in="SELECT id FROM new"
            )
            params.append(e_param)
            sql += f", deliveries AS ({e_insert})"
        sql += " SELECT (SELECT ok FROM stamps), ARRAY(SELECT id FROM new)"
        ok, ids = conn.exec_driver_sql(sql, tuple(params)).one()
        if not ok:
            raise _Stale
        return {_as_uuid(pk) for pk in ids}
    # SQLite: this transaction holds the database's write lock, so what it reads stays true
    # until it commits, and the count of rows inserted tells whether any was a duplicate.
    current = dict(
        conn.execute(select(Survey.id, Survey.updated_at).where(Survey.id.in_(list(stamps)))).all()
    )
    if current != stamps:
        raise _Stale
    if anonymous:
        # The respondents are inserted after the responses, once it is known which went in;
        # until then the responses' foreign key may point at none. Off again at COMMIT.
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    inserted = bulk.insert(conn, responses, skip_conflicts_on=("survey_id", "response_id"))
    pks = [item.pk for item, _, _ in new]
    if inserted == len(pks):
        created = set(pks)
    else:
        created = set(conn.execute(select(Response.id).where(Response.id.in_(pks))).scalars().all())
        keep = {revisions.encode("response_id", pk) for pk in created}
        revisions.rows = [r for r in revisions.rows if r[0] in keep]
        answers.keep("response_id", created)
        keep_events = {events.rows.encode("event_id", pk) for pk in created}
        events.rows.rows = [e for e in events.rows.rows if e[0] in keep_events]
    linked = {respondent_id for item, _, respondent_id in new if item.pk in created}
    for respondent_id, org_id in anonymous.items():
        if respondent_id in linked:
            respondents.add_row(respondent_id, org_id, "anonymous", {}, now, now)
    bulk.insert(conn, respondents, skip_conflicts_on=("id",))
    bulk.insert(conn, revisions)
    bulk.insert(conn, answers)
    changed = change_log.answers_changed(
        (item.survey_id, wave) for item, wave, _ in new if item.pk in created
    )
    if changed is not None:
        conn.execute(changed)
    events.write(conn)
    return created


def _as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def revise_response(conn: Connection, item: Revision) -> Stored:
    """Add revision n+1 and move the current flag to it, or raise why not.

    The compare-and-set on `response.revision` makes two concurrent revisions of the same
    revision meet: the second updates no row and answers StaleRevision.
    """
    row = conn.execute(
        select(
            Response.id,
            Response.revision,
            Response.wave_number,
            Response.edit_token_hash,
            Response.respondent_id,
            Response.org_id,
            Response.channel,
            ResponseRevision.body_hash,
        )
        .join(
            ResponseRevision,
            (ResponseRevision.response_id == Response.id)
            & (ResponseRevision.revision == Response.revision),
        )
        .where(Response.survey_id == item.survey_id, Response.response_id == item.response_id)
    ).first()
    if (
        row is None
        or row.edit_token_hash is None
        or not hmac.compare_digest(row.edit_token_hash, item.edit_token_hash)
    ):
        raise NotFound("No response with this id accepts this edit token.")
    if row.body_hash == item.body_hash and (
        item.if_match is None or item.if_match & {row.revision, row.revision - 1}
    ):
        # A retried revision, or one that changes nothing: the current revision stands.
        return Stored(row.id, item.response_id, row.revision, row.wave_number, created=False)
    state = SurveyStates().get(conn, {item.survey_id}, fresh=True).get(item.survey_id)
    if state is None:
        raise NotFound("The survey no longer exists.")
    survey = state.survey
    if archived_by(survey, item.received_at):
        raise archived_conflict(survey)
    if not survey_settings(survey).allow_edits:
        raise Conflict(f"Survey '{survey.slug}' does not allow responses to be revised.")
    closes_at = conn.execute(
        select(Wave.closes_at).where(
            Wave.survey_id == item.survey_id, Wave.number == row.wave_number
        )
    ).scalar()
    if closes_at is not None and closes_at <= item.received_at:
        raise Conflict(
            f"Wave {row.wave_number} has closed; its responses can no longer be revised.",
            closed_at=closes_at,
        )
    if item.if_match is not None and row.revision not in item.if_match:
        raise StaleRevision(f"The response is at revision {row.revision}; If-Match names another.")
    revision = row.revision + 1
    moved = conn.execute(
        update(Response)
        .where(Response.id == row.id, Response.revision == row.revision)
        .values(
            revision=revision,
            version=item.version,
            revised_at=item.received_at,
            # Analysis splits and filters by the channel of the latest revision.
            **({} if item.channel is None else {"channel": item.channel}),
        )
    )
    if moved.rowcount != 1:
        raise StaleRevision("The response was revised concurrently; fetch it and retry.")
    conn.execute(
        update(Answer)
        .where(Answer.response_id == row.id, Answer.is_current)
        .values(is_current=False)
    )
    revisions = bulk.Rows(conn, ResponseRevision, REVISION_COLUMNS)
    revisions.add_row(
        row.id, revision, item.version, item.document, item.body_hash, item.received_at
    )
    bulk.insert(conn, revisions)
    answers = _answer_rows(conn)
    parent = (
        row.org_id,
        item.survey_id,
        row.id,
        revision,
        row.wave_number,
        item.version,
        row.respondent_id,
        row.channel if item.channel is None else item.channel,
        True,
    )
    answers.add(parent, item.values)
    bulk.insert(conn, answers)
    changed = change_log.answers_changed([(item.survey_id, row.wave_number)])
    assert changed is not None
    conn.execute(changed)
    events = Events(conn)
    events.add(
        event_id=uuid.uuid4(),
        org_id=row.org_id,
        event_type="response.revised",
        data={
            "survey": survey.slug,
            "response_id": str(item.response_id),
            "revision": revision,
            "version": item.version,
            "wave": row.wave_number,
        },
        now=item.received_at,
    )
    events.write(conn)
    return Stored(row.id, item.response_id, revision, row.wave_number, created=True)


# --- pieces -------------------------------------------------------------------------------------


def _existing(
    conn: Connection, items: Iterable[NewResponse]
) -> dict[tuple[uuid.UUID, uuid.UUID], Any]:
    by_survey: dict[uuid.UUID, list[uuid.UUID]] = {}
    for item in items:
        by_survey.setdefault(item.survey_id, []).append(item.response_id)
    found: dict[tuple[uuid.UUID, uuid.UUID], Any] = {}
    for survey_id, ids in by_survey.items():
        rows = conn.execute(
            select(
                Response.id,
                Response.survey_id,
                Response.response_id,
                Response.body_hash,
                Response.wave_number,
            ).where(Response.survey_id == survey_id, Response.response_id.in_(ids))
        )
        for row in rows:
            found[(row.survey_id, row.response_id)] = row
    return found


def _replay_or_conflict(item: NewResponse, found: Any) -> Outcome:
    if found.body_hash == item.body_hash:
        return Stored(found.id, item.response_id, 1, found.wave_number, created=False)
    return Conflict(
        "This response_id was already used for different answers; a new response needs a new "
        "response_id, a change to this one a revision (PUT).",
        response_id=str(item.response_id),
    )


def _wave_for(conn: Connection, state: _SurveyState, at: datetime) -> WaveWindow | DomainError:
    """The wave accepting answers at `at` (`schedule.wave_accepting`, as the async services
    decide it), its row created if new."""
    survey = state.survey
    # Archival first: a window remembered from an earlier item must not outlive it.
    if archived_by(survey, at):
        return archived_conflict(survey)
    for window in state.windows:
        if window.holds(at):
            return window
    row = conn.execute(stored_wave_at(survey.id, at)).first()
    stored = None if row is None else WaveWindow(*row)
    window_or_refusal = wave_accepting(survey, at, stored)
    if isinstance(window_or_refusal, DomainError):
        return window_or_refusal
    window = window_or_refusal
    if stored is None:
        if not state.fresh:
            raise _Stale  # a wave row is a lasting record: only ever made from a fresh read
        waves = bulk.Rows(
            conn, Wave, ("id", "survey_id", "number", "label", "opens_at", "closes_at")
        )
        waves.add_row(
            uuid.uuid4(), survey.id, window.number, window.label, window.opens_at, window.closes_at
        )
        # Racing writers, here or in another process, agree on one row per wave number.
        bulk.insert(conn, waves, skip_conflicts_on=("survey_id", "number"))
    state.windows.append(window)
    return window


def _token_respondents(conn: Connection, items: Sequence[NewResponse]) -> dict[int, uuid.UUID]:
    """The respondent of each item that names one by its token (index → id); unknown tokens are
    absent. Reads only."""
    tokens = {item.token_hash for item in items if item.token_hash is not None}
    if not tokens:
        return {}
    known = {
        (row.org_id, row.token_hash): row.id
        for row in conn.execute(
            select(Respondent.id, Respondent.org_id, Respondent.token_hash).where(
                Respondent.token_hash.in_(tokens)
            )
        )
    }
    return {
        i: found
        for i, item in enumerate(items)
        if item.token_hash is not None and (found := known.get((item.org_id, item.token_hash)))
    }


def _ref_respondents(
    conn: Connection, items: Sequence[NewResponse], made: set[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], uuid.UUID]:
    """Imported lines name respondents by their external ref: find them, or create them (the
    organisation vouches for its own refs; nothing comes from a supporter here). By (org, ref
    hash); the ids of those created are added to `made`."""
    wanted = {(item.org_id, item.ref_hash) for item in items if item.ref_hash is not None}
    if not wanted:
        return {}

    def lookup() -> dict[tuple[uuid.UUID, str], uuid.UUID]:
        found: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
        for org_id in {org for org, _ in wanted}:
            hashes = [h for org, h in wanted if org == org_id]
            rows = conn.execute(
                select(Respondent.id, Respondent.ref_hash).where(
                    Respondent.org_id == org_id, Respondent.ref_hash.in_(hashes)
                )
            )
            found.update({(org_id, row.ref_hash): row.id for row in rows})
        return found

    found = lookup()
    missing = wanted - found.keys()
    if missing:
        now = utcnow()
        rows = bulk.Rows(
            conn,
            Respondent,
            ("id", "org_id", "kind", "ref_hash", "attributes", "created_at", "updated_at"),
        )
        ours = {key: uuid.uuid4() for key in sorted(missing)}
        for (org_id, hashed), respondent_id in ours.items():
            rows.add_row(respondent_id, org_id, "known", hashed, {}, now, now)
        bulk.insert(conn, rows, skip_conflicts_on=("org_id", "ref_hash"))
        found = lookup()
        # Where a racing transaction made the same ref first, its row is found instead of ours.
        made.update(rid for key, rid in ours.items() if found[key] == rid)
    return found


def _delete_respondents(conn: Connection, ids: set[uuid.UUID]) -> None:
    """Delete respondents this transaction made and no response links to: they hold nothing
    (no attributes, no token), so nothing else changes with them."""
    if ids:
        conn.execute(delete(Respondent).where(Respondent.id.in_(sorted(ids))))
