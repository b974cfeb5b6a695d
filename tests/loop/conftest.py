"""The loop's webhook receivers listen on loopback, which the product refuses by default: these
tests allow it (a test that checks the refusal says otherwise), with short timeouts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from feedback.config import Settings
from tests.builders.webhooks import Receiver, receiver_on_loopback


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allow_private": True,
            "webhook_connect_timeout": 1.0,
            "webhook_read_timeout": 1.0,
        }
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiver_on_loopback() as receiver:
        yield receiver
