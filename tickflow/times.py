"""Reading times that users type: ISO-8601 or epoch numbers, to epoch milliseconds.

One rule everywhere (candle files, API query bounds, CLI options): an epoch
number below 10**11 is seconds, below 10**14 milliseconds. 10**11 seconds is
the year 5138 and 10**11 milliseconds is March 1973, so real data never sits
on the boundary. A time is a whole number of milliseconds; a finer one is an
error rather than something silently truncated onto another candle.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

EPOCH_SECONDS_BELOW = 10**11
EPOCH_MILLISECONDS_BELOW = 10**14
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_number_ms(value: float) -> int:
    """Epoch seconds or milliseconds (told by magnitude) as whole milliseconds."""
    if not 0 <= value < EPOCH_MILLISECONDS_BELOW:
        raise ValueError(f"{value:g} is not an epoch time in seconds or milliseconds")
    ms = value * 1000 if value < EPOCH_SECONDS_BELOW else value
    whole = round(ms)
    if abs(ms - whole) > 1e-3:
        raise ValueError(f"{value!r} has a fraction of a millisecond")
    return whole


def parse_time_ms(text: str) -> int:
    """``2024-01-01T00:00:00Z``, ``2024-01-01`` (UTC when no offset), ``1704067200`` or ``1704067200000``."""
    text = text.strip()
    if _NUMBER.fullmatch(text):
        return epoch_number_ms(float(text))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO-8601 time or an epoch number") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment.microsecond % 1000:
        raise ValueError(f"{text!r} has a fraction of a millisecond")
    delta = moment - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000
