"""Responses: submissions and their revisions, respondents, imports and exports.

`submissions` is the door for supporters' answers (validated, then stored by the group commit
in `group_commit`, whose blocking statements are in `store_statements`); `respondents` keeps
supporters pseudonymous; `imports` and `exports` stream files in and out; `service` serves analysts.
"""
