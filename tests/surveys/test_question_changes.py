"""What publishing changes, per question key, and whether the series breaks."""

from __future__ import annotations

from typing import Any

from feedback.surveys.changes import QuestionChange, diff_definitions
from feedback.surveys.definition import Definition, parse_definition


def definition(*questions: dict[str, Any]) -> Definition:
    return parse_definition({"questions": list(questions)}, locales=["hi"], default_locale="en")


def likert(key: str = "trust", **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "type": "likert",
        "label": "I trust the organisation",
        "scale": {"min": 1, "max": 5, "labels": {"1": "Disagree", "5": "Agree"}},
    } | extra


def single(key: str = "priority", options: str = "climate,housing", **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "type": "single_choice",
        "label": "Which issue?",
        "options": [{"key": k, "label": k.title()} for k in options.split(",")],
    } | extra


def multi(options: str = "petition,march", **extra: Any) -> dict[str, Any]:
    return single("actions", options) | {"type": "multi_choice"} | extra


def number(**bounds: Any) -> dict[str, Any]:
    return {"key": "hours", "type": "number", "label": "Hours"} | bounds


def diff(before: dict[str, Any], after: dict[str, Any], **kwargs: Any) -> list[QuestionChange]:
    return diff_definitions(definition(before), definition(after), **kwargs)


def test_first_publication_adds_everything_without_breaks() -> None:
    current = definition(likert(), single())
    assert diff_definitions(None, current) == [
        QuestionChange("trust", "added", False, "new likert question"),
        QuestionChange("priority", "added", False, "new single_choice question"),
    ]


def test_no_change_no_entry() -> None:
    assert diff(likert(), likert()) == []
    assert diff(likert(label="I  trust the organisation "), likert()) == []  # whitespace only
    # required and max_length have no kind
    assert diff(likert(required=True), likert()) == []
    text = {"key": "c", "type": "text", "label": "Else?"}
    assert diff(text, text | {"max_length": 500}) == []


def test_added_and_removed() -> None:
    changes = diff_definitions(definition(likert(), single()), definition(likert("mood")))
    assert changes == [
        QuestionChange("mood", "added", False, "new likert question"),
        QuestionChange("trust", "removed", False, "no longer asked"),
        QuestionChange("priority", "removed", False, "no longer asked"),
    ]


def test_a_key_removed_earlier_and_added_again_breaks() -> None:
    v1 = definition(likert(), single())
    v2 = definition(likert())
    v3 = definition(likert(), single())
    assert diff_definitions(v2, v3, history=[v1, v2]) == [
        QuestionChange("priority", "added", True, "asked again (single_choice) after being removed")
    ]
    assert diff_definitions(v2, v3, history=[v2]) == [
        QuestionChange("priority", "added", False, "new single_choice question")
    ]


def test_type_change_breaks_and_hides_scale_and_option_comparisons() -> None:
    changes = diff(likert(), likert(type="rating", scale={"min": 0, "max": 10}))
    assert changes == [QuestionChange("trust", "type_changed", True, "type likert → rating")]
    changes = diff(single(), {"key": "priority", "type": "text", "label": "Which issue now?"})
    assert changes == [
        QuestionChange("priority", "type_changed", True, "type single_choice → text"),
        QuestionChange("priority", "reworded", False, "label changed"),
    ]


def test_scale_change_breaks() -> None:
    changes = diff(likert(), likert(scale={"min": 1, "max": 7}))
    assert changes == [
        QuestionChange("trust", "scale_changed", True, "scale 1..5 → 1..7"),
        QuestionChange("trust", "reworded", False, "point labels changed (1, 5)"),
    ]


def test_rewording_does_not_break_unless_declared() -> None:
    reworded = likert(label="I trust the organisation to act on my views")
    assert diff(likert(), reworded) == [QuestionChange("trust", "reworded", False, "label changed")]
    assert diff(likert(), reworded | {"breaks_series": True}) == [
        QuestionChange("trust", "reworded", True, "label changed")
    ]
    assert diff(likert(), likert(description="Think of the last year")) == [
        QuestionChange("trust", "reworded", False, "description changed")
    ]
    anchors = likert(scale={"min": 1, "max": 5, "labels": {"1": "Strongly disagree", "5": "Agree"}})
    assert diff(likert(), anchors) == [
        QuestionChange("trust", "reworded", False, "point labels changed (1)")
    ]
    nps = {"key": "nps", "type": "nps", "label": "Recommend?"}
    assert diff(nps, nps | {"labels": {"0": "Never"}}) == [
        QuestionChange("nps", "reworded", False, "point labels changed (0)")
    ]


def test_rewording_per_locale() -> None:
    before = likert(label={"en": "Trust", "hi": "भरोसा"})
    assert diff(before, likert(label={"en": "Trust", "hi": "विश्वास"})) == [
        QuestionChange("trust", "reworded", False, "label changed (hi)")
    ]
    # A translation replacing a plain string is no rewording when the default text stays.
    plain = likert(label="Trust")
    translated = likert(label={"en": "Trust", "hi": "भरोसा"})
    assert diff(plain, translated, default_locale="en") == []
    assert diff(plain, likert(label={"en": "Faith", "hi": "भरोसा"}), default_locale="en") == [
        QuestionChange("trust", "reworded", False, "label changed (en)")
    ]
    # Without the default locale, the plain text must appear among the map's texts.
    assert diff(plain, translated) == []
    assert diff(plain, likert(label={"en": "Faith", "hi": "भरोसा"})) == [
        QuestionChange("trust", "reworded", False, "label changed")
    ]


def test_single_choice_options() -> None:
    assert diff(single(), single(options="climate,housing,health")) == [
        QuestionChange("priority", "options_changed", True, "added health")
    ]
    assert diff(single(options="climate,housing,health"), single()) == [
        QuestionChange("priority", "options_changed", True, "removed health")
    ]
    rekeyed = diff(single(), single(options="climate,homes"))
    assert rekeyed == [
        QuestionChange("priority", "options_changed", True, "added homes; removed housing")
    ]
    relabelled = single()
    relabelled["options"][1]["label"] = "Homes"
    assert diff(single(), relabelled) == [
        QuestionChange("priority", "options_changed", False, "relabelled housing")
    ]
    assert diff(single(), relabelled | {"breaks_series": True}) == [
        QuestionChange("priority", "options_changed", True, "relabelled housing")
    ]
    assert diff(single(), single(options="housing,climate")) == [
        QuestionChange("priority", "options_changed", False, "reordered")
    ]


def test_multi_choice_options() -> None:
    assert diff(multi(), multi("petition,march,donate")) == [
        QuestionChange("actions", "options_changed", False, "added donate")
    ]
    assert diff(multi("petition,march,donate"), multi()) == [
        QuestionChange("actions", "options_changed", False, "removed donate")
    ]
    assert diff(multi(), multi(max_choices=1)) == [
        QuestionChange("actions", "options_changed", True, "max_choices None → 1")
    ]


def test_number_ranges_break_when_they_narrow() -> None:
    assert diff(number(min=0, max=168), number(min=0, max=100)) == [
        QuestionChange("hours", "scale_changed", True, "range 0..168 → 0..100")
    ]
    assert diff(number(min=0, max=100), number(min=0, max=168)) == [
        QuestionChange("hours", "scale_changed", False, "range 0..100 → 0..168")
    ]
    assert diff(number(), number(min=0)) == [
        QuestionChange("hours", "scale_changed", True, "range .. → 0..")
    ]
    assert diff(number(min=0), number()) == [
        QuestionChange("hours", "scale_changed", False, "range 0.. → ..")
    ]
    assert diff(number(max=10), number(max=10, integer=True)) == [
        QuestionChange("hours", "scale_changed", True, "range ..10 → ..10 integers")
    ]
    assert diff(number(max=10, integer=True), number(max=10)) == [
        QuestionChange("hours", "scale_changed", False, "range ..10 integers → ..10")
    ]
    assert diff(number(max=10), number(max=20, breaks_series=True)) == [
        QuestionChange("hours", "scale_changed", True, "range ..10 → ..20")
    ]


def test_several_kinds_for_one_key_in_a_fixed_order() -> None:
    after = single(options="climate,health", label="Which issue matters most?")
    assert diff(single(), after) == [
        QuestionChange("priority", "options_changed", True, "added health; removed housing"),
        QuestionChange("priority", "reworded", False, "label changed"),
    ]


def test_order_follows_the_current_version_then_removed_keys() -> None:
    before = definition(likert("a"), likert("b"), likert("c"))
    after = definition(likert("c", label="New c"), likert("d"), likert("a"))
    assert [(c.key, c.kind) for c in diff_definitions(before, after)] == [
        ("c", "reworded"),
        ("d", "added"),
        ("b", "removed"),
    ]
