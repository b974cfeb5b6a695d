"""The hosted form without JavaScript, in pages: skip logic that a page cannot run live.

A page ends before the first question whose `show_if` depends on an answer on that same page, so
every condition on a page is decided by the answers of earlier pages. Each POST of a page that is
not the last checks the answers so far and shows the next page that has a question to ask (a
page whose questions are all hidden is skipped), carrying the earlier answers in hidden fields;
the last page submits everything through the one submission door, which refuses an answer to a
question that should have been hidden.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from feedback.api.form_view import answer_key
from feedback.errors import FieldError
from feedback.surveys.answers import validate_answers
from feedback.surveys.definition import Definition
from feedback.surveys.show_if import referenced, visible_keys


def split_pages(definition: Definition) -> list[list[str]]:
    """The question keys of each page, in order (one page when no condition looks back into
    its own page)."""
    pages: list[list[str]] = [[]]
    for question in definition.questions:
        if question.show_if is not None and referenced(question.show_if) & set(pages[-1]):
            pages.append([])
        pages[-1].append(question.key)
    return pages


@dataclass(frozen=True, slots=True)
class Step:
    """One page as the supporter sees it: its number, the questions it shows, and the answers
    of earlier pages it carries as hidden fields (name, value)."""

    index: int
    keys: tuple[str, ...]
    carried: tuple[tuple[str, str], ...]
    last: bool
    # Counting only the pages shown (skipped ones are not), for the page's title.
    number: int = 1


def step(
    definition: Definition,
    index: int,
    values: Mapping[str, Sequence[str]],
    answers: Mapping[str, object],
) -> Step:
    """Page `index` for the answers given so far (`values` as posted, `answers` as parsed)."""
    pages = split_pages(definition)
    shown = set(visible_keys(definition.questions, answers))
    earlier = [k for page in pages[:index] for k in page if k in shown]
    return Step(
        index=index,
        keys=tuple(k for k in pages[index] if k in shown),
        carried=tuple((k, v) for k in earlier for v in values.get(k, ())),
        # Whether a later page will have a question depends on this page's answers, unknown yet.
        last=index == len(pages) - 1,
        number=sum(1 for page in pages[: index + 1] if shown & set(page)) or 1,
    )


def next_page(definition: Definition, index: int, answers: Mapping[str, object]) -> int | None:
    """The first page after `index` with a question shown for `answers`, else None."""
    pages = split_pages(definition)
    shown = set(visible_keys(definition.questions, answers))
    return next((j for j in range(index + 1, len(pages)) if shown & set(pages[j])), None)


def errors_so_far(
    definition: Definition, index: int, answers: Mapping[str, object]
) -> list[FieldError]:
    """The answer check's errors about the questions of pages up to `index`."""
    asked = {k for page in split_pages(definition)[: index + 1] for k in page}
    return [e for e in validate_answers(definition, answers) if answer_key(e.pointer) in asked]


def page_of(definition: Definition, errors: Sequence[FieldError], default: int) -> int:
    """The first page with a question in error (where the supporter can mend it)."""
    keys = {answer_key(e.pointer) for e in errors}
    pages = split_pages(definition)
    return next((i for i, page in enumerate(pages) if keys & set(page)), default)
