"""The instance secret: long enough or refused with a message that says what to do; created on
first run readable by its owner only, all at once, the same for every worker that races."""

from __future__ import annotations

import multiprocessing
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from feedback.config import MIN_SECRET_CHARS, InsecureSecret, Settings


def settings_with(**values: object) -> Settings:
    return Settings(database_url="sqlite+aiosqlite:///unused.db", **values)  # type: ignore[arg-type]


@pytest.mark.parametrize("secret", ["", "short", "x" * (MIN_SECRET_CHARS - 1)])
def test_a_short_configured_secret_is_refused(secret: str) -> None:
    with pytest.raises(InsecureSecret, match=f"needs at least {MIN_SECRET_CHARS}"):
        settings_with(secret_key=secret).resolved_secret_key()


@pytest.mark.parametrize("content", ["", "   \n", "abc", "y" * (MIN_SECRET_CHARS - 1)])
def test_a_short_or_empty_secret_file_is_refused_not_used(tmp_path: Path, content: str) -> None:
    path = tmp_path / "secret"
    path.write_text(content)
    with pytest.raises(InsecureSecret, match=str(path)):
        settings_with(secret_key_file=path).resolved_secret_key()
    assert path.read_text() == content  # left for the operator to look at


def test_the_generated_file_is_the_owners_alone_and_complete(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "secret"
    key = settings_with(secret_key_file=path).resolved_secret_key()
    assert len(key) >= MIN_SECRET_CHARS
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == key
    assert [p.name for p in path.parent.iterdir()] == ["secret"]  # no temporary left behind
    assert settings_with(secret_key_file=path).resolved_secret_key() == key


def _resolve(path: str) -> str:
    return settings_with(secret_key_file=Path(path)).resolved_secret_key()


def test_workers_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        keys = pool.map(_resolve, [str(path)] * 32)
    assert len(set(keys)) == 1
    assert path.read_text() == keys[0]
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]


def test_the_command_line_says_what_is_wrong_without_a_traceback(tmp_path: Path) -> None:
    env = {"FEEDBACK_SECRET_KEY": "too-short", "PATH": "/usr/bin:/bin"}
    ran = subprocess.run(
        [sys.executable, "-m", "feedback", "demo"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 2
    assert "FEEDBACK_SECRET_KEY has 9 characters" in ran.stderr
    assert "Traceback" not in ran.stderr
