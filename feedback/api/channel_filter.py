"""The `channel=` filter of the analysis routes: one channel or a comma list of them.

A response counts in analysis through the channel of its latest revision (embed, hosted, email,
import, event, or the label an import carries).
"""

from __future__ import annotations

import re
from typing import Annotated

from litestar.params import QueryParameter

from feedback.api.problems import LocatedError
from feedback.errors import Invalid
from feedback.responses.schemas import CHANNEL_PATTERN

ChannelFilter = Annotated[
    str | None,
    QueryParameter(
        name="channel",
        description="Count only responses whose latest revision came through this channel "
        "(`event`), or through any of a comma-separated list (`embed,hosted`).",
    ),
]


def channels_of(text: str | None, source: str = "query") -> tuple[str, ...] | None:
    """The channels a `channel` value names, in order without repeats; None without one.
    `source` says where the value came from (a query parameter or a JSON body's field)."""
    if text is None:
        return None
    names = tuple(dict.fromkeys(name.strip() for name in text.split(",")))
    bad = [name for name in names if re.fullmatch(CHANNEL_PATTERN, name) is None]
    if bad:
        raise Invalid(
            [
                LocatedError(
                    "/channel",
                    f"'{bad[0]}' is not a channel name (lower-case letters, digits, - and _)",
                    source,
                )
            ],
            "The channel filter is invalid.",
        )
    return names
