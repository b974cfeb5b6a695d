"""The `feedback` command: serve, migrate, create organisations, load demo data."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from feedback.clock import system_clock
from feedback.config import InsecureSecret, get_settings
from feedback.logs import log_config


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from feedback.api.read_timeouts import TimedHttpToolsProtocol

    if args.access_log:  # before the settings are read, here and in every worker
        os.environ["FEEDBACK_ACCESS_LOG"] = "true"
    if "FEEDBACK_BASE_URL" not in os.environ:  # links handed out point where this serves
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
        os.environ["FEEDBACK_BASE_URL"] = f"http://{host}:{args.port}"
    settings = get_settings()
    settings.resolved_secret_key()  # refuse a bad key first; make the file before workers race
    if not args.no_migrate:
        from feedback import migrate

        migrate.upgrade(settings.database_url)
    if args.demo:
        from feedback.demo import load_demo, terminal_progress

        print(
            asyncio.run(
                load_demo(settings, now=system_clock(), progress=terminal_progress(sys.stderr))
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
    if args.action == "upgrade":
        migrate.upgrade(url, args.revision or "head")
    elif args.action == "downgrade":
        migrate.downgrade(url, args.revision or "base")
    else:
        print(asyncio.run(migrate.current_revision(url)) or "(empty database)")
    return 0


def _org_create(args: argparse.Namespace) -> int:
    from feedback.db import make_engine, make_sessionmaker, transaction
    from feedback.errors import DomainError
    from feedback.orgs.service import create_org

    async def run() -> str:
        engine = make_engine(get_settings().database_url, pool_size=1)
        try:
            async with transaction(make_sessionmaker(engine)) as session:
                _, key = await create_org(session, slug=args.slug, name=args.name, actor="cli")
                return key
        finally:
            await engine.dispose()

    try:
        key = asyncio.run(run())
    except DomainError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    print(key)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from feedback import migrate
    from feedback.demo import load_demo, terminal_progress

    settings = get_settings()
    settings.resolved_secret_key()
    migrate.upgrade(settings.database_url)
    print(
        asyncio.run(load_demo(settings, now=system_clock(), progress=terminal_progress(sys.stderr)))
    )
    return 0


def _worker(args: argparse.Namespace) -> int:
    import logging.config
    import signal

    from feedback.db import make_engine, make_sessionmaker
    from feedback.loop.worker import run_worker

    logging.config.dictConfig(log_config("info"))
    settings = get_settings()

    async def run() -> None:
        engine = make_engine(settings.database_url, pool_size=2)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            await run_worker(make_sessionmaker(engine), settings, stop, poll_seconds=args.poll)
        finally:
            await engine.dispose()

    asyncio.run(run())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedback",
        description="Supporter feedback-loop survey engine. Configure with FEEDBACK_* variables "
        "(FEEDBACK_DATABASE_URL, FEEDBACK_ADMIN_TOKEN, FEEDBACK_SECRET_KEY, ...).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    serve.add_argument("--no-migrate", action="store_true", help="skip `db upgrade` on start")
    serve.add_argument("--demo", action="store_true", help="load demo data before serving")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.set_defaults(func=_serve)

    db = commands.add_parser("db", help="schema migrations (Alembic)")
    db.add_argument("action", choices=["upgrade", "downgrade", "current"])
    db.add_argument("revision", nargs="?", help="target revision (default: head / base)")
    db.set_defaults(func=_db)

    org = commands.add_parser("org", help="organisations")
    org_commands = org.add_subparsers(dest="org_command", required=True)
    create = org_commands.add_parser("create", help="create an organisation; prints its admin key")
    create.add_argument("slug")
    create.add_argument("--name", required=True)
    create.set_defaults(func=_org_create)

    worker = commands.add_parser(
        "worker", help="deliver webhooks and check for findings (as `serve` does by default)"
    )
    worker.add_argument(
        "--poll", type=float, default=1.0, help="seconds between looks at an idle outbox"
    )
    worker.set_defaults(func=_worker)

    demo = commands.add_parser("demo", help="load a demo organisation with a year of answers")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except InsecureSecret as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
