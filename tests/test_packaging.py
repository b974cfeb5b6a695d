"""The migrations work the ways people run them: `alembic` from the checkout (alembic.ini at the
root, FEEDBACK_DATABASE_URL), and `feedback db upgrade` from any directory once the wheel is
installed, which carries them as feedback/_alembic."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from feedback import migrate

ROOT = Path(__file__).parents[1]


def _run(*command: str, cwd: Path, **env: str) -> str:
    done = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_the_alembic_command_works_in_the_checkout(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'checkout.db'}"
    alembic = str(Path(sys.executable).parent / "alembic")
    _run(alembic, "upgrade", "head", cwd=ROOT, FEEDBACK_DATABASE_URL=url)
    assert "(head)" in _run(alembic, "current", cwd=ROOT, FEEDBACK_DATABASE_URL=url)
    # The models and the migrations agree: autogenerate would write an empty revision.
    assert "No new upgrade operations" in _run(
        alembic, "check", cwd=ROOT, FEEDBACK_DATABASE_URL=url
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel as pip would install it (a wheel is the installed tree, zipped), built from a
    copy of the checkout: setuptools builds in the source's `build/`, which another test run
    at the same time (CI runs the suite on both databases at once) would be writing too."""
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "bench", "tests", "__pycache__",
            ".*_cache", ".hypothesis", "feedback.db*",
        ),
    )  # fmt: skip
    _run(
        sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
        "-q", "-w", str(out), cwd=out,
    )  # fmt: skip
    [wheel] = out.glob("feedback-*.whl")
    site = out / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def test_the_wheel_holds_every_module_and_migration(installed: Path) -> None:
    in_tree = {p.relative_to(ROOT).as_posix() for p in (ROOT / "feedback").rglob("*.py")}
    in_tree |= {
        "feedback/_alembic/" + p.relative_to(ROOT / "alembic").as_posix()
        for p in (ROOT / "alembic").rglob("*.py")
    }
    in_wheel = {p.relative_to(installed).as_posix() for p in installed.rglob("*.py")}
    assert in_tree - in_wheel == set()
    for asset in (
        "feedback/_alembic/script.py.mako",
        "feedback/api/static/embed.js",
        "feedback/api/static/swagger-ui/swagger-ui-bundle.js",
    ):
        assert (installed / asset).exists(), asset
    catalogues = {p.relative_to(ROOT).as_posix() for p in (ROOT / "feedback").rglob("*.po")}
    assert catalogues, "no gettext catalogue in the tree"
    assert {c for c in catalogues if not (installed / c).exists()} == set()


def test_an_installed_feedback_migrates_from_any_directory(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PYTHONPATH": str(installed), "FEEDBACK_DATABASE_URL": "sqlite:///./installed.db"}
    where = _run(
        sys.executable, "-c", "import feedback.migrate as m; print(m.MIGRATIONS)",
        cwd=elsewhere, **env,
    )  # fmt: skip
    assert where.strip() == str(installed / "feedback" / "_alembic")
    _run(sys.executable, "-m", "feedback", "db", "upgrade", cwd=elsewhere, **env)
    current = _run(sys.executable, "-m", "feedback", "db", "current", cwd=elsewhere, **env)
    assert current.strip().endswith(str(migrate.head_revision()))
    assert (elsewhere / "installed.db").exists()
