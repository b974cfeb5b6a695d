"""The demo data README's first command loads: real, complete and re-runnable."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from feedback.config import Settings
from feedback.demo import load_demo


async def test_demo_loads_once_and_hands_out_working_keys(
    settings: Settings, app: Litestar
) -> None:
    first = await load_demo(settings)
    assert "loaded: survey 'pulse', 12 monthly waves" in first
    key = first.split("admin key (shown once): ")[1].split()[0]
    again = await load_demo(settings)
    assert "already loaded" in again
    second_key = again.split("admin key (shown once): ")[1].split()[0]
    async with AsyncTestClient(app=app) as client:
        for k in (key, second_key):
            survey = await client.get(
                "/api/v1/surveys/pulse", headers={"Authorization": f"Bearer {k}"}
            )
            assert survey.status_code == 200
            assert survey.json()["current_version"] == 3
        waves = await client.get(
            "/api/v1/surveys/pulse/waves", headers={"Authorization": f"Bearer {key}"}
        )
        answered = [w for w in waves.json() if w["responses"]]
        assert len(answered) == 12
        assert all(150 <= w["responses"] <= 260 for w in answered)
