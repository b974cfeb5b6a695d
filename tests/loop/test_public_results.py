"""Public results in the domain: the sentences in every language, which waves are public (closed,
of the question as asked now, at most six, suppression without n), and figures that are the
analyst's figures for the same waves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.analysis.service import TrendsQuery, survey_trends
from feedback.clock import fixed_clock
from feedback.config import Settings
from feedback.errors import NotFound
from feedback.loop.models import DecisionFinding, Finding
from feedback.loop.public_results import (
    PUBLIC_WAVES,
    PublicResults,
    has_public_results,
    public_results,
)
from feedback.loop.result_sentences import (
    PHRASES,
    mean_sentence,
    nps_sentence,
    number_text,
    percent,
    phrases_for,
    shares_sentence,
    status_text,
)
from tests.builders.analysis import import_lines, line, session_on, survey_row
from tests.builders.loop import check, closed_after, pulse, scale_lines
from tests.builders.orgs import make_org
from tests.builders.public_results import NOW, make_results_world
from tests.builders.responses import submission, submitted
from tests.builders.surveys import MONTHLY, make_survey, publish_version, pulse_definition

Client = AsyncTestClient[Litestar]
EN = PHRASES["en"]


# --- sentences -------------------------------------------------------------------------------


def test_every_language_has_every_phrase() -> None:
    for language, phrases in PHRASES.items():
        assert phrases.keys() == EN.keys(), language


@pytest.mark.parametrize(
    ("locale", "mean", "nps", "shares"),
    [
        (
            "en",
            "3.4 out of 5 on average (1,312 answers)",
            "NPS +24 (1,312 answers)",
            "Climate 41%, Housing 33% (1,312 answers)",
        ),
        (
            "nl-BE",
            "Gemiddeld 3,4 van de 5 (1.312 antwoorden)",
            "NPS +24 (1.312 antwoorden)",
            "Klimaat 41%, Wonen 33% (1.312 antwoorden)",
        ),
        (
            "de",
            "Im Durchschnitt 3,4 von 5 (1.312 Antworten)",
            "NPS +24 (1.312 Antworten)",
            "Klimaat 41\u00a0%, Wonen 33\u00a0% (1.312 Antworten)",
        ),
        (
            "fr",
            "3,4 sur 5 en moyenne (1\u202f312 réponses)",
            "NPS +24 (1\u202f312 réponses)",
            "Klimaat 41\u202f%, Wonen 33\u202f% (1\u202f312 réponses)",
        ),
        (
            "es",
            "3,4 de 5 de media (1.312 respuestas)",
            "NPS +24 (1.312 respuestas)",
            "Klimaat 41\u00a0%, Wonen 33\u00a0% (1.312 respuestas)",
        ),
        (
            "hi",
            "औसतन 5 में से 3.4 (1,312 उत्तर)",
            "NPS +24 (1,312 उत्तर)",
            "Klimaat 41%, Wonen 33% (1,312 उत्तर)",
        ),
        # No table of its own: English words around the survey's labels.
        (
            "pt-BR",
            "3.4 out of 5 on average (1,312 answers)",
            "NPS +24 (1,312 answers)",
            "Klimaat 41%, Wonen 33% (1,312 answers)",
        ),
    ],
)
def test_sentences_per_language(locale: str, mean: str, nps: str, shares: str) -> None:
    phrases = phrases_for(locale)
    assert mean_sentence(3.4166, 1312, phrases, scale=(1, 5)) == mean
    assert nps_sentence(24.2, 1312, phrases) == nps
    labels = ("Climate", "Housing") if locale in ("en",) else ("Klimaat", "Wonen")
    assert shares_sentence(
        [(labels[0], 0.41), (labels[1], 0.33)], 1312, phrases, multiple=False
    ) == (shares)


def test_numbers_signs_and_rounding() -> None:
    assert number_text(1234567.891, 1, EN) == "1,234,567.9"
    assert number_text(-0.04, 1, EN) == "0.0"  # no "-0.0"
    assert number_text(-2.5, 1, EN) == "-2.5"
    assert [nps_sentence(v, 9, EN).split(" (")[0] for v in (16.5, 0.4, -0.4, -16.5, -5)] == [
        "NPS +17",
        "NPS 0",
        "NPS 0",
        "NPS -17",
        "NPS -5",
    ]
    assert [percent(s) for s in (83 / 200, 0.004, 0.005, 1.0, 0.0)] == [42, 0, 1, 100, 0]
    # One answer is singular; means of 100 or more lose their decimals; scales starting
    # elsewhere than 0 or 1 say no "out of".
    assert mean_sentence(4.0, 1, EN, scale=(1, 5)) == "4.0 out of 5 on average (1 answer)"
    assert mean_sentence(1234.56, 20, EN) == "1,235 on average (20 answers)"
    assert mean_sentence(0.5, 20, EN, scale=(-2, 2)) == "0.5 on average (20 answers)"
    multi = shares_sentence([("Donated", 0.5)], 2, EN, multiple=True)
    assert multi == "Donated 50% (2 answers; more than one choice allowed)"
    assert status_text("in_progress", phrases_for("nl")) == "In uitvoering"
    assert status_text("unheard_of", EN) == "unheard_of"


# --- which waves, which figures ------------------------------------------------------------


async def _public(settings: Settings, now: datetime = NOW, slug: str = "pulse") -> PublicResults:
    async with session_on(settings) as session:
        return await public_results(
            session, org_slug="acme", survey_slug=slug, wanted_locales=[], now=now
        )


async def test_shown_figures_are_the_analysts_figures_for_the_same_waves(
    client: Client, settings: Settings
) -> None:
    await make_results_world(client, settings)
    public = await _public(settings)
    async with session_on(settings) as session:
        survey = await survey_row(session)
        analyst = await survey_trends(session, survey, TrendsQuery(), now=NOW)
    for question in public.questions:
        trends = next(q for q in analyst.questions if q.meta.key == question.key)
        by_wave = {w.wave.number: w.estimate for w in trends.total.waves}
        assert len(question.waves) <= PUBLIC_WAVES
        for wave in question.waves:
            estimate = by_wave[wave.number]
            assert wave.suppressed == estimate.suppressed
            if wave.suppressed:
                assert (wave.n, wave.estimate, wave.options) == (None, None, ())
                continue
            assert wave.n == estimate.n
            if estimate.options is None:
                assert estimate.estimate is not None and wave.estimate is not None
                assert abs(wave.estimate - estimate.estimate) < 0.051
            else:
                shares = {o.key: o.share for o in wave.options}
                assert shares == {
                    k: round(s.estimate, 3)
                    for k, s in estimate.options.items()
                    if s.estimate is not None
                }


async def test_only_waves_closed_by_now(client: Client, settings: Settings) -> None:
    await make_results_world(client, settings)
    # On 15 June, wave 6 (June) is still open: waves 1–5 have closed.
    june = await _public(settings, datetime(2025, 6, 15, tzinfo=UTC))
    trust = next(q for q in june.questions if q.key == "trust")
    assert [w.number for w in trust.waves] == [1, 2, 3, 4, 5]
    # Nothing but trust was answered by then; the others have nothing to show yet.
    assert [q.summary for q in june.questions[1:]] == ["No results to show yet."] * 4
    assert all(q.waves == () for q in june.questions[1:])


async def test_only_the_question_as_asked_now_after_a_break(
    client: Client, settings: Settings
) -> None:
    """trust's scale grows to 1..7 in version 2: waves answered on the 1..5 scale are another
    question's figures and stay out."""
    org = await make_org(client)
    await make_survey(
        client, org, schedule=MONTHLY, settings={"public_questions": ["trust"], "min_n": 2}
    )
    v2 = pulse_definition()
    v2["questions"][0]["scale"] = {"min": 1, "max": 7}
    await publish_version(client, org, "pulse", v2, confirm_breaks=True)
    lines = [line(w, {"trust": 2}, version=1) for w in (1, 2) for _ in range(3)]
    lines += [line(w, {"trust": 7}, version=2) for w in (3, 4) for _ in range(2)]
    lines += [line(4, {"trust": 1}, version=1)]  # an old form sent late
    await import_lines(client, org, lines)
    trust = (await _public(settings)).questions[0]
    # Waves 5–7 closed without answers: like any wave below min_n, they show no figure.
    assert [(w.number, w.sentence) for w in trust.waves] == [
        (3, "7.0 out of 7 on average (2 answers)"),
        (4, "7.0 out of 7 on average (2 answers)"),
        (5, "Not enough answers to show"),
        (6, "Not enough answers to show"),
        (7, "Not enough answers to show"),
    ]
    assert trust.range == (1.0, 7.0)


async def test_an_always_open_survey_shows_its_wave_once_archived(
    client: Client, settings: Settings
) -> None:
    """Readings of a running tally, compared, would tell each new answer: an always-open
    survey's one wave is public only when archiving closes it."""
    org = await make_org(client)
    await make_survey(client, org, settings={"public_questions": ["trust"], "min_n": 1})
    await submitted(client, org, submission(answers={"trust": 4}))
    running = await _public(settings, datetime.now(UTC))
    assert running.questions[0].waves == ()
    archived = await client.post("/api/v1/surveys/pulse/archive", headers=org.auth("campaigner"))
    assert archived.status_code == 200, archived.text
    closed = await _public(settings, datetime.now(UTC))
    assert [w.sentence for w in closed.questions[0].waves] == ["4.0 out of 5 on average (1 answer)"]


async def test_has_public_results(client: Client, settings: Settings) -> None:
    org = await make_org(client)
    # Monthly from January 2025: a decision may not predate a survey's first wave.
    await make_survey(client, org, slug="none", schedule=MONTHLY)
    await make_survey(client, org, slug="some", settings={"public_questions": ["nps"]})
    await make_survey(
        client, org, slug="unpublished", settings={"public_questions": ["nps"]}, publish=False
    )
    async with session_on(settings) as session:
        got = {
            slug: await has_public_results(session, await survey_row(session, slug))
            for slug in ("none", "some", "unpublished")
        }
    assert got == {"none": False, "some": True, "unpublished": False}
    with pytest.raises(NotFound):
        await _public(settings, slug="unpublished")
    made = await client.post(
        "/api/v1/surveys/none/decisions",
        json={"title": "Go", "decided_at": "2025-01-01T00:00:00Z", "public": True},
        headers=org.auth("campaigner"),
    )
    assert made.status_code == 201
    async with session_on(settings) as session:
        assert await has_public_results(session, await survey_row(session, "none"))


async def test_a_finding_about_an_older_wave_is_checked_against_that_wave(
    client: Client, settings: Settings
) -> None:
    """Only the shown waves' answers are read, and those of the waves findings quote: a finding
    about wave 1 (before the six shown) appears while wave 1 is shown, and not once it is not."""
    world = await make_results_world(client, settings)
    async with session_on(settings) as session:
        survey = await survey_row(session)
        old = Finding(
            org_id=survey.org_id,
            survey_id=survey.id,
            question_key="trust",
            kind="trend",
            wave_number=1,
            direction="increasing",
            figures={},
            sentences={"en": "Trust began at 4.2"},
            opened_at=datetime(2025, 2, 2, tzinfo=UTC),
        )
        session.add(old)
        await session.flush()
        session.add(
            DecisionFinding(decision_id=world.done, finding_id=old.id, org_id=survey.org_id)
        )
        await session.commit()

    def sentences(results: PublicResults) -> list[str]:
        done = next(d for d in results.decisions if d.id == world.done)
        return [f.sentence for f in done.findings]

    results = await _public(settings)
    assert [w.number for w in results.questions[0].waves] == [2, 3, 4, 5, 6, 7]
    assert sentences(results) == ["Trust began at 4.2", "Trust fell from 3.8 to 3.2"]
    # With min_n 7, wave 1 (six answers) is suppressed: the finding quoting it goes.
    patched = await client.patch(
        "/api/v1/surveys/pulse",
        json={"settings": {"public_questions": ["trust"], "min_n": 7, "locales": ["nl"]}},
        headers=world.org.auth("campaigner"),
    )
    assert patched.status_code == 200, patched.text
    assert sentences(await _public(settings)) == []


@pytest.mark.parametrize("clock", [fixed_clock(NOW)])
async def test_a_trend_finding_goes_once_its_first_wave_is_suppressed(
    client: Client, settings: Settings
) -> None:
    """A trend's sentence quotes its first wave's estimate ("from 2.0 to 4.0"), a wave before
    the six shown: the sentence is public while that wave is shown, and not once it is not."""
    org = await make_org(client)
    await pulse(client, org, public_questions=["trust"])
    lines = scale_lines(1, "trust", {2: 6})  # six answers, mean 2.0
    for wave, counts in ((2, {2: 10, 3: 10}), (3, {3: 20}), (4, {3: 10, 4: 10}), (5, {4: 20})):
        lines += scale_lines(wave, "trust", counts)
    await import_lines(client, org, lines)
    trend = next(f for f in await check(settings, closed_after(5)) if f.kind == "trend")
    assert (trend.figures["first_wave"], trend.wave_number) == (1, 5)
    assert "from 2.0 to 4.0" in trend.sentences["en"], trend.sentences["en"]
    made = await client.post(
        "/api/v1/surveys/pulse/decisions",
        json={
            "title": "Answer every email",
            "decided_at": "2025-06-03T00:00:00Z",
            "finding_ids": [str(trend.id)],
            "public": True,
        },
        headers=org.auth("campaigner"),
    )
    assert made.status_code == 201, made.text
    url = f"/api/v1/public/{org.slug}/pulse/results"
    before = (await client.get(url)).json()
    assert [f["sentence"] for f in before["decisions"][0]["findings"]] == [trend.sentences["en"]]

    # With min_n 7, wave 1 (six answers) is suppressed, and so is every sentence quoting it.
    patched = await client.patch(
        "/api/v1/surveys/pulse",
        json={"settings": {"public_questions": ["trust"], "min_n": 7, "locales": ["en"]}},
        headers=org.auth("campaigner"),
    )
    assert patched.status_code == 200, patched.text
    after = (await client.get(url)).json()
    assert after["decisions"][0]["findings"] == []
    page = await client.get(f"/r/{org.slug}/pulse")
    assert page.status_code == 200
    assert "Answer every email" in page.text and "from 2.0 to 4.0" not in page.text
