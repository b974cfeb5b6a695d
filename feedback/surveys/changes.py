"""What publishing a version changes, question by question, and whether each change breaks the
question's trend (docs/http-api.md: `changes` on publish).

A question is the same question across versions when its key is the same. `diff_definitions`
gives one `QuestionChange` per (key, kind); a question changed in several ways has several
entries, and its series breaks at this version when any of them says so. The rules:

- `added`: a key not in the previous version. Breaks only when an earlier version had the key
  (it was removed and comes back: the waves in between have no series to join).
- `removed`: a key the previous version had. Never breaks (the series just ends).
- `type_changed`: always breaks. Scale and option differences are not compared across types.
- `scale_changed`: a likert or rating scale with other bounds always breaks. A number question
  whose accepted range narrows (a bound tightened or added, or `integer` turned on) breaks; one
  that only widens does not, since every earlier answer is still a valid answer.
- `options_changed`: on a single-choice question, adding or removing an option key breaks (shares
  are only comparable over the same set of options; a re-keyed option is one removed and one
  added). On a multi-choice question each option is its own series, so adding or removing
  options does not break, but changing `max_choices` does. Relabelled or reordered options do
  not break unless the question declares `breaks_series: true`.
- `show_if_changed`: the question's condition was added, removed or changed. Breaks: it changes
  who is asked, so the answers before and after come from different groups of supporters (a
  question asked of everyone, then only of detractors, would show a "drop" nobody caused).
- `reworded`: the label, description or scale/NPS point labels changed in some locale
  (whitespace-only edits are not changes). Breaks only when the question declares
  `breaks_series: true`, which likewise turns any other non-breaking change into a break.

Changes to `required` or to a text question's `max_length` are not reported: they have no kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from feedback.surveys.definition import (
    Definition,
    LikertQuestion,
    MultiChoiceQuestion,
    NpsQuestion,
    NumberQuestion,
    Question,
    RatingQuestion,
    SingleChoiceQuestion,
)

ChangeKind = Literal[
    "added",
    "removed",
    "reworded",
    "options_changed",
    "scale_changed",
    "type_changed",
    "show_if_changed",
]


@dataclass(frozen=True, slots=True)
class QuestionChange:
    key: str
    kind: ChangeKind
    breaks_series: bool
    detail: str


def diff_definitions(
    previous: Definition | None,
    current: Definition,
    *,
    history: Iterable[Definition] = (),
    default_locale: str | None = None,
) -> list[QuestionChange]:
    """The changes from `previous` (None: nothing published yet) to `current`.

    `history` is every version published before `current` (it may include `previous`): a key
    they had that `previous` lacks is re-added. `default_locale` tells which locale a plain-string
    label stands for when the other version gives a `{locale: text}` map; without it such a pair
    counts as reworded only when the string matches none of the map's texts.

    Entries come in `current`'s question order (kinds in the order type, scale, options,
    show_if, reworded), then removed keys in `previous`'s order.
    """
    before = {q.key: q for q in previous.questions} if previous is not None else {}
    earlier = {q.key for d in history for q in d.questions}
    changes: list[QuestionChange] = []
    for question in current.questions:
        old = before.get(question.key)
        if old is None:
            changes.append(_added(question, question.key in earlier))
        else:
            changes += _compared(old, question, default_locale)
    now = {q.key for q in current.questions}
    changes += [
        QuestionChange(key, "removed", False, "no longer asked") for key in before if key not in now
    ]
    return changes


def _added(question: Question, seen_before: bool) -> QuestionChange:
    if seen_before:
        return QuestionChange(
            question.key, "added", True, f"asked again ({question.type}) after being removed"
        )
    return QuestionChange(question.key, "added", False, f"new {question.type} question")


def _compared(old: Question, new: Question, default_locale: str | None) -> list[QuestionChange]:
    declared = new.breaks_series
    changes: list[QuestionChange] = []
    if old.type != new.type:
        changes.append(
            QuestionChange(new.key, "type_changed", True, f"type {old.type} → {new.type}")
        )
    else:
        scale = _scale_change(old, new)
        if scale is not None:
            detail, breaks = scale
            changes.append(QuestionChange(new.key, "scale_changed", breaks or declared, detail))
        options = _options_change(old, new, default_locale)
        if options is not None:
            detail, breaks = options
            changes.append(QuestionChange(new.key, "options_changed", breaks or declared, detail))
    if old.show_if != new.show_if:
        changes.append(QuestionChange(new.key, "show_if_changed", True, _show_if_detail(old, new)))
    wording = _wording_changes(old, new, default_locale)
    if wording:
        changes.append(QuestionChange(new.key, "reworded", declared, "; ".join(wording)))
    return changes


def _show_if_detail(old: Question, new: Question) -> str:
    if old.show_if is None:
        return "now asked only when its show_if holds"
    if new.show_if is None:
        return "now asked of everyone (show_if removed)"
    return "show_if changed"


def _scale_change(old: Question, new: Question) -> tuple[str, bool] | None:
    if isinstance(old, LikertQuestion | RatingQuestion) and isinstance(
        new, LikertQuestion | RatingQuestion
    ):
        a, b = old.scale, new.scale
        if (a.min, a.max) == (b.min, b.max):
            return None
        return f"scale {a.min}..{a.max} → {b.min}..{b.max}", True
    if isinstance(old, NumberQuestion) and isinstance(new, NumberQuestion):
        if (old.min, old.max, old.integer) == (new.min, new.max, new.integer):
            return None
        narrows = (
            _tighter(new.min, old.min, lower=True)
            or _tighter(new.max, old.max, lower=False)
            or (new.integer and not old.integer)
        )
        return f"range {_range(old)} → {_range(new)}", narrows
    return None


def _tighter(new: float | None, old: float | None, *, lower: bool) -> bool:
    if new is None:
        return False
    if old is None:
        return True
    return new > old if lower else new < old


def _range(question: NumberQuestion) -> str:
    lo = "" if question.min is None else str(question.min)
    hi = "" if question.max is None else str(question.max)
    return f"{lo}..{hi}" + (" integers" if question.integer else "")


def _options_change(
    old: Question, new: Question, default_locale: str | None
) -> tuple[str, bool] | None:
    if not (
        isinstance(old, SingleChoiceQuestion | MultiChoiceQuestion)
        and isinstance(new, SingleChoiceQuestion | MultiChoiceQuestion)
    ):
        return None
    old_labels = {o.key: o.label for o in old.options}
    new_labels = {o.key: o.label for o in new.options}
    added = [k for k in new_labels if k not in old_labels]
    removed = [k for k in old_labels if k not in new_labels]
    kept_old = [k for k in old_labels if k in new_labels]
    kept_new = [k for k in new_labels if k in old_labels]
    relabelled = [
        k
        for k in kept_new
        if _changed_locales(old_labels[k], new_labels[k], default_locale) is not None
    ]
    parts = []
    if added:
        parts.append("added " + ", ".join(added))
    if removed:
        parts.append("removed " + ", ".join(removed))
    if relabelled:
        parts.append("relabelled " + ", ".join(relabelled))
    if kept_old != kept_new:
        parts.append("reordered")
    breaks = isinstance(new, SingleChoiceQuestion) and bool(added or removed)
    if (
        isinstance(old, MultiChoiceQuestion)
        and isinstance(new, MultiChoiceQuestion)
        and old.max_choices != new.max_choices
    ):
        parts.append(f"max_choices {old.max_choices} → {new.max_choices}")
        breaks = True
    return ("; ".join(parts), breaks) if parts else None


def _wording_changes(old: Question, new: Question, default_locale: str | None) -> list[str]:
    found = []
    for name, a, b in (
        ("label", old.label, new.label),
        ("description", old.description, new.description),
    ):
        locales = _changed_locales(a, b, default_locale)
        if locales is not None:
            found.append(f"{name} changed" + (f" ({', '.join(locales)})" if locales else ""))
    if old.type == new.type:
        old_points, new_points = _point_labels(old), _point_labels(new)
        points = [
            point
            for point in sorted(old_points.keys() | new_points.keys(), key=int)
            if _changed_locales(old_points.get(point), new_points.get(point), default_locale)
            is not None
        ]
        if points:
            found.append("point labels changed (" + ", ".join(points) + ")")
    return found


def _point_labels(question: Question) -> dict[str, str | dict[str, str]]:
    if isinstance(question, LikertQuestion | RatingQuestion):
        return question.scale.labels
    if isinstance(question, NpsQuestion):
        return question.labels
    return {}


def _normal(text: str) -> str:
    return " ".join(text.split())


def _changed_locales(
    a: str | dict[str, str] | None, b: str | dict[str, str] | None, default_locale: str | None
) -> list[str] | None:
    """None when the two texts say the same; else the locales whose text changed (empty when
    that cannot be told by locale, as between two plain strings)."""
    if a is None or b is None:
        return None if a is None and b is None else []
    if isinstance(a, str) and isinstance(b, str):
        return None if _normal(a) == _normal(b) else []
    if isinstance(a, str) or isinstance(b, str):
        plain = _normal(a) if isinstance(a, str) else _normal(str(b))
        mapping = b if isinstance(b, dict) else a
        assert isinstance(mapping, dict)
        texts = {locale: _normal(text) for locale, text in mapping.items()}
        if default_locale is not None and default_locale in texts:
            return None if texts[default_locale] == plain else [default_locale]
        return None if plain in texts.values() else []
    changed = sorted(k for k in a.keys() & b.keys() if _normal(a[k]) != _normal(b[k]))
    return changed or None
