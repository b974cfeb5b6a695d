"""Distinctive terms of text answers: the tokeniser in five languages, the log-odds ratios with
an informative Dirichlet prior against hand-computed values (Monroe, Colaresi and Quinn 2008),
and the symmetry the definition implies (swapping the waves negates every z)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedback.analysis.distinct_terms import distinct_terms, log_odds, term_counts
from feedback.analysis.stopwords import LANGUAGES, stop_words
from feedback.analysis.text_terms import terms_of


def test_words_are_casefolded_letter_runs_of_three_or_more_without_stop_words() -> None:
    stop = stop_words(["en"])
    # "again" is a stop word, "42" no letters, "km" and "to" too short; "late" ends at the comma.
    got = terms_of("The BUSES were late, again!! 42 km to go", stop)
    assert got == {"buses", "late"}
    assert terms_of("BUSES late", stop) == {"buses", "late", "buses late"}


def test_pairs_are_adjacent_words_with_no_stop_word_or_punctuation_between() -> None:
    stop = stop_words(["en"])
    assert terms_of("Slow buses; friendly staff and long-term plans", stop) == {
        "slow",
        "buses",
        "slow buses",
        "friendly",
        "staff",
        "friendly staff",
        "long",
        "term",
        "plans",
        "long term",
        "term plans",
    }
    # "weren't" stops as a whole: its letters "weren" are on the list through the same tokeniser.
    assert terms_of("staff weren't friendly", stop) == {"staff", "friendly"}


@pytest.mark.parametrize(
    ("locale", "text", "expected"),
    [
        ("es", "Los autobuses llegan tarde", {"autobuses", "llegan", "tarde"}),
        ("fr", "L'école est fermée depuis lundi", {"école", "fermée", "lundi"}),
        ("de", "Die Straße ist für alle gesperrt", {"strasse", "gesperrt"}),
        ("pt-BR", "Não tenho tempo para as reuniões", {"tempo", "reuniões"}),
        ("en", "Meetings were BETTER", {"meetings", "better"}),
    ],
)
def test_each_language_drops_its_own_stop_words(locale: str, text: str, expected: set[str]) -> None:
    words = {t for t in terms_of(text, stop_words([locale])) if " " not in t}
    assert words == expected


def test_accents_typed_as_combining_marks_are_the_same_word() -> None:
    composed = terms_of("café", frozenset())
    decomposed = terms_of("cafe\u0301", frozenset())
    assert composed == decomposed == {"café"}


def test_every_shipped_language_has_a_stop_list() -> None:
    for language in LANGUAGES:
        assert len(stop_words([language])) > 50
    assert stop_words(["nl"]) == frozenset()


def test_log_odds_match_the_hand_computed_values() -> None:
    # alpha0 = 10 and a prior of 10 uses each: alpha = 5 for both terms. For "bus":
    # delta = log(13 / (10 + 10 - 8 - 5)) - log(7 / (10 + 10 - 2 - 5)) = 2 log(13/7) = 1.238078,
    # sigma^2 = 1/13 + 1/7 = 0.219780, z = 1.238078 / 0.468807 = 2.640912.
    scores = log_odds(
        {"bus": 8, "late": 2}, {"bus": 2, "late": 8}, {"bus": 10, "late": 10}, alpha0=10
    )
    bus, late = scores["bus"], scores["late"]
    assert bus.prior == 5.0 and bus.count == 8 and bus.previous_count == 2
    assert bus.delta == pytest.approx(1.238078, abs=1e-6)
    assert bus.z == pytest.approx(2.640912, abs=1e-6)
    assert late.z == pytest.approx(-2.640912, abs=1e-6)
    # An uneven prior (15 and 5 of 20): alpha = 7.5 and 2.5. For "late":
    # delta = log(4.5 / (10 + 10 - 2 - 2.5)) - log(10.5 / (10 + 10 - 8 - 2.5))
    #       = log(4.5/15.5) - log(10.5/9.5) = -1.236763 - 0.100083 = -1.336846,
    # sigma = sqrt(1/4.5 + 1/10.5) = 0.563436, z = -2.372667.
    uneven = log_odds(
        {"bus": 8, "late": 2}, {"bus": 2, "late": 8}, {"bus": 15, "late": 5}, alpha0=10
    )
    assert uneven["late"].prior == 2.5
    assert uneven["late"].delta == pytest.approx(-1.336846, abs=1e-6)
    assert uneven["late"].z == pytest.approx(-2.372667, abs=1e-6)


def test_the_report_keeps_significant_common_terms_and_lists_new_ones_apart() -> None:
    current = {"bus": 16, "late": 2, "rare": 3, "assembly": 6, "one": 1}
    previous = {"bus": 2, "late": 16, "rare": 1}
    prior = {"bus": 10, "late": 10, "rare": 1}
    got = distinct_terms(current, previous, prior, min_n=5, alpha0=10)
    assert [s.term for s in got.rising] == ["bus"]
    assert [s.term for s in got.falling] == ["late"]
    # "rare" is used by 4 answers of the two waves, fewer than min_n: never shown.
    assert [(t.term, t.count) for t in got.new] == [("assembly", 6)]
    assert (got.n_terms, got.previous_n_terms, got.prior_n_terms) == (28, 19, 21)


def test_at_most_limit_terms_each_way_strongest_first() -> None:
    current = {f"w{i:02d}": 50 + i for i in range(20)} | {f"l{i:02d}": 1 for i in range(20)}
    previous = {f"w{i:02d}": 1 for i in range(20)} | {f"l{i:02d}": 50 + i for i in range(20)}
    prior = dict.fromkeys(current, 10)
    got = distinct_terms(current, previous, prior, min_n=5, limit=15)
    assert len(got.rising) == len(got.falling) == 15
    assert [s.z for s in got.rising] == sorted((s.z for s in got.rising), reverse=True)
    assert got.rising[0].term == "w19" and got.falling[0].term == "l19"


def test_no_prior_no_scores() -> None:
    got = distinct_terms({"bus": 9}, {}, {}, min_n=5)
    assert got.rising == got.falling == () and [t.term for t in got.new] == ["bus"]


def test_term_counts_count_answers_not_repetitions() -> None:
    answers = [terms_of("bus bus bus", frozenset()), terms_of("the bus", frozenset())]
    assert term_counts(answers) == {"bus": 2, "bus bus": 1, "the": 1, "the bus": 1}


TERMS = st.sampled_from(["bus", "late", "staff", "kind", "meeting", "rain", "cold"])
COUNTS = st.dictionaries(TERMS, st.integers(0, 60))


@given(current=COUNTS, previous=COUNTS, extra=COUNTS)
def test_swapping_the_waves_negates_every_score(
    current: dict[str, int], previous: dict[str, int], extra: dict[str, int]
) -> None:
    # Any prior that knows every term of both waves (as every earlier wave's counts would).
    prior = {
        t: current.get(t, 0) + previous.get(t, 0) + extra.get(t, 0)
        for t in current | previous | extra
    }
    forward = log_odds(current, previous, prior)
    backward = log_odds(previous, current, prior)
    assert forward.keys() == backward.keys()
    for term, score in forward.items():
        assert backward[term].delta == pytest.approx(-score.delta, abs=1e-12)
        assert backward[term].z == pytest.approx(-score.z, abs=1e-12)
        assert math.isfinite(score.z)
    there = distinct_terms(current, previous, prior, min_n=5)
    back = distinct_terms(previous, current, prior, min_n=5)
    assert [s.term for s in there.rising] == [s.term for s in back.falling]
    assert [s.term for s in there.falling] == [s.term for s in back.rising]
