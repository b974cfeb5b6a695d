"""The sentences of findings: localised words, numbers, months; waves that are not months."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from feedback.loop.sentences import ChangeFacts, Period, Subject, TrendFacts, sentence, sentences

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MARCH = Period("2026-03", datetime(2026, 3, 1, tzinfo=UTC), AMSTERDAM)
JUNE = Period("2026-06", datetime(2026, 6, 1, tzinfo=UTC), AMSTERDAM)
TRUST = Subject(
    label={"en": "Trust that we act on your views", "fr": "Confiance", "de": "Vertrauen"},
    metric="mean",
    scale=(1, 5),
)


def change(
    subject: Subject, a: float, b: float, p1: Period = MARCH, p2: Period = JUNE
) -> ChangeFacts:
    return ChangeFacts(subject, "increasing" if b > a else "decreasing", p1, p2, a, b)


def test_the_example_of_the_issue_in_every_language() -> None:
    facts = change(TRUST, 2.8, 3.2)
    got = sentences(facts, ["en", "nl", "de", "fr", "es", "hi"], "en")
    assert got["en"] == (
        "“Trust that we act on your views”: the average answer rose from 2.8 to 3.2 out of 5 "
        "between March 2026 and June 2026."
    )
    assert got["de"] == (
        "„Vertrauen“: die durchschnittliche Antwort stieg zwischen März 2026 und Juni 2026 "
        "von 2,8 auf 3,2 (Skala 1 bis 5)."
    )
    assert got["fr"] == (
        "« Confiance » : la réponse moyenne a augmenté de 2,8 à 3,2 sur une échelle de 1 à 5 "
        "entre mars 2026 et juin 2026."
    )
    assert got["hi"] == (
        "“Trust that we act on your views”: मार्च 2026 और जून 2026 के बीच औसत उत्तर 2.8 से 3.2 "
        "तक बढ़ा (1 से 5 के पैमाने पर)।"
    )
    assert got["nl"].startswith("‘Trust that we act on your views’: het gemiddelde antwoord")


def test_nps_signs_shares_and_falls() -> None:
    nps = Subject(label="Recommend us", metric="nps")
    assert sentence(change(nps, 12, 25), "en", "en") == (
        "“Recommend us”: the Net Promoter Score rose from +12 to +25 between March 2026 and "
        "June 2026."
    )
    assert "from -4 to 0 " in sentence(change(nps, -4.2, 0.3), "en", "en")
    share = Subject(label="Priority", metric="share", option={"en": "Housing", "es": "Vivienda"})
    assert sentence(change(share, 0.25, 0.333), "es", "en") == (
        "«Priority»: la proporción que elige Vivienda subió de 25\u00a0% a 33\u00a0% "
        "entre marzo de 2026 y junio de 2026."
    )
    assert "fell from 33% to 25%" in sentence(change(share, 0.333, 0.25), "en", "en")


def test_a_difference_too_small_for_the_usual_digits_gets_more() -> None:
    assert "from 3.0 to 3.1 out of 5" in sentence(change(TRUST, 3.04, 3.06), "en", "en")
    assert "from 3.04 to 3.05 out of 5" in sentence(change(TRUST, 3.041, 3.049), "en", "en")
    number = Subject(label="Hours", metric="mean")
    assert sentence(change(number, 1234.5, 2000), "en", "en").endswith(
        "rose from 1,234.5 to 2,000.0 between March 2026 and June 2026."
    )


def test_a_mean_on_a_decimal_tie_reads_the_same_however_its_sums_were_added() -> None:
    # 7.05, the mean of 7.0 and 7.1, comes out of a kept read's sums as 7.050000000000001 and of
    # a fresh count's as 7.05: both read "7.0" (Babel rounds half to even), never 7.0 and 7.1.
    number = Subject(label="Hours", metric="mean")
    written = {
        sentence(change(number, 3.0, value), "en", "en")
        for value in (math.nextafter(7.05, 0), 7.05, math.nextafter(7.05, 8))
    }
    assert written == {
        "“Hours”: the average answer rose from 3.0 to 7.0 between March 2026 and June 2026."
    }


def test_weekly_and_daily_waves_are_named_by_their_opening_date() -> None:
    week = Period("2026-W10", datetime(2026, 3, 1, 23, tzinfo=UTC), AMSTERDAM)  # 2 March there
    later = Period("2026-W11", datetime(2026, 3, 8, 23, tzinfo=UTC), AMSTERDAM)
    assert sentence(change(TRUST, 2.8, 3.2, week, later), "en", "en").endswith(
        "between the wave of March 2, 2026 and the wave of March 9, 2026."
    )
    assert sentence(change(TRUST, 2.8, 3.2, week, later), "nl", "en").endswith(
        "tussen de ronde van 2 maart 2026 en de ronde van 9 maart 2026."
    )
    year = Period("2025", datetime(2025, 1, 1, tzinfo=UTC), AMSTERDAM)
    trend = TrendFacts(TRUST, "decreasing", year, 6, 3.4, 2.9)
    assert sentence(trend, "en", "en") == (
        "“Trust that we act on your views”: the average answer has been falling since 2025 "
        "(6 waves), from 3.4 to 2.9 out of 5."
    )
    assert sentence(trend, "de", "en") == (
        "„Vertrauen“: die durchschnittliche Antwort sinkt seit 2025 (6 Wellen), von 3,4 auf 2,9 "
        "(Skala 1 bis 5)."
    )


def test_other_languages_read_english() -> None:
    facts = change(TRUST, 2.8, 3.2)
    assert sentence(facts, "fi", "en") == sentence(facts, "en", "en")
    assert sentence(facts, "pt-BR", "en") == sentence(facts, "en", "en")
    # A regional tag of a known language keeps its own formats.
    assert "entre marzo de 2026 y junio de 2026" in sentence(facts, "es-MX", "en")


def test_numbers_are_written_alike_however_often_and_in_whatever_order() -> None:
    # Numbers, patterns and months are formatted once and remembered (a split trends answer
    # says thousands of sentences): -0.0 equals 0.0 as a key, but Babel writes it "-0%".
    share = Subject(label="Priority", metric="share", option={"en": "Housing"})
    for _ in range(2):
        assert "fell from 0% to -0% " in sentence(change(share, 0.0, -0.0), "en", "en")
        assert "fell from -0% to 0% " in sentence(change(share, -0.0, 0.0), "en", "en")
    nps = Subject(label="Recommend us", metric="nps")
    assert "from 0 to +1 " in sentence(change(nps, 0.4, 1.0), "en", "en")
    assert "from +0.4 to +0.5 " in sentence(change(nps, 0.4, 0.5), "en", "en")
    assert "von 0 auf +1.234." in sentence(change(nps, 0.4, 1234.0), "de", "en")
