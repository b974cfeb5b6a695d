"""The command line as operators run it: `python -m feedback ...` in a process of its own,
against the test database, checking output and exit codes (docs/cli.md)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback import migrate
from feedback.cli import build_parser, main
from feedback.commands.backup import pg_dump_command
from feedback.config import Settings, get_settings
from tests.builders.orgs import make_org
from tests.builders.responses import pulse_answers
from tests.builders.surveys import MONTHLY, make_survey

Client = AsyncTestClient[Litestar]


def environment(settings: Settings, **env: str | None) -> dict[str, str]:
    """The test's settings as FEEDBACK_* variables; `env` overrides them (None: unset)."""
    given = {
        **os.environ,
        "FEEDBACK_DATABASE_URL": settings.database_url,
        "FEEDBACK_SECRET_KEY": settings.resolved_secret_key(),
        "FEEDBACK_BASE_URL": "https://feedback.example.org",
        **env,
    }
    return {name: value for name, value in given.items() if value is not None}


def run(
    settings: Settings, cwd: Path, *args: str, **env: str | None
) -> subprocess.CompletedProcess[str]:
    """`python -m feedback *args` in `cwd`, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "feedback", *args],
        env=environment(settings, **env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def ndjson(lines: list[dict[str, object]]) -> str:
    return "".join(json.dumps(line) + "\n" for line in lines)


async def test_import_reports_rejected_lines_and_is_idempotent(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    file = tmp_path / "answers.ndjson"
    good = {"answers": pulse_answers(), "submitted_at": "2026-03-01T10:00:00Z"}
    bad = {"answers": pulse_answers(trust=9), "submitted_at": "2026-03-01T11:00:00Z"}
    file.write_text(ndjson([good, {**good, "respondent_ref": "a"}, bad, good]))

    first = run(settings, tmp_path, "import", str(file), "--survey", "pulse")
    assert first.returncode == 1, first.stderr
    assert first.stdout.strip() == "imported 3, duplicates 0, rejected 1", first.stderr
    assert f"{file}:3: /answers/trust:" in first.stderr

    again = run(settings, tmp_path, "import", str(file), "--survey", "pulse", "--org", "acme")
    assert again.returncode == 1
    assert again.stdout.strip() == "imported 0, duplicates 3, rejected 1"
    listed = await client.get("/api/v1/surveys/pulse/responses", headers=org.auth("analyst"))
    assert len(listed.json()["items"]) == 3


async def test_csv_import_then_every_export_format(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    paper = tmp_path / "paper.csv"
    paper.write_text(
        "submitted_at,trust,priority,actions\r\n"
        "2026-02-01T09:00:00Z,5,housing,petition;donate\r\n"
        "2026-02-02T09:00:00Z,2,,\r\n"
    )
    done = run(settings, tmp_path, "import", str(paper), "--survey", "pulse")
    assert (done.returncode, done.stdout.strip()) == (0, "imported 2, duplicates 0, rejected 0")

    long = run(settings, tmp_path, "export", "--survey", "pulse", "--format", "csv")
    assert long.returncode == 0, long.stderr
    rows = list(csv.DictReader(io.StringIO(long.stdout)))
    assert sorted((r["question_key"], r["value"]) for r in rows) == [
        ("actions", "donate"),
        ("actions", "petition"),
        ("priority", "housing"),
        ("trust", "2"),
        ("trust", "5"),
    ]

    wide_file = tmp_path / "out" / "wide.csv"
    wide_file.parent.mkdir()
    wide = run(
        settings, tmp_path, "export", "--survey", "pulse", "--layout", "wide",
        "--output", str(wide_file),
    )  # fmt: skip
    assert wide.returncode == 0, wide.stderr
    assert [r["trust"] for r in csv.DictReader(wide_file.open())] == ["5", "2"]
    assert os.listdir(wide_file.parent) == ["wide.csv"]  # no partial file left behind

    lines = run(settings, tmp_path, "export", "--survey", "pulse", "--format", "ndjson")
    assert [json.loads(x)["answers"].get("actions") for x in lines.stdout.splitlines()] == [
        ["petition", "donate"],
        None,
    ]
    mixed = run(settings, tmp_path, "export", "--survey", "pulse", "--format", "ndjson",
                "--layout", "wide")  # fmt: skip
    assert mixed.returncode == 2 and "--layout" in mixed.stderr


async def test_exit_codes_for_what_is_not_there(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    await make_org(client, "acme")
    file = tmp_path / "a.ndjson"
    file.write_text(ndjson([{"answers": {}, "submitted_at": "2026-01-01T00:00:00Z"}]))
    no_survey = run(settings, tmp_path, "import", str(file), "--survey", "nope")
    assert no_survey.returncode == 3 and "nope" in no_survey.stderr
    no_org = run(settings, tmp_path, "export", "--survey", "pulse", "--org", "other")
    assert no_org.returncode == 3 and "other" in no_org.stderr
    no_file = run(settings, tmp_path, "import", str(tmp_path / "missing.csv"), "--survey", "x")
    assert no_file.returncode == 2
    await make_org(client, "beta")
    ambiguous = run(settings, tmp_path, "export", "--survey", "pulse")
    assert ambiguous.returncode == 2 and "acme, beta" in ambiguous.stderr
    usage = run(settings, tmp_path, "export")
    assert usage.returncode == 2 and "--survey" in usage.stderr


def test_an_unreachable_database_exits_4(settings: Settings, tmp_path: Path) -> None:
    down = "postgresql://postgres@127.0.0.1:1/none"
    got = run(settings, tmp_path, "export", "--survey", "pulse", FEEDBACK_DATABASE_URL=down)
    assert got.returncode == 4, got.stderr
    assert "feedback doctor" in got.stderr
    assert "Traceback" not in got.stderr


def test_doctor_passes_a_sound_installation(settings: Settings, tmp_path: Path) -> None:
    got = run(settings, tmp_path, "doctor")
    assert got.returncode == 0, got.stdout
    checks = [line.split()[:2] for line in got.stdout.splitlines()]
    assert checks == [
        ["ok", "configuration"],
        ["ok", "secret"],
        ["ok", "database"],
        ["ok", "migrations"],
        ["ok", "redis"],
        ["ok", "base"],
        ["ok", "chart"],
    ]


def test_doctor_says_what_to_fix(settings: Settings, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("x" * 40)
    secret.chmod(0o644)
    empty = tmp_path / "empty.db"
    got = run(
        settings,
        tmp_path,
        "doctor",
        FEEDBACK_SECRET_KEY=None,
        FEEDBACK_SECRET_KEY_FILE=str(secret),
        FEEDBACK_DATABASE_URL=f"sqlite:///{empty}",
        FEEDBACK_REDIS_URL="redis://127.0.0.1:1/0",
        FEEDBACK_BASE_URL="http://127.0.0.1:8000",
    )
    out = got.stdout
    assert got.returncode == 1, out
    assert "3 problem(s)" in out
    assert f"chmod 600 {secret}" in out
    assert f"no SQLite file at {empty}: run `feedback db upgrade`" in out
    assert not empty.exists()  # the doctor looks, it does not create
    assert "FAIL  redis" in out and "warn  base url" in out


def test_doctor_finds_a_schema_behind_the_code(settings: Settings, tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    got = run(settings, tmp_path, "doctor", FEEDBACK_DATABASE_URL=f"sqlite:///{empty}")
    assert got.returncode == 1
    assert "the schema is at nothing (an empty database)" in got.stdout
    assert "run `feedback db upgrade`" in got.stdout


COMMANDS = ["serve", "db", "org create", "worker", "demo", "import", "export", "doctor", "backup"]


def test_the_list_of_commands_is_complete() -> None:
    usage = build_parser().format_usage()
    assert usage.split("{", 1)[1].split("}", 1)[0].split(",") == [c.split()[0] for c in COMMANDS]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_examples_and_exit_codes(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command.split(), "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "examples:\n  feedback " in out
    assert "exit codes:" in out and "4  the database is unreachable" in out


def _at_a_terminal(settings: Settings, cwd: Path, *args: str) -> tuple[int, bytes]:
    """`python -m feedback *args` with its standard error on a pseudo-terminal: the exit code
    and what the terminal showed."""
    controller, terminal = pty.openpty()
    command = [sys.executable, "-m", "feedback", *args]
    env = environment(settings)
    with subprocess.Popen(command, env=env, cwd=cwd, stderr=terminal) as process:
        os.close(terminal)
        shown = b""
        with contextlib.suppress(OSError):  # the terminal closes with the process
            while chunk := os.read(controller, 4096):
                shown += chunk
    os.close(controller)
    return process.returncode, shown


async def test_a_progress_bar_at_a_terminal_only(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    file = tmp_path / "answers.ndjson"
    file.write_text(ndjson([{"answers": pulse_answers(), "submitted_at": "2026-03-01T10:00:00Z"}]))
    piped = run(settings, tmp_path, "import", str(file), "--survey", "pulse")
    assert piped.returncode == 0 and "\x1b[" not in piped.stderr + piped.stdout

    out = tmp_path / "long.csv"
    code, shown = _at_a_terminal(
        settings, tmp_path, "export", "--survey", "pulse", "--output", str(out)
    )
    assert code == 0
    assert b"exporting pulse" in shown and b"\x1b[" in shown
    assert f"wrote {out.stat().st_size} bytes to {out}".encode() in shown


def test_backup_refuses_to_overwrite(settings: Settings, tmp_path: Path) -> None:
    existing = tmp_path / "copy.db"
    existing.write_text("an older backup")
    got = run(settings, tmp_path, "backup", str(existing))
    assert got.returncode == 1 and "exists already" in got.stderr
    assert existing.read_text() == "an older backup"


def test_pg_dump_gets_the_password_through_the_environment() -> None:
    url = "postgresql+asyncpg://feedback:s3cret@db.internal:5433/feedback"
    command, env = pg_dump_command(url, Path("/backups/x.dump"))
    assert command == [
        "pg_dump",
        "--format=custom",
        "--no-owner",
        "--file=/backups/x.dump",
        "postgresql://feedback@db.internal:5433/feedback",
    ]
    assert env == {"PGPASSWORD": "s3cret"}


# What an operator gets wrong, or what goes wrong around them: a message naming it and the
# documented exit code, never a traceback.

DOWN = "postgresql://postgres@127.0.0.1:1/none"


def assert_said(got: subprocess.CompletedProcess[str], code: int, *phrases: str) -> None:
    assert "Traceback" not in got.stderr, got.stderr
    assert got.returncode == code, got.stderr
    for phrase in phrases:
        assert phrase in got.stderr, got.stderr


@pytest.mark.parametrize(
    ("args", "name", "value"),
    [
        (["db", "current"], "FEEDBACK_MAX_BODY_BYTES", "64k"),
        (["export", "--survey", "pulse"], "FEEDBACK_TRUSTED_PROXIES", "10.0.0.1"),
        (["import", "x.csv", "--survey", "pulse"], "FEEDBACK_CORS_ALLOW_ORIGINS", "https://a.org"),
        (["worker"], "FEEDBACK_HEADER_TIMEOUT", "nan"),
        (["db", "upgrade"], "FEEDBACK_DATABASE_URL", "mysql://feedback@db.internal/feedback"),
        (["demo"], "FEEDBACK_DATABASE_URL", ""),
        (["serve", "--no-migrate"], "FEEDBACK_EMBEDDED_WORKER", "sometimes"),
        (["demo"], "FEEDBACK_SECRET_KEY", "\udcff" * 48),  # 48 bytes from /dev/urandom, say
    ],
)
def test_a_bad_setting_is_named_with_exit_2(
    settings: Settings, tmp_path: Path, args: list[str], name: str, value: str
) -> None:
    (tmp_path / "x.csv").write_text("submitted_at,trust\r\n")
    assert_said(run(settings, tmp_path, *args, **{name: value}), 2, name)


def test_the_doctor_names_a_setting_that_is_not_json(settings: Settings, tmp_path: Path) -> None:
    got = run(settings, tmp_path, "doctor", FEEDBACK_TRUSTED_PROXIES="10.0.0.1, 10.0.0.2")
    assert "Traceback" not in got.stderr, got.stderr
    assert got.returncode == 1
    assert "FAIL  configuration" in got.stdout and "FEEDBACK_TRUSTED_PROXIES" in got.stdout


def test_a_downgrade_names_its_revision(settings: Settings, tmp_path: Path) -> None:
    # `base`, the old default, drops every table: a bare `db downgrade` changes nothing.
    head = run(settings, tmp_path, "db", "current")
    assert head.returncode == 0 and head.stdout.strip(), head.stderr
    got = run(settings, tmp_path, "db", "downgrade")
    assert_said(got, 2, "name the revision", "base")
    assert run(settings, tmp_path, "db", "current").stdout == head.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["db", "upgrade"],
        ["db", "current"],
        ["db", "downgrade", "-1"],
        ["demo"],
        ["org", "create", "acme", "--name", "Acme"],
    ],
)
def test_every_database_command_exits_4_when_the_database_is_down(
    settings: Settings, tmp_path: Path, args: list[str]
) -> None:
    got = run(settings, tmp_path, *args, FEEDBACK_DATABASE_URL=DOWN)
    assert_said(got, 4, "feedback doctor")


def test_a_password_with_escapes_reaches_the_database(settings: Settings, tmp_path: Path) -> None:
    """`%40` is how a URL spells an `@` in a password; Alembic's configuration must not read the
    `%` as one of its own interpolations."""
    down = "postgresql://feedback:p%40ss%25w0rd@127.0.0.1:1/none"
    got = run(settings, tmp_path, "db", "upgrade", FEEDBACK_DATABASE_URL=down)
    assert_said(got, 4, "feedback doctor")
    assert "p%40ss" not in got.stderr and "p@ss" not in got.stderr


def test_a_database_url_with_a_percent_migrates(settings: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/100%25.db"
    upgraded = run(settings, tmp_path, "db", "upgrade", FEEDBACK_DATABASE_URL=url)
    assert_said(upgraded, 0)
    current = run(settings, tmp_path, "db", "current", FEEDBACK_DATABASE_URL=url)
    assert_said(current, 0)
    assert current.stdout.strip() == migrate.head_revision()


def test_an_unknown_revision_is_a_usage_error(settings: Settings, tmp_path: Path) -> None:
    assert_said(run(settings, tmp_path, "db", "upgrade", "nosuch"), 2, "nosuch")


async def test_org_create_refuses_a_taken_slug_with_exit_2(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    await make_org(client, "acme")
    assert_said(run(settings, tmp_path, "org", "create", "acme", "--name", "Again"), 2, "acme")
    made = run(settings, tmp_path, "org", "create", "beta", "--name", "Beta")
    assert_said(made, 0)
    assert made.stdout.strip()


async def test_export_to_a_place_it_cannot_write_exits_2(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    missing = tmp_path / "no" / "such" / "dir" / "out.csv"
    got = run(settings, tmp_path, "export", "--survey", "pulse", "--output", str(missing))
    assert_said(got, 2, str(missing.parent))
    got = run(settings, tmp_path, "export", "--survey", "pulse", "--output", str(tmp_path))
    assert_said(got, 2, str(tmp_path))


def _export_to_a_full_disk(settings: Settings, cwd: Path) -> subprocess.CompletedProcess[str]:
    with Path("/dev/full").open("w") as full:  # every write to it fails with ENOSPC
        return subprocess.run(
            [sys.executable, "-m", "feedback", "export", "--survey", "pulse"],
            env=environment(settings),
            cwd=cwd,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )


async def test_a_full_disk_is_not_blamed_on_the_database(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY)
    got = _export_to_a_full_disk(settings, tmp_path)
    assert_said(got, 2, "No space left on device")
    assert "database" not in got.stderr


def test_backup_into_a_missing_directory_says_so(settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "copy.db"
    assert_said(run(settings, tmp_path, "backup", str(target)), 1, str(target.parent))


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_serve_refuses_a_port_that_is_not_one(
    settings: Settings, tmp_path: Path, port: str
) -> None:
    got = run(settings, tmp_path, "serve", "--port", port)
    assert_said(got, 2, "--port")


def test_a_secret_file_that_cannot_be_made_is_named(settings: Settings, tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    path = a_file / "secret"
    got = run(
        settings, tmp_path, "demo", FEEDBACK_SECRET_KEY=None, FEEDBACK_SECRET_KEY_FILE=str(path)
    )
    assert_said(got, 2, str(path))


@pytest.mark.parametrize(
    ("host", "base_url"),
    [
        ("::1", "http://[::1]:8123"),
        ("::", "http://127.0.0.1:8123"),
        ("10.1.2.3", "http://10.1.2.3:8123"),
    ],
)
def test_serve_hands_out_links_to_where_it_listens(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, host: str, base_url: str
) -> None:
    """Without FEEDBACK_BASE_URL, links point where `serve` listens; an IPv6 address in a URL
    goes in brackets. (In process, uvicorn left out: the links of a served demo are the same.)"""
    import uvicorn

    served: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_a, **_k: served.append("run"))
    for name, value in environment(settings).items():
        if name.startswith("FEEDBACK_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("FEEDBACK_BASE_URL", "unset below; restored after the test")
    monkeypatch.delenv("FEEDBACK_BASE_URL")
    get_settings.cache_clear()
    try:
        assert main(["serve", "--host", host, "--port", "8123", "--no-migrate"]) == 0
        assert get_settings().base_url == base_url
    finally:
        get_settings.cache_clear()
    assert served == ["run"]


@pytest.mark.parametrize("poll", ["0", "-1", "nan"])
def test_worker_refuses_a_poll_that_would_spin(
    settings: Settings, tmp_path: Path, poll: str
) -> None:
    """`--poll 0` would query the outbox without pause, a core and a connection busy for ever."""
    got = subprocess.run(
        [sys.executable, "-m", "feedback", "worker", "--poll", poll],
        env=environment(settings),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert_said(got, 2, "--poll")
