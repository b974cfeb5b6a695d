"""An upgrade keeps an older release's data, and this release reads it as that release did.

tests/fixtures/upgrade_NNNN.json.gz each hold a database written by an older release through its
own API, and what that release answered about it: the release whose head was migration 0007
(before 0008 to 0013 gave each answer row its channel, widened the indexes and added the
rollups) and the one whose head was 0005 (before 0006 turned decisions' texts into JSON and
gave them a status). Their generator, tests/fixtures/make_upgrade_fixture.py, says which commits
and how they were made.

Each test brings a fresh database to the old head with our migration scripts (the ones that
release ran: migrations are never edited), loads the rows with SQLAlchemy Core as the old
columns' kinds say (so the same file loads into SQLite and PostgreSQL), runs the real upgrade to
head, and reads through the real app at the instant the old release was read at.
"""

from __future__ import annotations

import gzip
import json
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from litestar import Litestar
from litestar.testing import AsyncTestClient

import feedback.models  # noqa: F401
from feedback import migrate
from feedback.clock import Clock, fixed_clock
from feedback.config import Settings
from feedback.db import Base, JSONType, UTCDateTime
from tests import database
from tests.builders.loop import check, closed_after
from tests.builders.responses import execute, scalar
from tests.builders.wire import same

Client = AsyncTestClient[Litestar]

FIXTURES = Path(__file__).parent / "fixtures"
PULSE = "/api/v1/surveys/pulse"
BY_REGION = f"{PULSE}/trends?questions=trust,priority,actions,hours&segment=region"
# The column types the old releases' values are loaded as (the generator's `kind`).
KINDS: dict[str, sa.types.TypeEngine[Any]] = {
    "uuid": sa.Uuid(),
    "datetime": UTCDateTime(),
    "date": sa.Date(),
    "json": JSONType,
    "bool": sa.Boolean(),
    "int": sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
    "float": sa.Float(),
    "text": sa.Text(),
}


@dataclass(frozen=True)
class Release:
    """One fixture: the old release's rows and answers."""

    revision: str
    now: datetime
    keys: dict[str, str]
    edit_tokens: dict[str, str]
    respondent_tokens: dict[str, str]
    tables: dict[str, dict[str, Any]]
    recorded: dict[str, Any]

    @classmethod
    def read(cls, name: str) -> Release:
        data = json.loads(gzip.decompress((FIXTURES / f"upgrade_{name}.json.gz").read_bytes()))
        return cls(
            revision=data["revision"],
            now=datetime.fromisoformat(data["now"]),
            keys=data["keys"],
            edit_tokens=data["edit_tokens"],
            respondent_tokens=data["respondent_tokens"],
            tables=data["tables"],
            recorded=data["recorded"],
        )

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def column(self, table: str, key: str, value: str) -> dict[Any, Any]:
        """One column of a table by another."""
        columns = self.tables[table]["columns"]
        k, v = columns.index(key), columns.index(value)
        return {row[k]: row[v] for row in self.tables[table]["rows"]}

    def rows(self, table: str) -> list[dict[str, Any]]:
        columns = self.tables[table]["columns"]
        return [dict(zip(columns, row, strict=True)) for row in self.tables[table]["rows"]]


RELEASES = {name: Release.read(name) for name in ("0005", "0007")}


@pytest.fixture(params=sorted(RELEASES))
def release(request: pytest.FixtureRequest) -> Release:
    return RELEASES[request.param]


@pytest.fixture
def clock(release: Release) -> Clock:
    """The instant the old release was read at: wave 6 of `pulse` (June 2025) is open."""
    return fixed_clock(release.now)


@pytest.fixture
def database_url(release: Release, tmp_path: Path) -> str:
    """The test's database at the old release's head, holding its rows, then upgraded.

    On PostgreSQL the configured database itself, its schema dropped first as the suite's
    session does (tests/database.py `reset_postgres`), left at head for the next test to
    truncate: a database of its own per test (tests/test_migrations.py) costs a checkpoint to
    create and another to drop, seconds each on a loaded machine."""
    configured = database.configured_url()
    if configured and configured.startswith("postgresql"):
        url = configured
        engine = sa.create_engine(database.sync_url(url), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        finally:
            engine.dispose()
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    _old_database(release, url)
    migrate.upgrade(url)
    return url


def _old_database(release: Release, url: str) -> None:
    migrate.upgrade(url, release.revision)
    engine = sa.create_engine(database.sync_url(url))
    try:
        with engine.begin() as conn:
            _load(release, conn)
            revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            assert revision == release.revision
    finally:
        engine.dispose()


def _old_table(release: Release, name: str) -> sa.Table:
    """The table as the old release had it: its columns, of the kinds it wrote."""
    dumped = release.tables[name]
    primary = {c.name for c in Base.metadata.tables[name].primary_key.columns}
    return sa.Table(
        name,
        sa.MetaData(),
        *(
            sa.Column(column, KINDS[kind], primary_key=column in primary)
            for column, kind in zip(dumped["columns"], dumped["kinds"], strict=True)
        ),
    )


def _now_table(release: Release, name: str) -> sa.Table:
    """The same columns as this release types them: what it reads back after the upgrade."""
    table = Base.metadata.tables[name]
    return sa.Table(
        name,
        sa.MetaData(),
        *(
            sa.Column(c, table.c[c].type, primary_key=table.c[c].primary_key)
            for c in release.tables[name]["columns"]
        ),
    )


def _decode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "uuid":
        return uuid.UUID(value)
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    return value


def _encode(value: Any) -> Any:
    """As the generator wrote it."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _load(release: Release, conn: sa.Connection) -> None:
    assert set(release.tables) <= set(Base.metadata.tables), "a table of the old release is gone"
    for table in Base.metadata.sorted_tables:  # parents first
        dumped = release.tables.get(table.name)
        if dumped is None:
            continue
        old = _old_table(release, table.name)
        rows = [
            {
                column: _decode(kind, value)
                for column, kind, value in zip(dumped["columns"], dumped["kinds"], row, strict=True)
            }
            for row in dumped["rows"]
        ]
        conn.execute(old.insert(), rows)
        if conn.dialect.name == "postgresql":
            # Rows loaded with their ids leave the sequences behind; the old release's own
            # inserts would have moved them.
            for column, kind in zip(dumped["columns"], dumped["kinds"], strict=True):
                if kind == "int" and old.c[column].primary_key:
                    conn.execute(
                        sa.text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
                            f"(SELECT max({column}) FROM {table.name}))"
                        )
                    )


def _stored(release: Release, url: str) -> dict[str, list[list[Any]]]:
    """Every old table's rows after the upgrade, read as this release types them, in the
    fixture's columns and order, encoded as the fixture is."""
    engine = sa.create_engine(database.sync_url(url))
    out: dict[str, list[list[Any]]] = {}
    try:
        with engine.connect() as conn:
            for name in release.tables:
                table = _now_table(release, name)
                key = list(table.primary_key.columns) or list(table.columns)
                rows = conn.execute(sa.select(table).order_by(*key)).all()
                out[name] = [[_encode(v) for v in row] for row in rows]
    finally:
        engine.dispose()
    return out


def _current_channels(url: str) -> dict[str, str]:
    """Each response's channel as its current answer rows carry it (one per response)."""
    engine = sa.create_engine(database.sync_url(url))
    answer = Base.metadata.tables["answer"]
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(answer.c.response_id, answer.c.channel)
                .where(answer.c.is_current)
                .distinct()
            ).all()
    finally:
        engine.dispose()
    seen: dict[str, str] = {}
    for response_id, channel in rows:
        assert seen.setdefault(str(response_id), channel) == channel, "two channels"
    return seen


def _channels_of(url: str, response_id: str) -> list[tuple[str, bool]]:
    """The channel and currency of a response's answer rows, by the client's response id."""
    engine = sa.create_engine(database.sync_url(url))
    answer, response = Base.metadata.tables["answer"], Base.metadata.tables["response"]
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(answer.c.channel, answer.c.is_current)
                .join(response, response.c.id == answer.c.response_id)
                .where(response.c.response_id == uuid.UUID(response_id))
                .order_by(answer.c.id)
            ).all()
    finally:
        engine.dispose()
    return [(channel, bool(current)) for channel, current in rows]


async def _get(client: Client, release: Release, path: str, role: str = "analyst") -> Any:
    got = await client.get(path, headers=release.auth(role))
    assert got.status_code == 200, (path, got.text)
    return got.json()


async def _responses(client: Client, release: Release, slug: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page_path = f"/api/v1/surveys/{slug}/responses?limit=100"
    while True:
        page = await _get(client, release, page_path)
        items += page["items"]
        if not page["next_cursor"]:
            return items
        page_path = f"/api/v1/surveys/{slug}/responses?limit=100&cursor={page['next_cursor']}"


def _within(old: Any, new: Any, path: str = "") -> list[str]:
    """Where `new` does not say what `old` said: every member the old release answered is
    answered the same (floats to 1e-12 relative, see tests.builders.wire.same); members this
    release added, and the sentences, are not compared."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            d
            for key in old
            for d in (
                _within(old[key], new[key], f"{path}/{key}") if key in new else [f"{path}/{key}"]
            )
        ]
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return [f"{path}: {len(old)} items, now {len(new)}"]
        return [
            d
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            for d in _within(a, b, f"{path}/{i}")
        ]
    if old is True and new in ("small", "complementary") and path.endswith("/suppressed"):
        # Since the 0005 release a suppressed cell says why (commit 4a08578, "suppression says
        # why"): true is now "small" or "complementary".
        return []
    if isinstance(old, str) and isinstance(new, str) and path.endswith("/trend_reason"):
        # Reworded since the 0005 release ("in the segment" became "in one run without a series
        # break", "text answers" became "text and date answers"); the counts it gives are not.
        return [] if NUMBER.findall(old) == NUMBER.findall(new) else [f"{path}: {old!r}, {new!r}"]
    if path.endswith("/summary"):
        # The plain sentences are written from the figures compared here, and their words are
        # the product's to change (since the 0007 release a choice question's changes are said
        # in words at all, commit cadc256): they are compared between reads of this release
        # (_differ), not with the old one's.
        return []
    return _differ(old, new, path)


def _differ(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two reads differ: the same members, floats to 1e-12 relative (a sum of floats
    depends on its order, and a number's moments are summed around one of its answers, which a
    count of some waves and a count of all of them may find differently); sentences word for
    word (their figures are written from 12 significant digits, number_text.steady: a mean of
    7.05 summed in another order, 7.049999999999999, was written 7.0 by one read and 7.1 by the
    other, seen on PostgreSQL between a kept read and the same read counted afresh)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: members {sorted(a.keys() ^ b.keys())}"]
        return [d for k in a for d in _differ(a[k], b[k], f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items against {len(b)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _differ(x, y, f"{path}/{i}")
        ]
    if isinstance(a, float) and isinstance(b, int | float):
        return [] if same(a, float(b)) else [f"{path}: {a!r} against {b!r}"]
    return [] if a == b else [f"{path}: {a!r} against {b!r}"]


NUMBER = re.compile(r"(\d+(?:\.\d+)?)")


async def _keeps_every_row_and_derives_what_the_migrations_add(
    release: Release, database_url: str
) -> None:
    stored = _stored(release, database_url)
    for name, dumped in release.tables.items():
        assert len(stored[name]) == len(dumped["rows"]), name
        assert stored[name] == dumped["rows"], f"{name}: a row changed in the upgrade"
    head = ScriptDirectory(str(migrate.MIGRATIONS)).get_current_head()
    assert await scalar(database_url, "SELECT version_num FROM alembic_version") == head

    # 0009: every answer row carries its response's channel. Exact for the current rows (only
    # a revision changes a response's channel, and it writes new rows); superseded rows, which
    # analysis never reads, take the latest revision's too, as the migration says.
    assert await scalar(database_url, "SELECT count(*) FROM answer WHERE channel IS NULL") == 0
    differ = await scalar(
        database_url,
        "SELECT count(*) FROM answer JOIN response ON response.id = answer.response_id "
        "WHERE answer.channel <> response.channel",
    )
    assert differ == 0
    # Against what the old release answered for each response rather than the upgraded table,
    # including responses a revision moved to another channel.
    channel_of = {
        r["response_id"]: r["channel"]
        for slug in ("pulse", "events")
        for r in release.recorded[f"responses/{slug}"]
    }
    client_id = release.column("response", "id", "response_id")
    current = _current_channels(database_url)
    assert {client_id[rid]: channel for rid, channel in current.items()} == channel_of
    assert set(current.values()) == {"embed", "hosted", "email", "event"}
    if release.revision >= "0006":  # before, a revision kept its response's channel
        first = {
            r["response_id"]: r["document"].get("channel")
            for r in release.rows("response_revision")
            if r["revision"] == 1
        }
        latest = release.column("response", "id", "channel")
        assert any(first[rid] != latest[rid] for rid in first), "no revision moved a channel"

    # 0010-0013 add derived tables and write no rows: nothing kept, nothing recorded yet.
    for table in ("answer_change", "attribute_change", "trend_rollup", "trend_split"):
        assert await scalar(database_url, f"SELECT count(*) FROM {table}") == 0, table

    if release.revision < "0006":
        # 0006: decisions' title and description, text before, are the same text as JSON
        # (compared above, read as this release types them); they are planned, and a public
        # one counts as published when it was last updated.
        decisions = _decisions(database_url)
        assert decisions and any(d["public"] for d in decisions)
        for d in decisions:
            assert d["status"] == "planned"
            assert d["published_at"] == (d["updated_at"] if d["public"] else None)


def _decisions(url: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(database.sync_url(url))
    table = Base.metadata.tables["decision"]
    try:
        with engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(sa.select(table))]
    finally:
        engine.dispose()


async def test_an_upgrade_keeps_the_old_release_data_and_reads_it_as_that_release_did(
    client: Client, release: Release, database_url: str
) -> None:
    """Every row kept, the migrations' backfills right, and then what the old release
    answered is answered the same (one test per release: a database at an old head costs a
    dozen migrations to build)."""
    await _keeps_every_row_and_derives_what_the_migrations_add(release, database_url)
    recorded = release.recorded
    listed = {slug: await _responses(client, release, slug) for slug in ("pulse", "events")}
    for slug in ("pulse", "events"):
        assert _within(recorded[f"responses/{slug}"], listed[slug]) == [], slug
        waves = await _get(client, release, f"/api/v1/surveys/{slug}/waves")
        assert _within(recorded[f"waves/{slug}"], waves) == [], slug
    decisions = await _get(client, release, f"{PULSE}/decisions")
    assert _within(recorded["decisions"], decisions) == []
    if "findings" in recorded:
        findings = await _get(client, release, f"{PULSE}/findings")
        assert _within(recorded["findings"], findings) == []

    # One voice per wave (`count_per_respondent: latest`) is the default since the release
    # after 0005 (commit fb5b0eb), for surveys that never set it too: such a survey's n is now
    # its anonymous responses and the respondents who answered, each once. Every response
    # answers `trust` (required), so that is its n per wave.
    plain = await _get(client, release, f"{PULSE}/trends?questions=trust")
    voices = Counter((r["wave"], r["respondent_id"] or r["response_id"]) for r in listed["pulse"])
    assert [w["n"] for w in _trust_waves(plain)] == [
        sum(1 for wave, _ in voices if wave == number) for number in range(1, 7)
    ]
    if release.revision < "0006":
        # The 0005 release counted every response: with the setting `all` this release says
        # what it said, figure for figure.
        for slug in ("pulse", "events"):
            survey = await _get(client, release, f"/api/v1/surveys/{slug}")
            got = await client.patch(
                f"/api/v1/surveys/{slug}",
                json={"settings": {**survey["settings"], "count_per_respondent": "all"}},
                headers=release.auth("campaigner"),
            )
            assert got.status_code == 200, got.text
    asked = [key for key in recorded if key.startswith("trends?")]
    assert len(asked) >= 2
    for key in asked:
        new = await _get(client, release, f"{PULSE}/{key}")
        assert _within(recorded[key], new) == [], key
    events = await _get(client, release, "/api/v1/surveys/events/trends")
    assert _within(recorded["trends/events"], events) == []


async def _kept_and_fresh(
    client: Client, release: Release, url: str, path: str = BY_REGION
) -> dict[str, Any]:
    """The trends read twice (the second served from the rollups the first kept), then counted
    afresh: all three the same."""
    counted = await _get(client, release, path)
    kept = await _get(client, release, path)
    assert await scalar(url, "SELECT count(*) FROM trend_rollup") > 0
    await execute(url, "DELETE FROM trend_rollup")
    fresh: dict[str, Any] = await _get(client, release, path)
    assert _differ(kept, fresh) == [] and _differ(counted, fresh) == []
    return fresh


def _trust(body: dict[str, Any], wave: int, segment: str | None = None) -> dict[str, Any]:
    trust = next(q for q in body["questions"] if q["key"] == "trust")
    group = trust if segment is None else trust["segments"][segment]
    found: dict[str, Any] = next(w for w in group["waves"] if w["number"] == wave)
    return found


def _trust_waves(body: dict[str, Any]) -> list[dict[str, Any]]:
    trust = next(q for q in body["questions"] if q["key"] == "trust")
    waves: list[dict[str, Any]] = trust["waves"]
    return waves


def _voice(listed: list[dict[str, Any]], respondent: str, wave: int) -> int | None:
    """What a respondent's one voice in a wave says of trust: their latest response's."""
    theirs = [r for r in listed if r["respondent_id"] == respondent and r["wave"] == wave]
    if not theirs:
        return None
    value: int = max(theirs, key=lambda r: (r["submitted_at"], r["response_id"]))["answers"][
        "trust"
    ]
    return value


def _mean(distribution: dict[str, int]) -> float:
    return sum(int(k) * v for k, v in distribution.items()) / sum(distribution.values())


def _moved(distribution: dict[str, int], delta: dict[int, int]) -> dict[str, int]:
    out = Counter(distribution)
    out.update({str(k): v for k, v in delta.items()})
    return dict(out)


async def _respondent(client: Client, release: Release, response_id: str) -> dict[str, Any]:
    response = await _get(client, release, f"{PULSE}/responses/{response_id}")
    path = f"/api/v1/respondents/{response['respondent_id']}"
    found: dict[str, Any] = await _get(client, release, path, role="campaigner")
    return found


def _one_voice_change(
    before: list[dict[str, Any]], after: list[dict[str, Any]], respondent: str, wave: int
) -> tuple[int, dict[int, int]]:
    """How a wave's trust n and distribution move when a respondent's responses there go from
    `before` to `after`: their one voice is their latest response's."""
    was, now = _voice(before, respondent, wave), _voice(after, respondent, wave)
    delta: Counter[int] = Counter()
    if was is not None:
        delta[was] -= 1
    if now is not None:
        delta[now] += 1
    return (now is not None) - (was is not None), dict(delta)


@pytest.mark.parametrize("release", [RELEASES["0007"]], ids=["0007"])
async def test_writes_after_the_upgrade_move_the_figures_and_kept_rollups_stay_exact(
    client: Client, release: Release, database_url: str, settings: Settings
) -> None:
    """On the release before the answer rows' channel and the rollups (0008-0013); the write
    path after an upgrade from 0005 is the same."""
    before = await _kept_and_fresh(client, release, database_url)
    assert _within(release.recorded[f"trends?{BY_REGION.partition('?')[2]}"], before) == []
    listed = await _responses(client, release, "pulse")

    # A new answer in the open wave 6 (version 3, trust on 7 points), by a respondent the old
    # release made, through the personal token it handed out.
    response_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "after-the-upgrade"))
    got = await client.post(
        "/api/v1/public/acme/pulse/responses",
        json={
            "response_id": response_id,
            "version": 3,
            "channel": "embed",
            "respondent_token": release.respondent_tokens["crm-000"],
            "answers": {"trust": 7, "priority": "housing"},
        },
    )
    assert got.status_code == 201, got.text
    assert got.json()["wave"] == 6
    assert _channels_of(database_url, response_id) == [("embed", True)] * 2
    person = await _respondent(client, release, response_id)
    region = person["attributes"]["region"]
    submitted = await _responses(client, release, "pulse")
    n, delta = _one_voice_change(listed, submitted, person["id"], 6)
    after = await _kept_and_fresh(client, release, database_url)
    assert _trust(after, 6)["n"] == _trust(before, 6)["n"] + n
    assert _trust(after, 6)["distribution"] == _moved(_trust(before, 6)["distribution"], delta)
    assert _trust(after, 6)["estimate"] == pytest.approx(_mean(_trust(after, 6)["distribution"]))
    assert _trust(after, 6, region)["distribution"] == _moved(
        _trust(before, 6, region)["distribution"], delta
    )
    for wave in range(1, 6):  # the closed waves are what they were
        assert (
            _differ(
                {k: v for k, v in _trust(after, wave).items() if k != "change"},
                {k: v for k, v in _trust(before, wave).items() if k != "change"},
            )
            == []
        )

    # A revision of an anonymous answer the old release stored (each counts), with the edit
    # token it handed out (a wave's answers can be revised while it is open): wave 6 moves
    # from the old value to the new one, and the new rows carry the response's channel.
    old = next(
        r
        for r in release.recorded["responses/pulse"]
        if r["wave"] == 6
        and r["revision"] == 1
        and r["respondent_id"] is None
        and r["response_id"] in release.edit_tokens
    )
    value = old["answers"]["trust"]
    revised = 1 if value != 1 else 7
    got = await client.put(
        f"/api/v1/public/acme/pulse/responses/{old['response_id']}",
        json={"version": old["version"], "answers": {**old["answers"], "trust": revised}},
        headers={"X-Edit-Token": release.edit_tokens[old["response_id"]], "If-Match": '"1"'},
    )
    assert got.status_code == 200, got.text
    assert got.json()["revision"] == 2
    revised_read = await _kept_and_fresh(client, release, database_url)
    assert _trust(revised_read, 6)["n"] == _trust(after, 6)["n"]
    assert _trust(revised_read, 6)["distribution"] == _moved(
        _trust(after, 6)["distribution"], {value: -1, revised: 1}
    )
    rows = _channels_of(database_url, old["response_id"])
    assert {channel for channel, _ in rows} == {old["channel"]}
    assert [current for _, current in rows].count(True) == len(_values(old["answers"]))

    # An attribute change: the respondent's voice moves from one region to another in every
    # wave they answered, the totals do not.
    elsewhere = next(r for r in ("north", "south", "east") if r != region)
    got = await client.put(
        f"/api/v1/respondents/{person['id']}",
        json={"attributes": {**person["attributes"], "region": elsewhere}},
        headers=release.auth("campaigner"),
    )
    assert got.status_code == 200, got.text
    moved = await _kept_and_fresh(client, release, database_url)
    answered = [_voice(submitted, person["id"], wave) is not None for wave in range(1, 7)]
    assert answered[5] and any(answered[:5])  # the new answer, and the old release's
    for wave in range(1, 7):
        assert _trust(moved, wave)["n"] == _trust(revised_read, wave)["n"]
        voice = int(answered[wave - 1])
        for segment, change in ((region, -voice), (elsewhere, voice)):
            was = _trust(revised_read, wave, segment)["n"]
            assert _trust(moved, wave, segment)["n"] == was + change, (wave, segment)
    # A read without a split, kept and then counted again, too.
    plain = f"{PULSE}/trends?questions=trust,nps"
    kept_plain = await _kept_and_fresh(client, release, database_url, plain)
    assert [w["n"] for w in _trust_waves(kept_plain)] == [w["n"] for w in _trust_waves(moved)]

    # Paper answers from an event, imported into the closed wave 2 under the respondent's
    # reference the old release hashed: wave 2 moves, in the region they are in now.
    line: dict[str, Any] = {
        "response_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "imported-after-the-upgrade")),
        "version": 1,
        "channel": "event",
        "submitted_at": "2025-02-27T12:00:00Z",
        "respondent_ref": "crm-000",
        "answers": {"trust": 5, "hours": 2.5},
    }
    got = await client.post(
        f"{PULSE}/responses/import",
        content=(json.dumps(line) + "\n").encode(),
        headers={**release.auth("campaigner"), "Content-Type": "application/x-ndjson"},
    )
    assert got.status_code == 200, got.text
    assert got.json()["imported"] == 1, got.text
    assert _channels_of(database_url, line["response_id"]) == [("event", True)] * 2
    n, delta = _one_voice_change(
        submitted, await _responses(client, release, "pulse"), person["id"], 2
    )
    imported = await _kept_and_fresh(client, release, database_url)
    assert _trust(imported, 2)["n"] == _trust(moved, 2)["n"] + n
    assert _trust(imported, 2)["distribution"] == _moved(_trust(moved, 2)["distribution"], delta)
    assert _trust(imported, 2, elsewhere)["distribution"] == _moved(
        _trust(moved, 2, elsewhere)["distribution"], delta
    )
    for wave in (1, 3, 4, 5, 6):
        assert (
            _differ(
                {k: v for k, v in _trust(imported, wave).items() if k != "change"},
                {k: v for k, v in _trust(moved, wave).items() if k != "change"},
            )
            == []
        )

    # The findings check after wave 6 closes starts where the old release's left off
    # (finding_check.through_wave): what that release opened stays as it was, only wave 6 is
    # checked, and checking again opens nothing.
    opened = await check(settings, closed_after(6))
    assert {f.wave_number for f in opened} <= {6}
    assert await check(settings, closed_after(6)) == []
    findings = await _get(client, release, f"{PULSE}/findings")
    old_ids = {f["id"] for f in release.recorded["findings"]["items"]}
    assert old_ids and old_ids <= {f["id"] for f in findings["items"]}
    assert (
        _within(
            release.recorded["findings"]["items"],
            [f for f in findings["items"] if f["id"] in old_ids],
        )
        == []
    )


def _values(answers: dict[str, Any]) -> list[Any]:
    """The answer rows a response's answers make: one a value, one a chosen option."""
    return [
        v for value in answers.values() for v in (value if isinstance(value, list) else [value])
    ]
