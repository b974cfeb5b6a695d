"""A progress bar on standard error, shown only to a person at a terminal: a pipe, a log file or
a cron job gets no escape codes."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

Advance = Callable[[int], None]


@contextmanager
def byte_progress(description: str, total: int | None) -> Iterator[Advance]:
    """Yields a function to call with the bytes done since its last call. `total` None: a
    bar without an end (an export does not know its size)."""
    if not sys.stderr.isatty():
        yield lambda _n: None
        return
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
    ]
    if total is not None:
        columns.append(TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)
