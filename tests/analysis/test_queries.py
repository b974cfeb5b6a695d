"""The analysis SQL: one aggregate turns current answer rows into sufficient statistics, on SQLite
and PostgreSQL alike, with data stored through the real submission and import routes."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.analysis import queries
from feedback.analysis.catalogue import QuestionMeta, catalogue
from feedback.analysis.queries import Cell, CellStats, QuestionQuery
from feedback.analysis.sufficient import Moments, OptionCounts, OptionPairs, PairTable, ScaleCounts
from feedback.config import Settings
from feedback.responses.models import Answer
from feedback.surveys.definition import Definition
from feedback.surveys.models import Survey
from feedback.surveys.service import series_breaks
from tests.builders.analysis import import_lines, line, session_on, survey_row
from tests.builders.orgs import Org, make_org
from tests.builders.responses import make_respondent, pulse_answers, responses_url, submitted
from tests.builders.surveys import MONTHLY, make_survey, publish_version, pulse_definition

Client = AsyncTestClient[Litestar]
OPTIONS = ("petition", "march", "donate")
AMOUNT = {
    "questions": [{"key": "amount", "type": "number", "label": "Amount", "min": 0, "max": 1e15}]
}


async def questions_of(
    session: AsyncSession, survey: Survey, definitions: Sequence[dict[str, Any]]
) -> dict[str, QuestionMeta]:
    parsed = [(i + 1, Definition.model_validate(d)) for i, d in enumerate(definitions)]
    return catalogue(parsed, await series_breaks(session, survey.id))


async def stats_of(
    settings: Settings,
    definitions: Sequence[dict[str, Any]] | None = None,
    *,
    keys: Sequence[str] | None = None,
    segment: str | None = None,
) -> queries.TrendStats:
    async with session_on(settings) as session:
        survey = await survey_row(session)
        metas = await questions_of(session, survey, definitions or [pulse_definition()])
        return await queries.trend_stats(
            session,
            [m.query for k, m in metas.items() if keys is None or k in keys],
            survey_id=survey.id,
            org_id=survey.org_id,
            segment=segment,
        )


def scale(low: int, high: int, answers: Sequence[int]) -> ScaleCounts:
    return ScaleCounts(
        np.arange(low, high + 1), np.bincount(np.array(answers) - low, minlength=high - low + 1)
    )


def assert_same(got: CellStats, expected: ScaleCounts | OptionCounts | Moments | int) -> None:
    stats = got.stats
    if isinstance(expected, ScaleCounts):
        assert isinstance(stats, ScaleCounts)
        assert stats.values.tolist() == expected.values.tolist()
        assert stats.counts.tolist() == expected.counts.tolist()
    elif isinstance(expected, OptionCounts):
        assert isinstance(stats, OptionCounts)
        assert (stats.options, stats.counts.tolist(), stats.n) == (
            expected.options,
            expected.counts.tolist(),
            expected.n,
        )
    elif isinstance(expected, Moments):
        # Summed around whatever answer the count chose (`queries._references`): the same sums
        # once moved to that shift, exactly (the tests' numbers are halves, the sums exact).
        assert isinstance(stats, Moments)
        assert stats.n == expected.n
        step = expected.shift - stats.shift
        total = expected.total + expected.n * step
        total_sq = expected.total_sq + 2 * step * expected.total + expected.n * step * step
        assert stats.total == total and stats.total_sq == total_sq
    else:
        assert stats == expected


def waves_of_answers(seed: int, waves: Sequence[int], size: int) -> dict[int, list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    out: dict[int, list[dict[str, Any]]] = {}
    for wave in waves:
        answers = []
        for _ in range(size + wave):
            picked = [o for o in OPTIONS if rng.random() < 0.4]
            answers.append(
                {
                    "trust": int(rng.integers(1, 6)),
                    "nps": int(rng.integers(0, 11)) if rng.random() < 0.9 else None,
                    "priority": str(rng.choice(["climate", "housing"])),
                    "actions": picked,
                    "hours": float(rng.integers(0, 40)) / 2,
                    "comment": "ok" if rng.random() < 0.5 else None,
                }
            )
        out[wave] = answers
    return out


async def monthly_survey(client: Client, org: Org) -> None:
    await make_survey(client, org, schedule=MONTHLY)


async def test_counts_per_wave_equal_hand_built_counts_for_every_type(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await monthly_survey(client, org)
    data = waves_of_answers(1, [1, 2, 4], 12)
    await import_lines(
        client,
        org,
        [
            line(w, {k: v for k, v in a.items() if v is not None})
            for w, al in data.items()
            for a in al
        ],
    )
    got = (await stats_of(settings)).totals
    for wave, answers in data.items():
        cell = Cell(wave, 0)
        assert_same(got["trust"][cell], scale(1, 5, [a["trust"] for a in answers]))
        assert_same(
            got["nps"][cell], scale(0, 10, [a["nps"] for a in answers if a["nps"] is not None])
        )
        chosen = Counter(a["priority"] for a in answers)
        assert_same(
            got["priority"][cell],
            OptionCounts(
                ("climate", "housing", "health"),
                np.array([chosen["climate"], chosen["housing"], 0]),
                len(answers),
            ),
        )
        # n counts every respondent who answered, those who ticked nothing included.
        ticked = Counter(o for a in answers for o in a["actions"])
        assert_same(
            got["actions"][cell],
            OptionCounts(OPTIONS, np.array([ticked[o] for o in OPTIONS]), len(answers)),
        )
        hours = np.array([a["hours"] for a in answers])
        # Half-unit values make the sums exact around any answer.
        assert_same(
            got["hours"][cell],
            Moments(hours.size, float(hours.sum()), float((hours * hours).sum()), 0.0),
        )
        assert_same(got["comment"][cell], sum(1 for a in answers if a["comment"]))
        assert got["trust"][cell].version is None  # no break: versions are not read
    assert {c.wave for c in got["trust"]} == {1, 2, 4}


async def test_only_current_revisions_count(client: Client, settings: Settings) -> None:
    org = await make_org(client)
    await make_survey(client, org)
    created = await submitted(client, org)
    for trust in (2, 5):
        await submitted(
            client,
            org,
            {"response_id": str(uuid.uuid4()), "version": 1, "answers": pulse_answers(trust=trust)},
        )
    revised = await client.put(
        f"{responses_url(org)}/{created['response_id']}",
        json={"version": 1, "answers": pulse_answers(trust=1, actions=["donate"])},
        headers={"X-Edit-Token": created["edit_token"], "If-Match": '"1"'},
    )
    assert revised.status_code == 200, revised.text
    got = (await stats_of(settings)).totals
    assert_same(got["trust"][Cell(1, 0)], scale(1, 5, [1, 2, 5]))
    assert_same(
        got["actions"][Cell(1, 0)],
        OptionCounts(OPTIONS, np.array([2, 2, 1]), 3),
    )


async def test_segments_split_every_cell_and_the_totals_are_their_sums(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await monthly_survey(client, org)
    for ref, region in (("a", "north"), ("b", "north"), ("c", "south"), ("d", None)):
        attributes = {} if region is None else {"region": region}
        await make_respondent(client, org, external_ref=ref, **attributes)
    answers = {"a": 5, "b": 4, "c": 2, "d": 3}
    lines = [line(1, {"trust": t, "hours": 2.0}, respondent=r) for r, t in answers.items()]
    lines += [line(1, {"trust": 1, "hours": 4.0})]  # anonymous: no respondent at all
    await import_lines(client, org, lines)
    result = await stats_of(settings, keys=["trust", "hours"], segment="region")
    assert result.segments is not None
    segments = result.segments["trust"]
    assert_same(segments[Cell(1, 0, "north")], scale(1, 5, [5, 4]))
    assert_same(segments[Cell(1, 0, "south")], scale(1, 5, [2]))
    # Without the attribute, or without a respondent: the null segment.
    assert_same(segments[Cell(1, 0, None)], scale(1, 5, [3, 1]))
    assert_same(result.totals["trust"][Cell(1, 0)], scale(1, 5, [5, 4, 2, 3, 1]))
    hours = result.segments["hours"]
    assert_same(hours[Cell(1, 0, "north")], Moments(2, 4.0, 8.0))
    assert_same(hours[Cell(1, 0, None)], Moments(2, 6.0, 20.0))
    assert_same(result.totals["hours"][Cell(1, 0)], Moments(5, 12.0, 32.0))


def breaking_v2() -> dict[str, Any]:
    """Version 2 of the pulse survey: trust's scale grows to 1..7 and hours becomes a rating,
    which breaks both series."""
    v2 = pulse_definition()
    v2["questions"][0]["scale"] = {"min": 1, "max": 7}
    v2["questions"][4] = {
        "key": "hours",
        "type": "rating",
        "label": "How much time did you give?",
        "scale": {"min": 1, "max": 5},
    }
    return v2


async def test_a_break_splits_cells_by_the_version_answers_were_given_under(
    client: Client, settings: Settings
) -> None:
    """trust's scale grows to 1..7 and hours becomes a rating in version 2: both break their
    series, and wave 3 holds answers under both versions."""
    org = await make_org(client)
    await monthly_survey(client, org)
    v2 = breaking_v2()
    published = await publish_version(client, org, "pulse", v2, confirm_breaks=True)
    assert {c["key"] for c in published["changes"] if c["breaks_series"]} == {"trust", "hours"}
    await import_lines(
        client,
        org,
        [
            line(2, {"trust": 2, "hours": 1.5}, version=1),
            line(3, {"trust": 5, "hours": 3.0}, version=1),
            line(3, {"trust": 7, "hours": 4}, version=2),
            line(3, {"trust": 6, "hours": 2}, version=2),
            line(4, {"trust": 1, "hours": 5}, version=2),
        ],
    )
    got = (await stats_of(settings, [pulse_definition(), v2], keys=["trust", "hours"])).totals
    trust = got["trust"]
    assert set(trust) == {Cell(2, 0), Cell(3, 0), Cell(3, 1), Cell(4, 1)}
    assert_same(trust[Cell(3, 0)], scale(1, 5, [5]))
    assert_same(trust[Cell(3, 1)], scale(1, 7, [7, 6]))
    assert (trust[Cell(3, 0)].version, trust[Cell(3, 1)].version) == (1, 2)
    hours = got["hours"]
    assert_same(hours[Cell(3, 0)], Moments(1, 3.0, 9.0))
    assert_same(hours[Cell(3, 1)], scale(1, 5, [4, 2]))
    assert_same(hours[Cell(4, 1)], scale(1, 5, [5]))


async def test_numbers_come_back_as_one_row_per_wave_whatever_their_values(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await monthly_survey(client, org)
    await import_lines(
        client, org, [line(1 + i % 2, {"trust": 3, "hours": i / 4}) for i in range(60)]
    )
    async with session_on(settings) as session:
        survey = await survey_row(session)
        metas = await questions_of(session, survey, [pulse_definition()])
        stmt = queries.trends_statement(
            [metas["hours"].query, metas["trust"].query], survey_id=survey.id, org_id=survey.org_id
        )
        rows = (await session.execute(stmt)).all()
    assert sorted((r.key, r.wave) for r in rows if r.key == "hours") == [("hours", 1), ("hours", 2)]
    assert len([r for r in rows if r.key == "trust"]) == 2  # one value per wave


async def test_the_trends_statement_reads_only_the_analysis_index_in_its_order(
    client: Client, settings: Settings
) -> None:
    """The bare GROUP BY's cost: an index scan (covering on SQLite; index-only on PostgreSQL)
    that aggregates as it scans, with no sort and no visit to the table."""
    org = await make_org(client)
    await monthly_survey(client, org)
    await import_lines(client, org, [line(1, {"trust": 3, "hours": 1.0})])
    async with session_on(settings) as session:
        survey = await survey_row(session)
        metas = await questions_of(session, survey, [pulse_definition()])
        stmt = queries.trends_statement(
            [m.query for m in metas.values()], survey_id=survey.id, org_id=survey.org_id
        )
        dialect = session.get_bind().dialect
        sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        if dialect.name == "sqlite":
            plan = await session.execute(sa.text("EXPLAIN QUERY PLAN " + sql))
            details = [row[-1] for row in plan]
            scans = [d for d in details if d.startswith(("SEARCH", "SCAN"))]
            assert scans and all("COVERING INDEX ix_answer_analysis" in d for d in scans), details
            assert not any("TEMP B-TREE" in d for d in details), details
        else:
            # A table this small would be read sequentially; forbid that to see the index plan.
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_hashagg"):
                await session.execute(sa.text(f"SET LOCAL {setting} = off"))
            plan = await session.execute(sa.text("EXPLAIN " + sql))
            text = "\n".join(row[0] for row in plan)
            assert "Index Only Scan using ix_answer_analysis" in text, text
            assert "Sort" not in text and "Seq Scan" not in text, text


async def test_numbers_are_summed_around_an_answer_and_far_waves_around_their_mean(
    client: Client, settings: Settings
) -> None:
    """Each count sums a number question around its first answer in the index (the smallest
    of the first wave counted); a wave whose level lies orders of magnitude away from it is
    counted again around its own mean, its rows replacing the first ones. Either way the
    moments are those of the answers (here exact: every difference is a multiple of 1/8)."""
    org = await make_org(client)
    await make_survey(client, org, schedule=MONTHLY, definition=AMOUNT)
    answers = {1: [1000.5, 1000.25, 1001.0], 2: [1e12 + 0.5, 1e12 + 0.25, 1e12 + 0.125]}
    await import_lines(
        client, org, [line(w, {"amount": a}) for w, xs in answers.items() for a in xs]
    )
    got = (await stats_of(settings, [AMOUNT])).totals["amount"]
    first, far = got[Cell(1, 0)].stats, got[Cell(2, 0)].stats
    assert isinstance(first, Moments) and isinstance(far, Moments)
    assert first.shift == 1000.25  # the first answer in the index: wave 1's smallest
    # Wave 2's mean as the first sums had it (to their rounding: float sums near 3e12).
    assert far.shift == pytest.approx(1e12 + 0.875 / 3, abs=1e-3)
    for stats, xs in ((first, answers[1]), (far, answers[2])):
        ys = np.subtract(xs, xs[0])
        assert stats.mean == pytest.approx(xs[0] + float(np.mean(ys)), rel=1e-15)
        assert stats.variance == pytest.approx(float(np.var(ys, ddof=1)), rel=1e-12)
    # Counting wave 2 alone (as a rollup's missing wave is) sums it around its own answer.
    async with session_on(settings) as session:
        survey = await survey_row(session)
        metas = await questions_of(session, survey, [AMOUNT])
        alone = await queries.trend_stats(
            session,
            [metas["amount"].query],
            survey_id=survey.id,
            org_id=survey.org_id,
            waves=frozenset({2}),
        )
    again = alone.totals["amount"][Cell(2, 0)].stats
    assert isinstance(again, Moments) and again.shift == 1e12 + 0.125


async def test_the_reference_answer_is_one_probe_of_the_analysis_index(
    client: Client, settings: Settings
) -> None:
    """What numbers are summed around costs one index probe per question (`LIMIT 1` in index
    order: no scan, no sort, no visit to the table), and the trends statement around it, or
    around a value per wave, still reads the index alone."""
    org = await make_org(client)
    await monthly_survey(client, org)
    await import_lines(client, org, [line(1, {"trust": 3, "hours": 1.0})])
    async with session_on(settings) as session:
        survey = await survey_row(session)
        metas = await questions_of(session, survey, [pulse_definition()])
        hours = metas["hours"].query
        dialect = session.get_bind().dialect
        if dialect.name == "postgresql":
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_hashagg"):
                await session.execute(sa.text(f"SET LOCAL {setting} = off"))
        probe = (
            sa.select(Answer.value_num)
            .where(
                *queries._current(survey.id, None),
                Answer.question_key == "hours",
                Answer.value_num.is_not(None),
            )
            .order_by(Answer.wave_number, Answer.value_num)
            .limit(1)
        )
        shifted = [
            queries.trends_statement(
                [hours], survey_id=survey.id, org_id=survey.org_id, shifts={"hours": shift}
            )
            for shift in (queries.Shift(1.0), queries.Shift(1.0, {1: 2.0, 3: 4.0}))
        ]
        for stmt in (probe, *shifted):
            sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            if dialect.name == "sqlite":
                plan = await session.execute(sa.text("EXPLAIN QUERY PLAN " + sql))
                details = [row[-1] for row in plan]
                scans = [d for d in details if d.startswith(("SEARCH", "SCAN"))]
                assert scans and all("COVERING INDEX ix_answer_analysis" in d for d in scans)
                assert not any("TEMP B-TREE" in d for d in details), details
            else:
                plan = await session.execute(sa.text("EXPLAIN " + sql))
                text = "\n".join(row[0] for row in plan)
                assert "Index Only Scan using ix_answer_analysis" in text, text
                assert "Sort" not in text and "Seq Scan" not in text, text
        found = await queries._references(
            session, [hours, metas["trust"].query], survey_id=survey.id, waves=None, channels=None
        )
    assert found == {"hours": queries.Shift(1.0)}


async def test_counting_by_version_reads_only_the_analysis_index_in_its_order(
    client: Client, settings: Settings
) -> None:
    """A question whose series breaks is counted by version: its branches group by `version`
    and one run filters on a range of versions (`_in_run`). The analysis index
    holds `version`, so both read it alone (covering on SQLite; index-only on PostgreSQL), never
    the table. It holds it last, after the columns every question groups by, so these sort
    their groups where the bare query does not (see the test above)."""
    org = await make_org(client)
    await monthly_survey(client, org)
    v2 = breaking_v2()
    await publish_version(client, org, "pulse", v2, confirm_breaks=True)
    await import_lines(
        client,
        org,
        [
            line(2, {"trust": 2, "hours": 1.5}, version=1),
            line(3, {"trust": 5, "hours": 3.0}, version=1),
            line(3, {"trust": 7, "hours": 4}, version=2),
            line(3, {"trust": 6, "hours": 2}, version=2),
        ],
    )
    async with session_on(settings) as session:
        survey = await survey_row(session)
        metas = await questions_of(session, survey, [pulse_definition(), v2])
        trust = metas["trust"].query
        assert trust.breaks == (2,) and metas["hours"].query.breaks == (2,)
        by_version = queries.trends_statement(
            [metas["trust"].query, metas["hours"].query], survey_id=survey.id, org_id=survey.org_id
        )
        grouped = (
            Answer.question_key,
            Answer.wave_number,
            Answer.version,
            Answer.value_num,
            Answer.option_key,
        )
        in_series = (
            sa.select(*grouped, sa.func.count())
            .where(Answer.survey_id == survey.id, Answer.is_current)
            .where(queries._in_run(trust, 1))
            .group_by(*grouped)
        )
        dialect = session.get_bind().dialect
        if dialect.name == "postgresql":
            # A table this small would be read sequentially; forbid that to see the index plan.
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_hashagg"):
                await session.execute(sa.text(f"SET LOCAL {setting} = off"))
        for stmt in (by_version, in_series):
            sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            assert "version" in sql, sql
            if dialect.name == "sqlite":
                plan = await session.execute(sa.text("EXPLAIN QUERY PLAN " + sql))
                details = [row[-1] for row in plan]
                scans = [d for d in details if d.startswith(("SEARCH", "SCAN"))]
                assert scans, details
                assert all("COVERING INDEX ix_answer_analysis" in d for d in scans), details
            else:
                plan = await session.execute(sa.text("EXPLAIN " + sql))
                text = "\n".join(row[0] for row in plan)
                assert "Index Only Scan using ix_answer_analysis" in text, text
                # No other way to the rows: no table scan, no index scan that visits the table.
                assert "Seq Scan" not in text and "Index Scan using" not in text, text
        rows = (await session.execute(in_series)).all()
    assert sorted((r.wave_number, r.version, r.value_num, r[-1]) for r in rows) == [
        (3, 2, 6.0, 1),
        (3, 2, 7.0, 1),
    ]


async def test_a_segment_is_scoped_to_the_organisation_of_the_survey(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await monthly_survey(client, org)
    await make_respondent(client, org, external_ref="a", region="north")
    await import_lines(client, org, [line(1, {"trust": 4}, respondent="a")])
    async with session_on(settings) as session:
        survey = await survey_row(session)
        metas = await questions_of(session, survey, [pulse_definition()])
        # Asked as another organisation would: the join finds no respondent of theirs.
        result = await queries.trend_stats(
            session,
            [metas["trust"].query],
            survey_id=survey.id,
            org_id=uuid.uuid4(),
            segment="region",
        )
    assert result.segments is not None
    assert set(result.segments["trust"]) == {Cell(1, 0, None)}


# --- panels ------------------------------------------------------------------------------------


async def panel_of(
    settings: Settings,
    key: str,
    definitions: Sequence[dict[str, Any]] | None = None,
    from_wave: int = 1,
    to_wave: int = 2,
) -> queries.PanelStats:
    async with session_on(settings) as session:
        survey = await survey_row(session)
        metas = await questions_of(session, survey, definitions or [pulse_definition()])
        return await queries.panel_stats(
            session, metas[key].query, survey_id=survey.id, from_wave=from_wave, to_wave=to_wave
        )


async def test_panels_pair_each_respondents_answers_in_the_two_waves(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await monthly_survey(client, org)
    before = {
        "r1": (2, ["petition"], "climate", 1.0),
        "r2": (3, [], "housing", 2.0),
        "r3": (4, ["march", "donate"], "climate", 0.5),
        "r4": (4, ["march"], "housing", 3.0),
    }
    after = {
        "r1": (4, ["petition", "march"], "housing", 2.0),
        "r2": (3, ["donate"], "housing", 1.0),
        "r3": (5, ["donate"], "climate", 0.5),
        "r4": (2, [], "climate", 3.5),
    }
    lines = []
    for wave, answers in ((1, before), (2, after)):
        for ref, (trust, actions, priority, hours) in answers.items():
            lines.append(
                line(
                    wave,
                    {"trust": trust, "actions": actions, "priority": priority, "hours": hours},
                    respondent=ref,
                )
            )
    # Not pairs: only in one wave; anonymous; twice in wave 2 (which answer would count?).
    lines += [
        line(1, {"trust": 1}, respondent="r5"),
        line(1, {"trust": 1}),
        line(2, {"trust": 1}),
        line(1, {"trust": 5}, respondent="r6"),
        line(2, {"trust": 5}, respondent="r6"),
        line(2, {"trust": 1}, respondent="r6", day=20),
    ]
    await import_lines(client, org, lines)
    trust = await panel_of(settings, "trust")
    assert isinstance(trust.stats, PairTable) and trust.excluded_across_break == 0
    pairs = sorted(
        zip(trust.stats.from_values, trust.stats.to_values, trust.stats.counts, strict=True)
    )
    assert pairs == [(2.0, 4.0, 1), (3.0, 3.0, 1), (4.0, 2.0, 1), (4.0, 5.0, 1)]
    hours = await panel_of(settings, "hours")
    assert isinstance(hours.stats, Moments)
    # d = 1, −1, 0, 0.5
    assert (hours.stats.n, hours.stats.total, hours.stats.total_sq) == (4, 0.5, 2.25)
    actions = await panel_of(settings, "actions")
    assert isinstance(actions.stats, OptionPairs)
    assert actions.stats.n_pairs == 4  # r2 ticked nothing in wave 1 and is still a pair
    table = {
        o: (int(b), int(f), int(t))
        for o, b, f, t in zip(
            actions.stats.options,
            actions.stats.both,
            actions.stats.from_only,
            actions.stats.to_only,
            strict=True,
        )
    }
    assert table == {"petition": (1, 0, 0), "march": (0, 2, 1), "donate": (1, 0, 1)}
    priority = await panel_of(settings, "priority")
    assert isinstance(priority.stats, OptionPairs) and priority.stats.n_pairs == 4
    single = dict(
        zip(
            priority.stats.options,
            zip(priority.stats.from_only, priority.stats.to_only, strict=True),
            strict=True,
        )
    )
    assert single["climate"] == (1, 1) and single["housing"] == (1, 1)


async def test_panel_pairs_across_a_break_are_left_out_and_counted(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await monthly_survey(client, org)
    v2 = pulse_definition()
    v2["questions"][0]["scale"] = {"min": 1, "max": 7}
    await publish_version(client, org, "pulse", v2, confirm_breaks=True)
    await import_lines(
        client,
        org,
        [
            line(1, {"trust": 2}, respondent="a", version=1),
            line(2, {"trust": 6}, respondent="a", version=2),
            line(1, {"trust": 3}, respondent="b", version=2),
            line(2, {"trust": 7}, respondent="b", version=2),
        ],
    )
    got = await panel_of(settings, "trust", [pulse_definition(), v2])
    assert got.excluded_across_break == 1
    assert isinstance(got.stats, PairTable)
    assert got.stats.from_values.tolist() == [3.0] and got.stats.to_values.tolist() == [7.0]


def test_a_question_query_needs_a_series_per_break() -> None:
    counting = queries.Counting("text")
    QuestionQuery("q", (counting, counting), (2,))
    try:
        QuestionQuery("q", (counting,), (2,))
    except ValueError:
        return
    raise AssertionError("a break without a series was accepted")


async def test_the_planner_setting_for_parallel_branches_ends_with_the_statement(
    client: Client, settings: Settings
) -> None:
    org = await make_org(client)
    await monthly_survey(client, org)
    await import_lines(client, org, [line(1, {"trust": 3})])
    async with session_on(settings) as session:
        if session.get_bind().dialect.name != "postgresql":
            return  # the setting is PostgreSQL's; SQLite has no parallel plans
        survey = await survey_row(session)
        metas = await questions_of(session, survey, [pulse_definition()])
        before = (await session.execute(sa.text("SHOW parallel_tuple_cost"))).scalar()
        got = await queries.trend_stats(
            session, [metas["trust"].query], survey_id=survey.id, org_id=survey.org_id
        )
        after = (await session.execute(sa.text("SHOW parallel_tuple_cost"))).scalar()
    assert_same(got.totals["trust"][Cell(1, 0)], scale(1, 5, [3]))
    assert before == after
