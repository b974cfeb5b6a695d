"""`feedback import` and `feedback export`: the HTTP import and export, from and to files.

Both call the same domain functions as their routes (`feedback.responses.imports` and
`.exports`), so a file is validated, deduplicated and written exactly as if it were POSTed, and
an export holds the same bytes as the download.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from feedback.clock import system_clock
from feedback.commands.progress import Advance
from feedback.config import Settings
from feedback.db import make_engine, make_sessionmaker
from feedback.orgs.service import operator_principal
from feedback.responses import exports
from feedback.responses.group_commit import store_for
from feedback.responses.imports import ImportSummary, import_responses
from feedback.responses.submissions import Submissions

CHUNK_BYTES = 1024 * 1024
NDJSON_SUFFIXES = frozenset({".ndjson", ".jsonl", ".json"})
CSV_SUFFIXES = frozenset({".csv"})
ACTOR = "cli"


def media_type_of(path: Path) -> str:
    """By the file's extension; otherwise by its first character (`{` starts NDJSON)."""
    suffix = path.suffix.lower()
    if suffix in NDJSON_SUFFIXES:
        return "application/x-ndjson"
    if suffix in CSV_SUFFIXES:
        return "text/csv"
    with path.open("rb") as fh:
        start = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return "application/x-ndjson" if start.startswith(b"{") else "text/csv"


async def _chunks(path: Path, advance: Advance) -> AsyncIterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            advance(len(chunk))
            yield chunk


async def import_file(
    settings: Settings,
    *,
    path: Path,
    survey: str,
    org: str | None,
    now: datetime,
    advance: Advance,
) -> ImportSummary:
    """Import `path` into `survey` as the admin of `org` (or of the only organisation)."""
    media_type = media_type_of(path)
    engine = make_engine(settings.database_url, pool_size=2)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as session:
            principal = await operator_principal(session, org_slug=org, actor=ACTOR)
        submissions = Submissions(
            sessions,
            store_for(settings.database_url, engine, concurrency=settings.write_concurrency),
            secret=settings.resolved_secret_key(),
        )
        try:
            return await import_responses(
                sessions,
                submissions,
                principal=principal,
                slug=survey,
                media_type=media_type,
                chunks=_chunks(path, advance),
                max_bytes=settings.import_max_bytes,
                now=now,
                clock=system_clock,
            )
        finally:
            await submissions.close()
    finally:
        await engine.dispose()


async def export_survey(
    settings: Settings,
    *,
    survey: str,
    org: str | None,
    layout: exports.Layout,
    out: BinaryIO,
    advance: Advance,
) -> int:
    """Stream the export of `survey` into `out`; returns the bytes written."""
    engine = make_engine(settings.database_url, pool_size=2)
    sessions = make_sessionmaker(engine)
    written = 0
    try:
        async with sessions() as session:
            principal = await operator_principal(session, org_slug=org, actor=ACTOR)
            export = await exports.export(
                session, sessions, principal=principal, slug=survey, layout=layout
            )
        try:
            async for chunk in export.chunks:
                out.write(chunk)
                written += len(chunk)
                advance(len(chunk))
            out.flush()
        except BrokenPipeError:
            raise  # the reader went away (`| head`): the caller's to judge
        except OSError as exc:
            raise OutputFailed(exc) from exc
    finally:
        await engine.dispose()
    return written


class OutputFailed(Exception):
    """The export could not be written (a full disk, say): the output's fault, not the
    database's, so it is told apart from the OSError of a database that cannot be reached."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error.strerror or str(error))
        self.error = error


def partial_path(path: Path) -> Path:
    """Where an export to `path` is written until it is complete, so that a failed export
    never leaves a file that looks whole."""
    return path.with_name(f".{path.name}.{os.getpid()}.partial")
