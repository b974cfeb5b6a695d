"""Offline import: answers collected on paper, at events or in another tool.

The file is read as it streams in, a line (a CSV record) at a time, and stored in batches, each
in a transaction of its own with its audit event; memory holds one batch, never the file.
Every valid line is stored and every invalid one reported with its line number and pointer.
A line is never dated in the future (beyond a little clock skew) nor before the version it
answers was published (`answered_after_publication`).

- NDJSON (`application/x-ndjson`): one object a line, a submission plus `submitted_at` (required,
  RFC 3339) and `respondent_ref`; `version` defaults to the current version, `channel` to
  `import`.
- CSV (`text/csv`): a header, then one row a response, one column a question key (multi-choice
  options joined by `;`, an empty cell unanswered). Reserved columns: `response_id`, `version`,
  `submitted_at`, `respondent_ref`, `channel`, `locale`; the other columns of our own wide export
  (`revision`, `wave`, `revised_at`, `respondent_id`, the `attribute.NAME` columns) are ignored,
  so an export imports as is.

Re-sending a file imports nothing twice: a line's `response_id` is its identity, and a line
without one gets an id derived from the survey, its line number and its content, so the same
file (or the same file with lines appended) yields the same ids. A replayed line counts as a
duplicate; a `response_id` already used with other content is a rejected line.
"""

from __future__ import annotations

import asyncio
import csv
import json
import math
import re
import uuid
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field, ValidationError
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from feedback.clock import Clock, utc_text
from feedback.errors import (
    Conflict,
    DomainError,
    FieldError,
    Invalid,
    NotFound,
    TooLarge,
    UnsupportedFormat,
    pointer,
)
from feedback.orgs import audit
from feedback.orgs.principal import Principal
from feedback.responses.respondents import ref_hash
from feedback.responses.schemas import Channel, Input, Locale
from feedback.responses.service import ATTRIBUTE_PREFIX
from feedback.responses.store_statements import NewResponse, Stored, store_responses
from feedback.responses.submissions import PublishedVersion, Submissions, SurveyRef, body_hash
from feedback.surveys.answers import normalise_answers
from feedback.surveys.definition import (
    DateQuestion,
    Definition,
    MultiChoiceQuestion,
    Question,
    SingleChoiceQuestion,
    TextQuestion,
)
from feedback.surveys.service import current_version, get_survey
from feedback.validation import INT_MAX, Instant, field_errors, unsafe_text

NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl"})
CSV_TYPES = frozenset({"text/csv"})
BATCH_LINES = 2000
BATCHES_IN_FLIGHT = 2
MAX_LINE_BYTES = 1024 * 1024
# Clocks of paper-collecting volunteers' laptops are not ours; a little skew is not the future.
FUTURE_SKEW = timedelta(minutes=10)
RESERVED_COLUMNS = frozenset(
    {"response_id", "version", "submitted_at", "respondent_ref", "channel", "locale"}
)
EXPORT_ONLY_COLUMNS = frozenset({"revision", "wave", "revised_at", "respondent_id"})
# Names a line's derived response_id; fixed forever, or re-imports would stop matching.
_LINE_NAMESPACE = uuid.UUID("7d0f0c56-3f2f-4f0e-9a8e-4b1b2f3c9d21")
# Numbers as a spreadsheet writes them, in ASCII: Python's int() and float() also read `1_0`
# (10) and other scripts' digits (`３`, `٣`), which a cell meaning 10 or 3 never holds.
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Longer runs of digits are no number an answer can be; Python refuses to convert very long
# ones at all (sys.int_info.default_max_str_digits). They stay text for the answer check.
MAX_INTEGER_DIGITS = 20


class ImportLine(Input):
    response_id: uuid.UUID | None = None
    version: int | None = Field(default=None, ge=1, le=INT_MAX)
    answers: dict[str, Any]
    submitted_at: Instant
    respondent_ref: str | None = Field(default=None, min_length=1, max_length=500)
    channel: Channel = "import"
    locale: Locale | None = None


@dataclass(frozen=True, slots=True)
class RejectedLine:
    line: int
    pointer: str
    message: str


@dataclass(slots=True)
class ImportSummary:
    imported: int = 0
    duplicates: int = 0
    rejected: list[RejectedLine] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _CsvRow:
    """A CSV record by header name, turned into a line document once its version is known."""

    cells: dict[str, str]

    @property
    def version(self) -> int | None:
        text = self.cells.get("version", "").strip()
        if not _INTEGER.fullmatch(text) or len(text) > MAX_INTEGER_DIGITS:
            return None
        return int(text) if 1 <= int(text) <= INT_MAX else None

    def document(self, definition: Definition) -> dict[str, Any]:
        document: dict[str, Any] = {}
        for name in RESERVED_COLUMNS:
            text = self.cells.get(name, "").strip()
            if text:
                is_number = name == "version" and _INTEGER.fullmatch(text)
                short = len(text) <= MAX_INTEGER_DIGITS
                document[name] = int(text) if is_number and short else text
        answers: dict[str, Any] = {}
        for name, text in self.cells.items():
            exported_only = name in EXPORT_ONLY_COLUMNS or name.startswith(ATTRIBUTE_PREFIX)
            if name in RESERVED_COLUMNS or exported_only or not text.strip():
                continue
            question = definition.question(name)
            answers[name] = text if question is None else _cell_value(question, text)
        document["answers"] = answers
        return document


# A parsed record: an NDJSON object, a CSV row, or why the line could not be read.
_Record = dict[str, Any] | _CsvRow | Invalid


@dataclass(slots=True)
class _Batch:
    items: list[NewResponse] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


async def import_responses(
    sessions: async_sessionmaker[AsyncSession],
    submissions: Submissions,
    *,
    principal: Principal,
    slug: str,
    media_type: str,
    chunks: AsyncIterator[bytes],
    max_bytes: int,
    now: datetime,
    clock: Clock | None = None,
) -> ImportSummary:
    """Import a streamed NDJSON or CSV file into survey `slug` of the caller's organisation,
    received from `now` (answers dated after it are refused); each batch is received at the
    `clock`'s reading when it is stored (at `now` without one: the demo's made-up past).

    Raises `NotFound` (survey), `UnsupportedFormat`, `TooLarge` (more than
    `max_bytes`, or a line over 1 MiB); batches stored before a TooLarge stay stored,
    and re-sending the file completes the import without duplicates.
    """
    async with sessions() as session:
        survey = await get_survey(session, org_id=principal.org_id, slug=slug)
        current = await current_version(session, survey)
    if current is None:
        raise NotFound(f"Survey '{slug}' has no published version yet.")
    ref = SurveyRef(principal.org_id, survey.id, principal.org_slug, survey.slug)
    kind = media_type.split(";", 1)[0].strip().lower()
    records: AsyncIterator[tuple[int, _Record]]
    if kind in NDJSON_TYPES:
        records = _ndjson_records(_lines(chunks, max_bytes))
    elif kind in CSV_TYPES:
        records = _csv_records(_lines(chunks, max_bytes))
    else:
        raise UnsupportedFormat(
            "Send application/x-ndjson (one submission a line) or text/csv (one response a row)."
        )
    importer = _Importer(submissions, principal, ref, current.number, now, clock)
    summary = ImportSummary()
    batch = _Batch()
    # Batches already sent: the next ones are parsed while these are written (on PostgreSQL
    # on as many connections, so the database works on two cores).
    writing: deque[asyncio.Task[None]] = deque()
    try:
        async for line, record in records:
            try:
                item = await importer.prepare(line, record)
            except Invalid as exc:
                summary.rejected += [RejectedLine(line, e.pointer, e.message) for e in exc.errors]
                continue
            batch.items.append(item)
            batch.lines.append(line)
            if len(batch.items) >= BATCH_LINES:
                if len(writing) >= BATCHES_IN_FLIGHT:
                    await writing.popleft()
                writing.append(asyncio.create_task(importer.store(batch, summary)))
                batch = _Batch()
        if batch.items:
            writing.append(asyncio.create_task(importer.store(batch, summary)))
    except BaseException:
        # A batch already sent commits or not as a whole; wait for it before answering.
        await asyncio.gather(*writing, return_exceptions=True)
        raise
    await asyncio.gather(*writing)
    summary.rejected.sort(key=lambda r: r.line)
    return summary


class _Importer:
    def __init__(
        self,
        submissions: Submissions,
        principal: Principal,
        survey: SurveyRef,
        current: int,
        now: datetime,
        clock: Clock | None,
    ) -> None:
        self._submissions = submissions
        self._principal = principal
        self._survey = survey
        self._current = current
        self._now = now
        self._clock = clock

    async def prepare(self, line: int, record: _Record) -> NewResponse:
        """A stored-ready response from one record; `Invalid` with pointers into the line."""
        if isinstance(record, Invalid):
            raise record
        if isinstance(record, _CsvRow):
            definition = await self._definition_of(record.version)
            document = record.document(definition)
        else:
            document = record
        try:
            parsed = ImportLine.model_validate(document)
        except ValidationError as exc:
            raise Invalid(field_errors(exc.errors(), document)) from None
        version = parsed.version or self._current
        published = await self._submissions.version(self._survey, version)
        values = normalise_answers(published.definition, parsed.answers)
        if parsed.submitted_at > self._now + FUTURE_SKEW:
            raise Invalid.at("/submitted_at", "must not be in the future")
        answered_after_publication(parsed.submitted_at, published, named=parsed.version is not None)
        secret = self._submissions.secret
        hashed_ref = (
            None
            if parsed.respondent_ref is None
            else ref_hash(secret, self._principal.org_id, parsed.respondent_ref)
        )
        # The ref identifies someone: the stored document and its hash carry its keyed hash.
        stored = parsed.model_dump(mode="json", exclude={"respondent_ref"})
        stored["version"] = version
        content = body_hash({**stored, "respondent_ref": hashed_ref})
        response_id = parsed.response_id or uuid.uuid5(
            _LINE_NAMESPACE, f"{self._survey.survey_id}:{line}:{content}"
        )
        stored["response_id"] = str(response_id)
        return NewResponse(
            org_id=self._survey.org_id,
            survey_id=self._survey.survey_id,
            response_id=response_id,
            pk=uuid.uuid4(),
            version=version,
            document=stored,
            body_hash=content,
            values=values,
            submitted_at=parsed.submitted_at,
            received_at=self._now,
            channel=parsed.channel,
            locale=parsed.locale,
            ref_hash=hashed_ref,
        )

    async def _definition_of(self, version: int | None) -> Definition:
        return await self._submissions.definition(self._survey, version or self._current)

    async def store(self, batch: _Batch, summary: ImportSummary) -> None:
        principal, slug = self._principal, self._survey.survey_slug
        # A batch is received when it is stored, not when the import began: its responses'
        # `revised_at` must not fall behind a live submission stored while the file streamed
        # in, or polling `since` the last `revised_at` seen would never list them.
        received_at = self._now if self._clock is None else max(self._now, self._clock())
        for item in batch.items:
            item.received_at = received_at

        def work(conn: Connection) -> list[Stored | DomainError]:
            outcomes = store_responses(
                conn, batch.items, self._submissions.survey_states, staged=True
            )
            imported = sum(1 for o in outcomes if isinstance(o, Stored) and o.created)
            if imported:
                audit.record(
                    conn,
                    principal,
                    action="responses.imported",
                    object_type="survey",
                    object_id=slug,
                    details={
                        "imported": imported,
                        "first_line": batch.lines[0],
                        "last_line": batch.lines[-1],
                    },
                )
            return outcomes

        outcomes = await self._submissions.store.run(work)
        for line, outcome in zip(batch.lines, outcomes, strict=True):
            if isinstance(outcome, Stored):
                if outcome.created:
                    summary.imported += 1
                else:
                    summary.duplicates += 1
            else:
                summary.rejected.append(_rejection(line, outcome))


def answered_after_publication(
    submitted_at: datetime, version: PublishedVersion, *, named: bool
) -> None:
    """An answer cannot predate the questions it answers: `Invalid` at /submitted_at, with
    the version's publication instant in UTC, when `submitted_at` is before it (an instant
    exactly at publication is answered on the published version). `named`: the line gave its
    version (else it defaulted to the current one, and the message says so)."""
    if submitted_at >= version.published_at:
        return
    published = utc_text(version.published_at)
    if named:
        message = f"is before version {version.number} was published ({published})"
    else:
        message = (
            f"is before version {version.number}, the current one, was published "
            f"({published}): name the version it answered in `version`"
        )
    raise Invalid.at("/submitted_at", message)


def _rejection(line: int, error: DomainError) -> RejectedLine:
    if isinstance(error, Invalid) and error.errors:
        return RejectedLine(line, error.errors[0].pointer, error.errors[0].message)
    if isinstance(error, Conflict) and "response_id" in error.extra:
        return RejectedLine(line, "/response_id", error.detail)
    if isinstance(error, Conflict) and "next_opens_at" in error.extra:
        return RejectedLine(line, "/submitted_at", "no wave of the survey was open at this time")
    return RejectedLine(line, "/submitted_at", error.detail)


# --- reading the stream ---------------------------------------------------------------------


async def _lines(chunks: AsyncIterator[bytes], max_bytes: int) -> AsyncIterator[tuple[int, bytes]]:
    """(line number from 1, bytes without the line break), as the body streams in."""
    total = 0
    number = 0
    pending = b""
    async for chunk in chunks:
        total += len(chunk)
        if total > max_bytes:
            raise TooLarge(f"An import is at most {max_bytes} bytes.")
        pending += chunk
        *complete, pending = pending.split(b"\n")
        if len(pending) > MAX_LINE_BYTES:
            raise TooLarge(f"Line {number + len(complete) + 1} is over {MAX_LINE_BYTES} bytes.")
        for raw in complete:
            number += 1
            yield number, _strip(raw, number)
    if pending:
        yield number + 1, _strip(pending, number + 1)


def _strip(raw: bytes, number: int) -> bytes:
    raw = raw.removesuffix(b"\r")
    return raw.removeprefix(b"\xef\xbb\xbf") if number == 1 else raw


def _decode(raw: bytes) -> str | Invalid:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return Invalid.at("", "is not UTF-8 text")


async def _ndjson_records(
    lines: AsyncIterator[tuple[int, bytes]],
) -> AsyncIterator[tuple[int, _Record]]:
    async for number, raw in lines:
        if not raw.strip():
            continue
        try:
            document = json.loads(raw)
        except ValueError:
            yield number, Invalid.at("", "is not a JSON object")
            continue
        except RecursionError:
            yield number, Invalid.at("", "is nested too deeply")
            continue
        if not isinstance(document, dict):
            yield number, Invalid.at("", "is not a JSON object")
            continue
        # json.loads takes escaped NULs and lone surrogates, which no database stores.
        unsafe = unsafe_text(document) if _may_hold_unsafe_text(raw) else []
        yield number, Invalid(unsafe) if unsafe else document


def _may_hold_unsafe_text(raw: bytes) -> bool:
    """Whether a JSON line can decode to a NUL or a lone surrogate: only through an escape
    (`\\u…`), UTF-8 bytes of a surrogate (json.loads decodes with surrogatepass; they start
    with 0xED) or a UTF-16/32 line (json.loads detects those; they hold 0x00 bytes). Most lines
    hold none of these, and are spared the walk through their document."""
    return b"\\u" in raw or b"\xed" in raw or b"\x00" in raw


def _cell_value(question: Question, text: str) -> Any:
    """A cell as the JSON value its question takes; what cannot convert stays a string, for
    the answer check to refuse with its usual message."""
    if isinstance(question, MultiChoiceQuestion):
        return [part.strip() for part in text.split(";") if part.strip()]
    if isinstance(question, TextQuestion):
        return text
    stripped = text.strip()
    if isinstance(question, SingleChoiceQuestion | DateQuestion):
        return stripped
    if _INTEGER.fullmatch(stripped) and len(stripped) <= MAX_INTEGER_DIGITS:
        return int(stripped)
    if not _DECIMAL.fullmatch(stripped):
        return stripped
    number = float(stripped)
    return number if math.isfinite(number) else stripped


async def _csv_records(
    lines: AsyncIterator[tuple[int, bytes]],
) -> AsyncIterator[tuple[int, _Record]]:
    header: list[str] | None = None
    header_text = ""
    async for number, text in _csv_texts(lines):
        if isinstance(text, Invalid):
            yield number, text
            continue
        try:
            cells = next(csv.reader([text]), [])
        except csv.Error as exc:
            # E.g. a bare carriage return in an unquoted cell: lines end at \n only.
            message = f"is not a CSV row ({str(exc).split(' - ')[0]})"
            if header is None:
                raise Invalid(
                    [FieldError("/header", message)], "The CSV header is invalid."
                ) from exc
            yield number, Invalid.at("", message)
            continue
        if header is None:
            header, header_text = [c.strip() for c in cells], text
            problems = _header_problems(header)
            if problems:
                raise Invalid(problems, "The CSV header is invalid.")
            continue
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield (
                number,
                Invalid.at(
                    "", f"has {len(cells)} cells where the header has {len(header)} columns"
                ),
            )
            continue
        row = dict(zip(header, cells, strict=True))
        # A NUL is the only unsafe text UTF-8 can hold (strict decoding refuses surrogates).
        unsafe = unsafe_text(row) if "\x00" in text or "\x00" in header_text else []
        yield number, Invalid(unsafe) if unsafe else _CsvRow(row)


def _header_problems(header: Sequence[str]) -> list[FieldError]:
    errors = []
    seen: set[str] = set()
    for i, name in enumerate(header):
        if not name:
            errors.append(FieldError(pointer("header", i), "is empty"))
        elif name in seen:
            errors.append(FieldError(pointer("header", i), f"repeats the column '{name}'"))
        seen.add(name)
    if "submitted_at" not in seen:
        errors.append(FieldError("/header", "needs a submitted_at column"))
    return errors


async def _csv_texts(
    lines: AsyncIterator[tuple[int, bytes]],
) -> AsyncIterator[tuple[int, str | Invalid]]:
    """Whole CSV records: a quoted cell may hold line breaks. A record is complete when its
    quotes balance (RFC 4180 escapes a quote by doubling it, so the count stays even)."""
    start = 0
    parts: list[str] = []
    quotes = 0
    size = 0
    async for number, raw in lines:
        text = _decode(raw)
        if isinstance(text, Invalid):
            if parts:  # the record this line belonged to is lost with it
                parts, quotes, size = [], 0, 0
                yield start, text
            else:
                yield number, text
            continue
        if not parts:
            start = number
        parts.append(text)
        quotes += text.count('"')
        size += len(text)
        if size > MAX_LINE_BYTES:
            raise TooLarge(f"The record starting at line {start} is over {MAX_LINE_BYTES} bytes.")
        if quotes % 2 == 0:
            yield start, "\n".join(parts)
            parts, quotes, size = [], 0, 0
    if parts:
        yield start, Invalid.at("", "has a quoted cell that is never closed")
