"""The exit codes of `feedback`, for scripts (docs/cli.md lists them)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    # The command ran, but some of its input was refused (import) or a check failed (doctor).
    REJECTED = 1
    # Bad arguments, an unreadable file or an unsupported format (argparse also exits with 2).
    USAGE = 2
    # The organisation or survey named does not exist.
    NOT_FOUND = 3
    # The database cannot be reached, or its schema is not the one this version expects.
    DATABASE = 4
