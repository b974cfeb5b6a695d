"""What the operator's commands do beyond the HTTP service: move files of responses in and
out, check an installation, back up a SQLite database. `feedback.cli` parses the arguments and
turns what these return or raise into exit codes (`feedback.commands.exit_codes`)."""
