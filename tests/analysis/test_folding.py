"""`small_groups=fold`: small cells folded into `other`, smallest first, then suppression over
what remains (docs/statistics.md "Segments"), by hand and as Hypothesis properties."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.analysis.folding import fold_cells
from feedback.analysis.suppression import suppressed_cells


def test_the_recruited_groups_of_the_issue() -> None:
    """Suppression hides the 40 to protect 2; folding the three small groups (1 + 2 + 3 = 6)
    keeps both large groups and shows the small ones together."""
    cells = {"online": 49, "offline": 40, "phone": 2, "street": 3, None: 1}
    assert suppressed_cells(95, cells, min_n=5) == {
        "phone": "small",
        "street": "small",
        None: "small",
    }
    fold = fold_cells(95, cells, min_n=5)
    assert fold.members == (None, "phone", "street")
    assert fold.other is None
    assert fold.hidden == {None: "folded", "phone": "folded", "street": "folded"}


def test_folding_stops_once_other_reaches_min_n() -> None:
    # 1 + 2 + 3 = 6 ≥ 5, and the 4 and 4 left hold 8 ≥ 5 between them: they stay hidden as small
    cells = {"a": 40, "b": 1, "c": 2, "d": 3, "e": 4, "f": 4}
    fold = fold_cells(54, cells, min_n=5)
    assert fold.members == ("b", "c", "d")
    assert fold.other is None
    assert fold.hidden == {"b": "folded", "c": "folded", "d": "folded", "e": "small", "f": "small"}


def test_folding_goes_on_when_the_small_cells_left_would_cost_a_large_group() -> None:
    # 1 + 2 + 3 = 6, but the 4 left alone would hide "a" as complementary: fold it too
    cells = {"a": 40, "z": 50, "b": 1, "c": 2, "d": 3, "e": 4}
    fold = fold_cells(100, cells, min_n=5)
    assert fold.members == ("b", "c", "d", "e")
    assert fold.other is None
    assert set(fold.hidden.values()) == {"folded"}


def test_an_other_group_still_small_is_suppressed_and_protected() -> None:
    """The issue's missing-attribute group alone: folded, `other` holds 2, so it is hidden as
    small and the smallest large group as complementary, as without folding."""
    fold = fold_cells(91, {"online": 49, "offline": 40, None: 2}, min_n=5)
    assert fold.members == (None,)
    assert fold.other == "small"
    assert fold.hidden == {None: "folded", "offline": "complementary"}


def test_nothing_small_folds_nothing() -> None:
    fold = fold_cells(60, {"uk": 40, "nl": 20}, min_n=5)
    assert (fold.members, fold.other, fold.hidden) == ((), None, {})


def test_a_small_total_folds_nothing() -> None:
    fold = fold_cells(4, {"uk": 3, "nl": 1}, min_n=5)
    assert fold.members == () and fold.hidden == {"uk": "small", "nl": "small"}


cells_strategy = st.dictionaries(
    st.sampled_from(["a", "b", "c", "d", "e", "f", "g", None]),
    st.one_of(st.integers(0, 6), st.integers(0, 60)),
    min_size=1,
)


def _name(key: str | None) -> str:
    return "null" if key is None else key


@settings(max_examples=400, deadline=None)
@given(cells_strategy, st.integers(1, 12))
def test_no_small_cell_is_recoverable_from_the_shown_figures_and_the_total(
    cells: dict[str | None, int], min_n: int
) -> None:
    """Shown: the total, `other` (its members pooled) unless hidden, and the cells not hidden.
    Every shown figure covers at least min_n answers, each member of `other` is small (so
    `other` shows no member alone), and the total minus everything shown (the hidden cells
    together, `other` among them when hidden) is either nothing or two cells or more holding
    at least min_n answers."""
    total = sum(cells.values())
    fold = fold_cells(total, cells, min_n)
    if total < min_n:  # nothing is shown but n, the total's included
        assert fold.members == () and set(fold.hidden.values()) <= {"small"}
        return
    other_n = sum(cells[k] for k in fold.members)
    assert all(0 < cells[k] < min_n for k in fold.members)
    if fold.members:
        assert len(fold.members) >= 2 or fold.other is not None
    shown = [k for k in cells if k not in fold.hidden]
    assert all(cells[k] >= min_n for k in shown)
    if fold.members and fold.other is None:
        assert other_n >= min_n
    hidden = [cells[k] for k, why in fold.hidden.items() if why != "folded" and cells[k] > 0]
    if fold.other is not None:
        hidden.append(other_n)
    assert not hidden or (len(hidden) >= 2 and sum(hidden) >= min_n)


@settings(max_examples=400, deadline=None)
@given(cells_strategy, st.integers(1, 12))
def test_no_cell_is_folded_that_need_not_be(cells: dict[str | None, int], min_n: int) -> None:
    """Only small cells are folded, the smallest first (ties by name), and each one was needed:
    before the last, `other` was below min_n or the small cells left held 1..min_n−1 answers.
    No large group is hidden unless every small cell folded still leaves `other` small."""
    total = sum(cells.values())
    fold = fold_cells(total, cells, min_n)
    if total < min_n:
        assert fold.members == ()
        return
    small = sorted(
        (k for k, n in cells.items() if 0 < n < min_n), key=lambda k: (cells[k], _name(k))
    )
    assert list(fold.members) == small[: len(fold.members)]
    if fold.members:
        before = fold.members[:-1]
        other_before = sum(cells[k] for k in before)
        left_before = sum(cells[k] for k in small if k not in before)
        assert other_before < min_n or 0 < left_before < min_n
    complementary = [k for k, why in fold.hidden.items() if why == "complementary"]
    if complementary:
        assert fold.other == "small" and fold.members == tuple(small)
        assert len(complementary) == 1
    small_hidden = {k for k, why in fold.hidden.items() if why == "small"}
    assert small_hidden == {k for k in cells if cells[k] < min_n and k not in fold.members}
