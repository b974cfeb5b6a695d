"""README's shell blocks run as written against a live demo server, so the README stays true.

Every ```sh block of README.md runs, in order, in one bash session (variables carry from one
block to the next) under `set -euo pipefail`, against `feedback serve` on a fresh SQLite demo,
after the `export …` line the demo prints. Status codes are checked: inside the blocks `curl`
fails on an answer that is not 2xx, unless the block asks for the status itself (`-w`) and tests
it. A block that cannot run here (installing, the PostgreSQL example) is preceded by a comment
`<!-- readme-test: skip (why) -->`, so skipping is visible to whoever edits the README.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests import database

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```(\S*)\s*$")
SKIP = re.compile(r"^<!-- readme-test: skip \((.+)\) -->$")
# Inside the blocks, a curl that does not ask for the status fails on one that is not 2xx.
CHECKED_CURL = """
curl() {
  case " $* " in
    *" -w "*|*" --write-out "*) command curl "$@" ;;
    *) command curl --fail-with-body -sS "$@" ;;
  esac
}
"""


@dataclass(frozen=True)
class Block:
    line: int
    code: str
    skip: str | None


def shell_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opened = FENCE.match(lines[index])
        if opened and opened.group(1) in ("sh", "bash", "shell"):
            start = index
            index += 1
            body: list[str] = []
            while not lines[index].startswith("```"):
                body.append(lines[index])
                index += 1
            before = lines[start - 1].strip() if start else ""
            skipped = SKIP.match(before)
            blocks.append(Block(start + 1, "\n".join(body), skipped.group(1) if skipped else None))
        index += 1
    return blocks


def test_every_shell_block_is_run_or_says_why_not() -> None:
    blocks = shell_blocks(README.read_text())
    assert len(blocks) >= 8
    assert blocks[0].skip, "the set-up commands come first and are not run here"
    assert sum(1 for b in blocks if b.skip is None) >= 6


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(
    database.configured_url() is not None, reason="the README walks through the SQLite demo"
)
def test_the_readme_walkthroughs_run_against_the_demo(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "FEEDBACK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/feedback.db",
        "FEEDBACK_SECRET_KEY_FILE": str(tmp_path / "secret"),
        "FEEDBACK_BASE_URL": f"http://127.0.0.1:{port}",
        "FEEDBACK_PUBLIC_RATE_LIMIT": "0",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    feedback = [sys.executable, "-m", "feedback"]
    # The walkthroughs call `.venv/bin/feedback`, as from a checkout set up by ./scripts/demo.
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parents[1])
    subprocess.run([*feedback, "db", "upgrade"], env=env, cwd=tmp_path, check=True)
    demo = subprocess.run(
        [*feedback, "demo"], env=env, cwd=tmp_path, check=True, capture_output=True, text=True
    )
    exports = [
        line.strip() for line in demo.stdout.splitlines() if line.strip().startswith("export ")
    ]
    assert len(exports) == 1, demo.stdout
    server = subprocess.Popen(
        [*feedback, "serve", "--port", str(port), "--no-migrate"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "server.log").open("wb"),
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "feedback serve did not start"
            time.sleep(0.2)
        script = ["set -euo pipefail", CHECKED_CURL, exports[0]]
        for block in shell_blocks(README.read_text()):
            if block.skip is None:
                script += [f"echo '### README.md line {block.line}' >&2", block.code]
        ran = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
        failed_at = [line for line in ran.stderr.splitlines() if line.startswith("### README")]
        assert ran.returncode == 0, (
            f"the README block at {failed_at[-1] if failed_at else '?'} failed "
            f"(exit {ran.returncode}):\n{ran.stderr[-3000:]}\n{ran.stdout[-2000:]}"
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
