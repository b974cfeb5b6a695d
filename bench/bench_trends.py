"""The trends route over 1,000,000 and 10,000,000 answers, against the bare GROUP BY, same run.

    .venv/bin/python bench/bench_trends.py [--db sqlite postgresql] [--rows 1000000 10000000]
                                           [--runs 5] [--keep]

For each database and size:

1. A fresh database (SQLite: bench/results/trends-<rows>.db; PostgreSQL: `feedback_bench_trends`
   on FEEDBACK_BENCH_POSTGRES, default postgresql://postgres@127.0.0.1:5432/postgres), migrated
   to head; organisation, keys and the 12-question survey of `QUESTIONS` made through the API,
   on a monthly schedule whose 24th wave is open now.
2. Respondents, responses and answer rows written straight into the tables (SQLite:
   executemany; PostgreSQL: COPY), drawn with NumPy from a fixed seed: scales drifting over the
   waves, 5 % of answers skipped, a text answer for 30 %, multi-choice answers of 0–4 options,
   90 % of responses from a pool of known respondents with a `region` attribute, five channels
   in turn. Then ANALYZE
   (PostgreSQL: VACUUM ANALYZE, as autovacuum would, so index-only scans see a visibility map).
3. A fresh Python process measures, interleaved, `--runs` times each (medians reported):
   - bare: `SELECT question_key, wave_number, value_num, option_key, count(*) FROM answer WHERE
     survey_id = ? AND question_key IN (12 keys) AND is_current GROUP BY those four`, all rows
     fetched through the same async driver;
   - the route's own aggregate (`queries.trend_stats`: its statement, rows folded into
     statistics), so route − aggregate is everything that is not SQL;
   - the trends route for the 12 questions, in process through the app (auth, survey, versions,
     waves, decisions, the aggregate, every statistic, JSON);
   - the same with `segment=region`, and the panel route between waves 23 and 24;
   - after publishing version 2 with a declared break on one question (answers of waves 13–24
     carry version 2, with 5 % version-1 stragglers in waves 13–14): the route again;
   - the warm chart: the render alone (`chart_renderer`, SVG and PNG) and the chart route.
   Then another fresh process serves only the routes (trends, segment, panel, chart) twice and
   reports its peak RSS (VmHWM; the bare query's rows would count in the first process) and
   the Python heap's peak during one trends and one segment request (tracemalloc).
4. The database is deleted (unless --keep).

A Markdown table of the medians, with the route / bare ratio, goes to stdout; the figures are in
BENCHMARKS.md ("Trends"). Not part of the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feedback import migrate  # noqa: E402
from feedback.config import Settings  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PG_ADMIN = os.environ.get(
    "FEEDBACK_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PG_NAME = os.environ.get("FEEDBACK_BENCH_PG_NAME", "feedback_bench_trends")
ADMIN_TOKEN = "bench-admin-token"
SECRET = "bench-secret-key-0123456789-abcdefghij"
WAVES = 24
CHUNK = 20_000  # responses generated and written at a time

_SCALE5 = {"min": 1, "max": 5}
_OPTIONS = {
    "priority": ["climate", "housing", "health", "jobs"],
    "heard_via": ["email", "social", "event", "friend", "press"],
    "actions": ["petition", "march", "donate", "call", "volunteer"],
    "topics": ["local", "national", "global", "members", "campaigns", "funding"],
}
QUESTIONS: list[dict[str, Any]] = [
    {"key": "trust", "type": "likert", "label": "I trust you", "scale": _SCALE5},
    {"key": "listened", "type": "likert", "label": "You listen", "scale": _SCALE5},
    {"key": "informed", "type": "likert", "label": "I feel informed", "scale": _SCALE5},
    {"key": "service", "type": "rating", "label": "Our service", "scale": {"min": 1, "max": 10}},
    {"key": "nps", "type": "nps", "label": "Recommend us?"},
    *(
        {
            "key": key,
            "type": "single_choice" if key in ("priority", "heard_via") else "multi_choice",
            "label": key.title(),
            "options": [{"key": o, "label": o.title()} for o in options],
        }
        for key, options in _OPTIONS.items()
    ),
    {"key": "hours", "type": "number", "label": "Hours", "min": 0, "max": 168},
    {"key": "donation", "type": "number", "label": "Donation", "min": 0, "max": 10000},
    {"key": "comment", "type": "text", "label": "Anything else?", "max_length": 2000},
]
KEYS = [q["key"] for q in QUESTIONS]
BROKEN = "informed"  # version 2 rewords it and declares a series break
REGIONS = ["north", "south", "east", "west", "centre", "abroad"]
# The channels responses come through, in turn (a split by channel has as many groups).
CHANNELS = ["embed", "hosted", "email", "import", "event"]


def sqlite_url(rows: int) -> str:
    return f"sqlite+aiosqlite:///{RESULTS / f'trends-{rows}.db'}"


def pg_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def pg_admin() -> sa.Engine:
    return sa.create_engine(
        PG_ADMIN.replace("postgresql://", "postgresql+psycopg2://"), isolation_level="AUTOCOMMIT"
    )


def fresh(db: str, rows: int) -> str:
    if db == "sqlite":
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"trends-{rows}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = sqlite_url(rows)
    else:
        admin = pg_admin()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{PG_NAME}"'))
        admin.dispose()
        url = pg_url(PG_NAME).replace("postgresql://", "postgresql+asyncpg://")
    migrate.upgrade(url)
    return url


def drop(db: str, rows: int) -> None:
    if db == "sqlite":
        path = RESULTS / f"trends-{rows}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    admin = pg_admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
    admin.dispose()


# --- the survey, made through the API ---------------------------------------------------------


def schedule_start(now: datetime) -> datetime:
    """The first day of the month 23 months ago: wave 24 is the current month's."""
    month = now.year * 12 + now.month - 1 - (WAVES - 1)
    return datetime(month // 12, month % 12 + 1, 1, tzinfo=UTC)


async def make_survey(url: str) -> dict[str, str]:
    from litestar.testing import AsyncTestClient

    from feedback.api.app import create_app

    app = create_app(bench_settings(url))
    async with AsyncTestClient(app=app) as client:
        org = await client.post(
            "/api/v1/orgs",
            json={"slug": "bench", "name": "Bench"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        org.raise_for_status()
        admin = {"Authorization": f"Bearer {org.json()['admin_key']}"}
        keys = {}
        for role in ("analyst", "campaigner"):
            made = await client.post(
                "/api/v1/keys", json={"name": role, "role": role}, headers=admin
            )
            made.raise_for_status()
            keys[role] = made.json()["key"]
        start = schedule_start(datetime.now(UTC))
        created = await client.post(
            "/api/v1/surveys",
            json={
                "slug": "pulse",
                "title": "Supporter pulse",
                "schedule": {
                    "rrule": "FREQ=MONTHLY;BYMONTHDAY=1",
                    "starts_at": start.isoformat().replace("+00:00", "Z"),
                    "timezone": "UTC",
                },
                "definition": {"questions": QUESTIONS},
            },
            headers=admin,
        )
        created.raise_for_status()
        (
            await client.post("/api/v1/surveys/pulse/publish", json={}, headers=admin)
        ).raise_for_status()
    engine = sa.create_engine(sync_url(url))
    with engine.connect() as conn:
        org_id, survey_id = conn.execute(
            sa.text("SELECT org_id, id FROM survey WHERE slug = 'pulse'")
        ).one()
    engine.dispose()
    return {
        **keys,
        "org_id": str(uuid.UUID(str(org_id))),
        "survey_id": str(uuid.UUID(str(survey_id))),
        "start": start.isoformat(),
    }


def bench_settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        admin_token=ADMIN_TOKEN,
        secret_key=SECRET,
        secret_key_file=RESULTS / "secret",
        db_pool_size=4,
    )


def sync_url(url: str) -> str:
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg2")


# --- data -------------------------------------------------------------------------------------


@dataclass
class Batch:
    respondents: list[tuple[Any, ...]]
    responses: list[tuple[Any, ...]]
    answers: list[tuple[Any, ...]]


def _latent(rng: np.random.Generator, centre: Any, sd: float, low: int, high: int) -> Any:
    return np.clip(np.rint(rng.normal(centre, sd, size=CHUNK)), low, high)


def batches(target_rows: int, ids: dict[str, str], seed: int = 7) -> Iterator[Batch]:
    """Respondents first, then responses with their answer rows until `target_rows` answers."""
    rng = np.random.default_rng(seed)
    org, survey = uuid.UUID(ids["org_id"]), uuid.UUID(ids["survey_id"])
    start = datetime.fromisoformat(ids["start"])
    opens = [
        datetime(
            start.year + (start.month - 1 + w) // 12, (start.month - 1 + w) % 12 + 1, 1, tzinfo=UTC
        )
        for w in range(WAVES)
    ]
    per_response = 13.3  # answer rows a response averages with the rates below
    n_responses = int(target_rows / per_response) + 1
    pool = max(100, n_responses // 4)
    respondent_ids = [uuid.uuid4() for _ in range(pool)]
    now = datetime.now(UTC)
    respondents = [
        (rid, org, "known", None, None, {"region": REGIONS[int(r)]}, now, now)
        for rid, r in zip(
            respondent_ids,
            rng.choice(6, size=pool, p=[0.3, 0.25, 0.2, 0.15, 0.08, 0.02]),
            strict=True,
        )
    ]
    yield Batch(respondents, [], [])
    weights = 1 + 0.04 * np.arange(WAVES)
    weights /= weights.sum()
    written = 0
    while written < target_rows:
        size = CHUNK
        wave = rng.choice(WAVES, size=size, p=weights) + 1
        version = np.where(wave > 12, 2, 1)
        straggler = (wave <= 14) & (wave > 12) & (rng.random(size) < 0.05)
        version[straggler] = 1
        who = rng.integers(0, pool, size=size)
        anonymous = rng.random(size) < 0.1
        drift = (wave - 12) / 12
        values: dict[str, Any] = {
            "trust": _latent(rng, 3.3 + 0.25 * drift, 1.0, 1, 5),
            "listened": _latent(rng, 3.0 - 0.1 * drift, 1.1, 1, 5),
            "informed": _latent(rng, 3.6, 0.9, 1, 5),
            "service": _latent(rng, 7.0 + 0.4 * drift, 1.8, 1, 10),
            "nps": _latent(rng, 7.4 + 0.3 * drift, 2.2, 0, 10),
            "priority": rng.choice(4, size=size, p=[0.4, 0.3, 0.2, 0.1]),
            "heard_via": rng.choice(5, size=size),
            "hours": np.round(np.clip(rng.gamma(1.5, 3.0, size=size), 0, 168), 1),
            "donation": np.round(np.clip(rng.lognormal(3.0, 1.0, size=size), 0, 10000), 2),
        }
        chosen = {
            "actions": rng.random((size, 5)) < np.array([0.5, 0.2, 0.3, 0.15, 0.25]),
            "topics": rng.random((size, 6)) < 0.25,
        }
        answered = rng.random((size, len(KEYS))) < 0.95
        answered[:, KEYS.index("comment")] = rng.random(size) < 0.3
        responses: list[tuple[Any, ...]] = []
        answers: list[tuple[Any, ...]] = []
        for i in range(size):
            pk = uuid.uuid4()
            channel = CHANNELS[i % len(CHANNELS)]
            w, v = int(wave[i]), int(version[i])
            respondent = None if anonymous[i] else respondent_ids[who[i]]
            at = opens[w - 1] + timedelta(hours=1 + i % 600)
            at = min(at, now - timedelta(minutes=1))
            responses.append(
                (
                    pk,
                    org,
                    survey,
                    uuid.uuid4(),
                    respondent,
                    w,
                    v,
                    1,
                    channel,
                    None,
                    at,
                    at,
                    at,
                    None,
                    "0" * 64,
                )
            )
            base = (org, survey, pk, 1, w, v, respondent, channel)
            for j, key in enumerate(KEYS):
                if not answered[i, j]:
                    continue
                if key in ("priority", "heard_via"):
                    answers.append(
                        (*base, key, None, _OPTIONS[key][values[key][i]], None, True, True)
                    )
                elif key in chosen:
                    picked = [
                        o for o, yes in zip(_OPTIONS[key], chosen[key][i], strict=True) if yes
                    ]
                    if not picked:
                        answers.append((*base, key, None, None, None, True, True))
                    for k, option in enumerate(picked):
                        answers.append((*base, key, None, option, None, k == 0, True))
                elif key == "comment":
                    answers.append((*base, key, None, None, "Keep going.", True, True))
                else:
                    answers.append((*base, key, float(values[key][i]), None, None, True, True))
        keep = target_rows - written
        if len(answers) > keep:  # the last batch stops at the target (its last response may
            answers = answers[:keep]  # lose its trailing answers, as a skipped question would)
            kept = {a[2] for a in answers}
            responses = [r for r in responses if r[0] in kept]
        written += len(answers)
        yield Batch([], responses, answers)


RESPONDENT_COLUMNS = "id, org_id, kind, ref_hash, token_hash, attributes, created_at, updated_at"
RESPONSE_COLUMNS = (
    "id, org_id, survey_id, response_id, respondent_id, wave_number, version, revision, channel, "
    "locale, submitted_at, revised_at, received_at, edit_token_hash, body_hash"
)
ANSWER_COLUMNS = (
    "org_id, survey_id, response_id, revision, wave_number, version, respondent_id, channel, "
    "question_key, value_num, option_key, value_text, first, is_current"
)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return int(value)
    return value


def load_sqlite(url: str, rows: int, ids: dict[str, str]) -> int:
    conn = sqlite3.connect(url.split("///", 1)[1])
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA foreign_keys=OFF")
    total = 0
    for batch in batches(rows, ids):
        for table, columns, items in (
            ("respondent", RESPONDENT_COLUMNS, batch.respondents),
            ("response", RESPONSE_COLUMNS, batch.responses),
            ("answer", ANSWER_COLUMNS, batch.answers),
        ):
            if items:
                marks = ", ".join("?" * (columns.count(",") + 1))
                conn.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                    ([_sqlite_value(v) for v in item] for item in items),
                )
        total += len(batch.answers)
        conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    return total


def _copy_value(value: Any) -> Any:
    if value is None:
        return r"\N"
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "t" if value else "f"
    return value


def load_postgres(url: str, rows: int, ids: dict[str, str]) -> int:
    import psycopg2

    conn = psycopg2.connect(sync_url(url).replace("postgresql+psycopg2://", "postgresql://"))
    total = 0
    with conn:
        cursor = conn.cursor()
        for batch in batches(rows, ids):
            for table, columns, items in (
                ("respondent", RESPONDENT_COLUMNS, batch.respondents),
                ("response", RESPONSE_COLUMNS, batch.responses),
                ("answer", ANSWER_COLUMNS, batch.answers),
            ):
                if not items:
                    continue
                buffer = io.StringIO()
                writer = csv.writer(buffer, delimiter="\t", quotechar='"', lineterminator="\n")
                writer.writerows([_copy_value(v) for v in item] for item in items)
                buffer.seek(0)
                cursor.copy_expert(
                    f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, DELIMITER E'\\t', "
                    r"NULL '\N')",
                    buffer,
                )
            total += len(batch.answers)
            conn.commit()
    conn.autocommit = True
    conn.cursor().execute("VACUUM ANALYZE")
    conn.close()
    return total


# --- measuring, in a fresh process ------------------------------------------------------------


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


async def measure(url: str, ids: dict[str, str], runs: int) -> dict[str, Any]:
    from litestar.testing import AsyncTestClient

    from feedback.analysis import queries, service
    from feedback.analysis.catalogue import catalogue
    from feedback.analysis.chart_adapter import chart_renderer
    from feedback.api.app import create_app
    from feedback.db import make_engine, make_sessionmaker
    from feedback.responses.models import Answer
    from feedback.surveys.definition import Definition
    from feedback.surveys.models import Survey

    survey_id = uuid.UUID(ids["survey_id"])
    bare = (
        sa.select(
            Answer.question_key,
            Answer.wave_number,
            Answer.value_num,
            Answer.option_key,
            sa.func.count(),
        )
        .where(Answer.survey_id == survey_id, Answer.question_key.in_(KEYS), Answer.is_current)
        .group_by(Answer.question_key, Answer.wave_number, Answer.value_num, Answer.option_key)
    )
    # The route's own aggregate (its statement, run as the route runs it, rows folded into
    # statistics): route − this = everything that is not the SQL.
    metas = catalogue([(1, Definition.model_validate({"questions": QUESTIONS}))], {})
    own = [m.query for m in metas.values()]
    engine = make_engine(url, pool_size=2)
    sessions = make_sessionmaker(engine)
    analyst = {"Authorization": f"Bearer {ids['analyst']}"}
    trends = "/api/v1/surveys/pulse/trends?questions=" + ",".join(KEYS)
    out: dict[str, Any] = {}

    async def time_bare() -> float:
        async with sessions() as session:
            started = time.perf_counter()
            rows = (await session.execute(bare)).all()
            elapsed = time.perf_counter() - started
        out["bare_rows"] = len(rows)
        return elapsed

    async def time_own() -> float:
        async with sessions() as session:
            started = time.perf_counter()
            await queries.trend_stats(
                session, own, survey_id=survey_id, org_id=uuid.UUID(ids["org_id"])
            )
            return time.perf_counter() - started

    async def time_get(client: Any, path: str) -> float:
        # Counted afresh every time, as these figures always were: the rollups a request keeps
        # would serve the next one (bench_rollups.py measures that).
        async with sessions() as session, session.begin():
            await session.execute(sa.text("DELETE FROM trend_rollup"))
        started = time.perf_counter()
        got = await client.get(path, headers=analyst)
        elapsed = time.perf_counter() - started
        got.raise_for_status()
        return elapsed

    app = create_app(bench_settings(url))
    async with AsyncTestClient(app=app, timeout=600) as client:
        # Warm both paths (imports, statement caches, the database's own caches).
        await time_bare()
        await time_own()
        await time_get(client, trends)
        samples: dict[str, list[float]] = {"bare": [], "own": [], "trends": []}
        for run in range(runs):
            order = ["bare", "own", "trends"]
            for name in order[run % 3 :] + order[: run % 3]:
                if name == "trends":
                    samples[name].append(await time_get(client, trends))
                else:
                    samples[name].append(await (time_bare() if name == "bare" else time_own()))
        out["bare_ms"] = median_ms(samples["bare"])
        out["own_ms"] = median_ms(samples["own"])
        out["trends_ms"] = median_ms(samples["trends"])
        out["bare_runs_ms"] = [round(s * 1000, 1) for s in samples["bare"]]
        out["trends_runs_ms"] = [round(s * 1000, 1) for s in samples["trends"]]

        body = (await client.get(trends, headers=analyst)).json()
        out["waves"] = len(body["questions"][0]["waves"])

        segmented = trends + "&segment=region"
        await time_get(client, segmented)
        out["segment_ms"] = median_ms([await time_get(client, segmented) for _ in range(runs)])
        panel = "/api/v1/surveys/pulse/panel/trust?from_wave=23&to_wave=24"
        await time_get(client, panel)
        out["panel_ms"] = median_ms([await time_get(client, panel) for _ in range(runs)])

        chart = "/api/v1/surveys/pulse/trends/trust/chart"
        for fmt in ("svg", "png"):
            await time_get(client, f"{chart}.{fmt}")
            out[f"chart_route_{fmt}_ms"] = median_ms(
                [await time_get(client, f"{chart}.{fmt}") for _ in range(runs)]
            )
        async with sessions() as session:
            survey = await session.get(Survey, survey_id)
            assert survey is not None
            result = await service.survey_trends(
                session, survey, service.TrendsQuery(questions=["trust"]), now=datetime.now(UTC)
            )
        render = chart_renderer(result, result.questions[0])
        for fmt in ("svg", "png"):
            render(fmt)  # type: ignore[arg-type]
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                render(fmt)  # type: ignore[arg-type]
                timings.append(time.perf_counter() - started)
            out[f"chart_render_{fmt}_ms"] = median_ms(timings)

        # A declared series break on one question: its answers are then counted by version.
        campaigner = {"Authorization": f"Bearer {ids['campaigner']}"}
        definition = {"questions": [dict(q) for q in QUESTIONS]}
        for q in definition["questions"]:
            if q["key"] == BROKEN:
                q["label"] = "I feel well informed about what we do"
                q["breaks_series"] = True
        draft = await client.put(
            "/api/v1/surveys/pulse/draft", json={"definition": definition}, headers=campaigner
        )
        draft.raise_for_status()
        published = await client.post(
            "/api/v1/surveys/pulse/publish", json={"confirm_breaks": True}, headers=campaigner
        )
        published.raise_for_status()
        await time_get(client, trends)
        broken: list[float] = []
        bare_again: list[float] = []
        for _ in range(runs):
            bare_again.append(await time_bare())
            broken.append(await time_get(client, trends))
        out["break_trends_ms"] = median_ms(broken)
        out["break_bare_ms"] = median_ms(bare_again)
    await engine.dispose()
    return out


def peak_rss_mib() -> int:
    """This process's peak resident set. VmHWM, not ru_maxrss: the latter survives exec, so a
    child would report its parent's peak (here: the data generator's)."""
    for entry in Path("/proc/self/status").read_text().splitlines():
        if entry.startswith("VmHWM:"):
            return round(int(entry.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


async def memory(url: str, ids: dict[str, str], runs: int) -> dict[str, Any]:
    """In a process of its own (the bare query's rows would count otherwise): the peak RSS
    after serving the routes `runs` times, and the Python heap's peak during one request."""
    from litestar.testing import AsyncTestClient

    from feedback.api.app import create_app

    analyst = {"Authorization": f"Bearer {ids['analyst']}"}
    trends = "/api/v1/surveys/pulse/trends?questions=" + ",".join(KEYS)
    paths = [
        trends,
        trends + "&segment=region",
        "/api/v1/surveys/pulse/panel/trust?from_wave=23&to_wave=24",
        "/api/v1/surveys/pulse/trends/trust/chart.png",
    ]
    out: dict[str, Any] = {}
    async with AsyncTestClient(app=create_app(bench_settings(url)), timeout=600) as client:
        for _ in range(min(runs, 2)):
            for path in paths:
                (await client.get(path, headers=analyst)).raise_for_status()
        out["peak_rss_mib"] = peak_rss_mib()
        for name, path in (("trends", trends), ("segment", paths[1])):
            tracemalloc.start()
            (await client.get(path, headers=analyst)).raise_for_status()
            out[f"{name}_heap_peak_kib"] = round(tracemalloc.get_traced_memory()[1] / 1024)
            tracemalloc.stop()
    return out


# --- orchestration ----------------------------------------------------------------------------


def run(db: str, rows: int, runs: int, keep: bool) -> dict[str, Any]:
    started = time.perf_counter()
    url = fresh(db, rows)
    ids = asyncio.run(make_survey(url))
    loaded = (load_sqlite if db == "sqlite" else load_postgres)(url, rows, ids)
    setup_s = round(time.perf_counter() - started)
    print(f"{db} {rows:,}: {loaded:,} answer rows loaded in {setup_s} s", file=sys.stderr)
    result: dict[str, Any] = {"db": db, "rows": loaded, "setup_s": setup_s}
    try:
        for command in ("measure", "memory"):
            child = subprocess.run(
                [sys.executable, __file__, command, url, json.dumps(ids), str(runs)],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            result |= json.loads(child.stdout)
    finally:
        if not keep:
            drop(db, rows)
    return result


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | answer rows | bare GROUP BY | the route's SQL alone | trends, 12 questions "
        "| ratio to bare | ratio to its SQL | with one break | ratio to bare | segment=region "
        "| panel | peak RSS | heap peak, trends / segment |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {'SQLite' if r['db'] == 'sqlite' else 'PostgreSQL'} | {r['rows']:,} "
            f"| {r['bare_ms']} ms | {r['own_ms']} ms | {r['trends_ms']} ms "
            f"| {r['trends_ms'] / r['bare_ms']:.2f}× | {r['trends_ms'] / r['own_ms']:.2f}× "
            f"| {r['break_trends_ms']} ms | {r['break_trends_ms'] / r['break_bare_ms']:.2f}× "
            f"| {r['segment_ms']} ms | {r['panel_ms']} ms | {r['peak_rss_mib']} MiB "
            f"| {r['trends_heap_peak_kib']} KiB / {r['segment_heap_peak_kib']} KiB |"
        )
    lines += [
        "",
        "| database | answer rows | chart render SVG | chart render PNG | chart route SVG | "
        "chart route PNG |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {'SQLite' if r['db'] == 'sqlite' else 'PostgreSQL'} | {r['rows']:,} "
            f"| {r['chart_render_svg_ms']} ms | {r['chart_render_png_ms']} ms "
            f"| {r['chart_route_svg_ms']} ms | {r['chart_route_png_ms']} ms |"
        )
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("measure", "memory"):
        url, ids, runs = sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
        step = measure if sys.argv[1] == "measure" else memory
        print(json.dumps(asyncio.run(step(url, ids, runs))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--rows", nargs="+", type=int, default=[1_000_000, 10_000_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args()
    results = []
    for db in args.db:
        for rows in args.rows:
            result = run(db, rows, args.runs, args.keep)
            print(json.dumps(result), file=sys.stderr)
            results.append(result)
    print(f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs\n")
    print(table(results))


if __name__ == "__main__":
    main()
