"""The `feedback` command: serve, migrate, create organisations, load demo data, import and
export responses, check an installation, back it up. Exit codes: feedback.commands.exit_codes."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from alembic.util import CommandError
from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy.exc import DBAPIError

from feedback.clock import system_clock
from feedback.commands.exit_codes import ExitCode
from feedback.config import InsecureSecret, Settings, get_settings, settings_problems
from feedback.errors import DomainError, NotFound
from feedback.logs import log_config

T = TypeVar("T")


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from feedback.api.read_timeouts import TimedHttpToolsProtocol

    if args.access_log:  # before the settings are read, here and in every worker
        os.environ["FEEDBACK_ACCESS_LOG"] = "true"
    if "FEEDBACK_BASE_URL" not in os.environ:  # links handed out point where this serves
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
        host = f"[{host}]" if ":" in host else host  # an IPv6 address, as URLs write it
        os.environ["FEEDBACK_BASE_URL"] = f"http://{host}:{args.port}"
    settings = get_settings()
    settings.resolved_secret_key()  # refuse a bad key first; make the file before workers race
    if not args.no_migrate:
        from feedback import migrate

        _guarded(lambda: migrate.upgrade(settings.database_url))
    if args.demo:
        from feedback.demo import load_demo, terminal_progress

        print(
            _run(
                lambda: load_demo(
                    settings, now=system_clock(), progress=terminal_progress(sys.stderr)
                )
            )
        )
    uvicorn.run(
        "feedback.api.app:create_served_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        # httptools, with read deadlines for slow clients (feedback.api.read_timeouts).
        http=TimedHttpToolsProtocol,
        access_log=False,  # ours (feedback.api.access_log) redacts tokens; uvicorn's does not
        log_config=log_config("info"),
        # The app decides whom to believe (FEEDBACK_TRUSTED_PROXIES, feedback.api.client_address);
        # uvicorn's own default trusts X-Forwarded-For from 127.0.0.1, forgeable by anyone local.
        proxy_headers=False,
    )
    return 0


def _db(args: argparse.Namespace) -> int:
    from feedback import migrate

    url = get_settings().database_url
    try:
        if args.action == "upgrade":
            _guarded(lambda: migrate.upgrade(url, args.revision or "head"))
        elif args.action == "downgrade":
            if not args.revision:
                # Going down to `base` drops every table: it must be asked for, not defaulted.
                print(
                    "error: name the revision to go down to: `-1` for one step, `base` to drop "
                    "every table (feedback db current shows where the database is)",
                    file=sys.stderr,
                )
                return ExitCode.USAGE
            _guarded(lambda: migrate.downgrade(url, args.revision))
        else:
            print(_run(lambda: migrate.current_revision(url)) or "(empty database)")
    except CommandError as exc:
        if not args.revision:
            raise  # the database's own revision is unknown to this version (see main)
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    return 0


def _org_create(args: argparse.Namespace) -> int:
    from feedback.db import make_engine, make_sessionmaker, transaction
    from feedback.orgs.service import create_org

    async def run() -> str:
        engine = make_engine(get_settings().database_url, pool_size=1)
        try:
            async with transaction(make_sessionmaker(engine)) as session:
                _, key = await create_org(session, slug=args.slug, name=args.name, actor="cli")
                return key
        finally:
            await engine.dispose()

    print(_run(run))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from feedback import migrate
    from feedback.demo import load_demo, terminal_progress

    settings = get_settings()
    settings.resolved_secret_key()
    _guarded(lambda: migrate.upgrade(settings.database_url))
    print(
        _run(
            lambda: load_demo(settings, now=system_clock(), progress=terminal_progress(sys.stderr))
        )
    )
    return 0


def _worker(args: argparse.Namespace) -> int:
    import logging.config
    import signal
    from datetime import timedelta

    from feedback.db import make_engine, make_sessionmaker
    from feedback.loop.worker import run_worker
    from feedback.read_replica import ReadRouter

    logging.config.dictConfig(log_config("info"))
    settings = get_settings()

    async def run() -> None:
        engine = make_engine(settings.database_url, pool_size=2)
        replica = (
            make_engine(settings.read_database_url, pool_size=2)
            if settings.read_database_url
            else None
        )
        router = ReadRouter(
            make_sessionmaker(engine),
            None if replica is None else make_sessionmaker(replica),
            max_lag=timedelta(seconds=settings.read_max_lag),
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            await run_worker(
                make_sessionmaker(engine),
                settings,
                stop,
                poll_seconds=args.poll,
                read_router=router,
            )
        finally:
            await engine.dispose()
            if replica is not None:
                await replica.dispose()

    asyncio.run(run())
    return 0


class Failed(Exception):
    """A command ends with this exit code, its message already printed."""

    def __init__(self, code: ExitCode) -> None:
        super().__init__(code.name)
        self.code = code


def _run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a command's database work; what goes wrong becomes a message and an exit code."""
    return _guarded(lambda: asyncio.run(work()))


def _guarded(call: Callable[[], T]) -> T:
    """`call()`, for work that reaches the database (migrations run their own event loop);
    what goes wrong becomes a message and an exit code."""
    try:
        return call()
    except NotFound as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        raise Failed(ExitCode.NOT_FOUND) from None
    except DomainError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        raise Failed(ExitCode.USAGE) from None
    except BrokenPipeError:
        raise  # the reader of our output went away: no database's fault
    except (DBAPIError, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc
        print(
            f"error: the database failed: {type(reason).__name__}: {reason}\n"
            "  (is it reachable and migrated? `feedback doctor` checks both)",
            file=sys.stderr,
        )
        raise Failed(ExitCode.DATABASE) from None


def _import(args: argparse.Namespace) -> int:
    from feedback.commands.progress import byte_progress
    from feedback.commands.transfer import import_file

    path: Path = args.file
    if not path.is_file() or not os.access(path, os.R_OK):
        print(f"error: {path} is not a readable file", file=sys.stderr)
        return ExitCode.USAGE
    settings = get_settings()
    with byte_progress(f"importing {path.name}", path.stat().st_size) as advance:
        summary = _run(
            lambda: import_file(
                settings,
                path=path,
                survey=args.survey,
                org=args.org,
                now=system_clock(),
                advance=advance,
            )
        )
    for rejected in summary.rejected:
        print(
            f"{path}:{rejected.line}: {rejected.pointer or '/'}: {rejected.message}",
            file=sys.stderr,
        )
    print(
        f"imported {summary.imported}, duplicates {summary.duplicates}, "
        f"rejected {len(summary.rejected)}"
    )
    return ExitCode.REJECTED if summary.rejected else ExitCode.OK


def _export(args: argparse.Namespace) -> int:
    from feedback.commands.progress import byte_progress
    from feedback.commands.transfer import OutputFailed, export_survey, partial_path
    from feedback.responses.exports import Layout

    if args.format == "ndjson" and args.layout is not None:
        print("error: --layout applies to --format csv only", file=sys.stderr)
        return ExitCode.USAGE
    layout: Layout = "ndjson" if args.format == "ndjson" else (args.layout or "long")
    settings = get_settings()
    output: Path | None = args.output
    if output is None:
        try:
            _run(
                lambda: export_survey(
                    settings,
                    survey=args.survey,
                    org=args.org,
                    layout=layout,
                    out=sys.stdout.buffer,
                    advance=lambda _n: None,
                )
            )
        except BrokenPipeError:
            # `feedback export ... | head`: the reader has what it wanted. Python would complain
            # again when it flushes stdout at exit, so point stdout elsewhere first.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OutputFailed as exc:
            print(f"error: the export cannot be written to standard output: {exc}", file=sys.stderr)
            # What is left in stdout's buffer would fail again when Python flushes it at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return ExitCode.USAGE
        return ExitCode.OK
    if output.is_dir():
        print(f"error: {output} is a directory: name a file", file=sys.stderr)
        return ExitCode.USAGE
    partial = partial_path(output)
    try:
        try:
            out = partial.open("wb")
        except OSError as exc:
            print(f"error: {output} cannot be written: {exc.strerror}", file=sys.stderr)
            return ExitCode.USAGE
        with out, byte_progress(f"exporting {args.survey}", None) as advance:
            written = _run(
                lambda: export_survey(
                    settings,
                    survey=args.survey,
                    org=args.org,
                    layout=layout,
                    out=out,
                    advance=advance,
                )
            )
        partial.replace(output)
    except OutputFailed as exc:
        print(f"error: {output} cannot be written: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    finally:
        partial.unlink(missing_ok=True)
    print(f"wrote {written} bytes to {output}", file=sys.stderr)
    return ExitCode.OK


def _doctor(args: argparse.Namespace) -> int:
    from feedback.commands.doctor import Status, diagnose

    findings = asyncio.run(diagnose())
    for finding in findings:
        print(f"{finding.status.value:<4}  {finding.check:<13} {finding.message}")
    failed = [f for f in findings if f.status is Status.fail]
    if failed:
        print(f"{len(failed)} problem(s) to fix before serving.")
        return ExitCode.REJECTED
    return ExitCode.OK


def _backup(args: argparse.Namespace) -> int:
    from feedback.commands.backup import BackupFailed, backup

    try:
        done = backup(get_settings().database_url, args.path)
    except BackupFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.REJECTED
    print(f"backed up to {done.path}: {done.bytes} bytes in {done.seconds:.1f} s ({done.how})")
    print("Keep the secret key with it (docs/operations.md, 'The secret key').", file=sys.stderr)
    return ExitCode.OK


EXIT_CODES = """exit codes:
  0  done
  1  done, but some input was rejected (import), a check failed (doctor), the backup failed
  2  usage: bad arguments or FEEDBACK_* settings, a file that cannot be read or written, an
     unsupported format, an insecure secret key
  3  the organisation or survey does not exist
  4  the database is unreachable or not migrated (`feedback doctor` says which)"""


def _command(
    commands: Any, name: str, help: str, examples: str, func: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=help,
        description=help[0].upper() + help[1:] + ".",
        epilog=f"examples:\n{examples}\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=func)
    return parser


def _port(text: str) -> int:
    """A TCP port to listen on, refused before anything is migrated or loaded."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (1-65535)")
    return int(text)


def _seconds(text: str) -> float:
    """A pause: 0, negative or NaN would have the worker query the outbox without one."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= 3600:  # also False for NaN
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0 < s <= 3600)")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedback",
        description="Supporter feedback-loop survey engine. Configure with FEEDBACK_* variables "
        "(FEEDBACK_DATABASE_URL, FEEDBACK_ADMIN_TOKEN, FEEDBACK_SECRET_KEY, ...). "
        "`feedback COMMAND --help` shows examples.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = _command(
        commands,
        "serve",
        "run the HTTP service (uvicorn)",
        "  feedback serve                                  # 127.0.0.1:8000, migrates first\n"
        "  feedback serve --host 0.0.0.0 --workers 4 --no-migrate",
        _serve,
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    serve.add_argument("--no-migrate", action="store_true", help="skip `db upgrade` on start")
    serve.add_argument("--demo", action="store_true", help="load demo data before serving")
    serve.add_argument("--access-log", action="store_true", help="log every request")

    db = _command(
        commands,
        "db",
        "schema migrations (Alembic)",
        "  feedback db upgrade            # to the latest schema (run before new code starts)\n"
        "  feedback db current            # the revision the database is at",
        _db,
    )
    db.add_argument("action", choices=["upgrade", "downgrade", "current"])
    db.add_argument(
        "revision",
        nargs="?",
        help="target revision (upgrade: default head; downgrade: required, -1 for one step)",
    )

    org = commands.add_parser("org", help="organisations")
    org_commands = org.add_subparsers(dest="org_command", required=True)
    create = _command(
        org_commands,
        "create",
        "create an organisation; prints its admin key",
        '  feedback org create acme --name "Acme Campaigns"',
        _org_create,
    )
    create.add_argument("slug")
    create.add_argument("--name", required=True)

    worker = _command(
        commands,
        "worker",
        "deliver webhooks and check for findings (as `serve` does by default)",
        "  feedback worker --poll 2   # servers started with FEEDBACK_EMBEDDED_WORKER=false",
        _worker,
    )
    worker.add_argument(
        "--poll", type=_seconds, default=1.0, help="seconds between looks at an idle outbox"
    )

    _command(
        commands,
        "demo",
        "load a demo organisation with a year of answers",
        "  feedback demo && feedback serve",
        _demo,
    )

    imports = _command(
        commands,
        "import",
        "import responses from an NDJSON or CSV file, as POST .../responses/import does",
        "  feedback import answers.ndjson --survey pulse\n"
        "  feedback import paper.csv --survey pulse --org acme   # several organisations\n"
        "  feedback import paper.csv --survey pulse 2> rejected.txt || echo 'see rejected.txt'",
        _import,
    )
    imports.add_argument(
        "file", type=Path, help="*.ndjson/*.jsonl or *.csv (otherwise judged by its first byte)"
    )
    imports.add_argument("--survey", required=True, help="the survey's slug")
    imports.add_argument("--org", help="the organisation's slug (needed when there are several)")

    exports = _command(
        commands,
        "export",
        "export a survey's responses, streamed, to standard output or a file",
        "  feedback export --survey pulse --format csv > pulse-long.csv\n"
        "  feedback export --survey pulse --format csv --layout wide --output pulse-wide.csv\n"
        "  feedback export --survey pulse --format ndjson | gzip > pulse.ndjson.gz",
        _export,
    )
    exports.add_argument("--survey", required=True, help="the survey's slug")
    exports.add_argument("--org", help="the organisation's slug (needed when there are several)")
    exports.add_argument("--format", choices=["csv", "ndjson"], default="csv")
    exports.add_argument(
        "--layout",
        choices=["long", "wide"],
        help="csv only: one row per answer value (long, the default) or per response (wide)",
    )
    exports.add_argument("--output", type=Path, help="a file (written whole or not at all)")

    _command(
        commands,
        "doctor",
        "check the configuration, the database, its migrations, the secret key, Redis, the "
        "base URL and the charts' fonts, and say what to fix",
        "  feedback doctor && feedback serve --no-migrate",
        _doctor,
    )

    backup = _command(
        commands,
        "backup",
        "copy the database while the server runs (SQLite: online backup; PostgreSQL: pg_dump)",
        "  feedback backup /var/backups/feedback-$(date -u +%Y%m%dT%H%M).db\n"
        "  FEEDBACK_DATABASE_URL=postgresql://feedback@db/feedback feedback backup feedback.dump",
        _backup,
    )
    backup.add_argument("path", type=Path, help="the new file (must not exist)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.func is not _doctor:  # the doctor reports a bad setting among its findings
        try:
            # Not get_settings(): its answer is cached, and `serve` sets variables (the base
            # URL, the access log) before it reads them.
            Settings()
        except (ValidationError, SettingsError) as exc:
            print(f"error: {settings_problems(exc)}", file=sys.stderr)
            return ExitCode.USAGE
    try:
        return int(args.func(args))
    except InsecureSecret as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except CommandError as exc:  # Alembic: the database is at a revision this version lacks
        print(f"error: {exc} (`feedback db current` names the database's)", file=sys.stderr)
        return ExitCode.DATABASE
    except Failed as exc:
        return exc.code


if __name__ == "__main__":
    raise SystemExit(main())
