"""Responses: submissions and their revisions, respondents, imports and exports.

`submissions` is the door for supporters' answers (validated, then stored by the group-commit
writer in `writer`, whose statements are in `writes`); `respondents` keeps supporters
pseudonymous; `imports` and `exports` stream files in and out; `service` serves analysts.
"""
