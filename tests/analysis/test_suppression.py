"""Which segment cells are hidden and why: `small` and `complementary` (docs/statistics.md
"Suppression"), by hand and as Hypothesis properties."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.analysis.suppression import suppressed_cells


def test_one_small_segment_takes_the_smallest_other_with_it() -> None:
    # total 60 shown; "de" (3) alone would be total − the others: hide "nl" (8) too
    cells = {"uk": 40, "nl": 8, "de": 3, "fr": 9}
    assert suppressed_cells(60, cells, min_n=5) == {"de": "small", "nl": "complementary"}


def test_several_small_segments_together_below_min_n_take_one_more() -> None:
    # de + be = 3 < 5: their combined figures would describe 3 people, so add "nl" as well
    cells = {"uk": 40, "nl": 8, "de": 2, "be": 1, "fr": 9}
    assert suppressed_cells(60, cells, min_n=5) == {
        "de": "small",
        "be": "small",
        "nl": "complementary",
    }


def test_small_segments_already_covering_min_n_need_nothing_more() -> None:
    cells = {"uk": 40, "de": 4, "be": 3, None: 13}
    assert suppressed_cells(60, cells, min_n=5) == {"de": "small", "be": "small"}


def test_empty_segments_need_no_protection() -> None:
    assert suppressed_cells(60, {"uk": 40, "nl": 20, "de": 0}, min_n=5) == {"de": "small"}
    assert suppressed_cells(60, {"uk": 40, "nl": 20}, min_n=5) == {}


def test_a_small_total_makes_every_cell_small() -> None:
    assert suppressed_cells(4, {"uk": 3, "nl": 1}, min_n=5) == {"uk": "small", "nl": "small"}


def test_ties_for_the_smallest_other_cell_go_by_name() -> None:
    assert suppressed_cells(30, {"b": 9, "a": 9, "c": 2, "d": 10}, min_n=5) == {
        "c": "small",
        "a": "complementary",
    }
    # the `null` segment is named "null": after "east", before "west"
    assert suppressed_cells(30, {"west": 9, None: 9, "c": 2, "east": 10}, min_n=5) == {
        "c": "small",
        None: "complementary",
    }


def test_the_offline_group_of_the_issue() -> None:
    """Issue 13: the missing-attribute group's 1–3 answers hid a large group; they still must
    (the total is shown), but as `complementary`, and the smallest large group is the one."""
    cells = {"online": 212, "offline": 49, None: 2}
    assert suppressed_cells(263, cells, min_n=5) == {None: "small", "offline": "complementary"}


cells_strategy = st.dictionaries(
    st.sampled_from(["a", "b", "c", "d", "e", "f", None]),
    st.one_of(st.integers(0, 6), st.integers(0, 60)),
    min_size=1,
)


def _name(key: str | None) -> str:
    return "null" if key is None else key


@settings(max_examples=300, deadline=None)
@given(cells_strategy, st.integers(1, 12))
def test_no_small_cell_is_recoverable_from_the_shown_figures_and_the_total(
    cells: dict[str | None, int], min_n: int
) -> None:
    """A suppressed cell still shows its n. The total minus the shown cells gives the figures of
    the hidden cells together, and nothing finer: so the hidden cells with answers must be none,
    or at least two holding at least `min_n` answers together."""
    total = sum(cells.values())
    hidden = suppressed_cells(total, cells, min_n)
    if total < min_n:
        assert hidden == dict.fromkeys(cells, "small")
        return
    assert {k for k, why in hidden.items() if why == "small"} == {
        k for k, n in cells.items() if n < min_n
    }
    with_answers = [k for k in hidden if cells[k] > 0]
    hidden_n = sum(cells[k] for k in hidden)
    assert not with_answers or (len(with_answers) >= 2 and hidden_n >= min_n)


@settings(max_examples=300, deadline=None)
@given(cells_strategy, st.integers(1, 12))
def test_no_cell_is_hidden_that_need_not_be(cells: dict[str | None, int], min_n: int) -> None:
    """At most one complementary cell, only when the small cells hold 1..min_n−1 answers, and
    it is the smallest shown cell (ties by name); every shown cell has at least min_n answers."""
    total = sum(cells.values())
    hidden = suppressed_cells(total, cells, min_n)
    if total < min_n:
        return
    small_n = sum(n for n in cells.values() if n < min_n)
    complementary = [k for k, why in hidden.items() if why == "complementary"]
    shown = [k for k in cells if k not in hidden]
    assert all(cells[k] >= min_n for k in shown)
    if 0 < small_n < min_n:
        assert len(complementary) == 1
        chosen = complementary[0]
        assert all((cells[chosen], _name(chosen)) < (cells[k], _name(k)) for k in shown)
    else:
        assert complementary == []
