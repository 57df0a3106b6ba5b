"""Client order ids a venue accepts that still say why an order exists.

TickFlow names an order by its decision -- strategy, symbol, candle and action -- so that
computing the same decision twice yields the same id. Binance (and most venues) take at most
36 characters of ``[a-zA-Z0-9-_]``; the readable ``{strategy}-{symbol}-{candle ms}-{action}``
is 51-60. This module packs the same four facts into 32 characters of that alphabet, fixed
width, in fields of base64url (whose 64 characters are exactly the venue's alphabet)::

    tf1 SSSSSSSSSSSSSSSS YYYY CCCCCCCC A
    |   |                |    |        action: one character from ACTIONS
    |   |                |    candle open in ms, 48 bits (to the year 10889)
    |   |                symbol code: the first 24 bits of the symbol's SHA-256
    |   strategy id: the 12 bytes of its 24-hex MongoDB ObjectId
    prefix and format version: tells our orders from foreign ones on a shared account

The symbol is the one field that is not reversible on its own: 24 bits of a hash keep the id
short whatever the symbol's length. Decoding takes the strategy's symbols and picks the one
whose code matches; ``distinct_symbol_codes`` checks beforehand that no two of a strategy's
symbols share a code (one chance in ~16.7 million per pair), so a strategy with such a pair can
be refused at start rather than misread later.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from types import MappingProxyType

from strategies.domain import ExitReason

PREFIX = "tf1"
LENGTH = 32
VENUE_CLIENT_ID = re.compile(r"^[a-zA-Z0-9-_]{1,36}$")
"""What Binance accepts as ``newClientOrderId`` (anything else is refused with -1100)."""

ACTIONS: MappingProxyType[str, str] = MappingProxyType(
    {
        "open": "o",
        "close": "c",
        ExitReason.SIGNAL.value: "s",
        ExitReason.REVERSAL.value: "r",
        ExitReason.STOP_LOSS.value: "l",
        ExitReason.TAKE_PROFIT.value: "p",
        ExitReason.TRAILING_STOP.value: "t",
        ExitReason.END.value: "e",
        ExitReason.LIMIT.value: "m",
    }
)
"""Action -> its one-character code. Codes are never reused for another action: ids outlive releases."""
_ACTION_OF = {code: action for action, code in ACTIONS.items()}
_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
_CANDLE_BYTES = 6
_CANDLE_AT = 23
"""Where the candle field starts: after the prefix (3), the strategy (16) and the symbol code (4)."""


class ClientIdError(ValueError):
    """An id cannot be made from these values, or a string is not an id this module made; the message says why."""


@dataclass(frozen=True)
class Decoded:
    """What a client order id says: the decision that made the order."""

    strategy_id: str
    symbol: str
    candle_open_ms: int
    action: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii"))


def symbol_code(symbol: str) -> str:
    """Four characters that stand for ``symbol`` in an id: base64url of its SHA-256's first 3 bytes."""
    if not symbol:
        raise ClientIdError("symbol: empty")
    return _b64(hashlib.sha256(symbol.encode("utf-8")).digest()[:3])


def encode(strategy_id: str, symbol: str, candle_open_ms: int, action: str) -> str:
    """The id of ``strategy_id``'s order ``action`` on ``symbol`` in the candle opening at ``candle_open_ms``."""
    if not _OBJECT_ID.match(strategy_id):
        raise ClientIdError(f"strategy id {strategy_id!r}: not a 24-character lowercase hex ObjectId")
    if action not in ACTIONS:
        raise ClientIdError(f"action {action!r}: not one of {', '.join(ACTIONS)}")
    if isinstance(candle_open_ms, bool) or not isinstance(candle_open_ms, int):
        raise ClientIdError(f"candle open {candle_open_ms!r}: not a whole number of milliseconds")
    if not 0 <= candle_open_ms < 1 << (8 * _CANDLE_BYTES):
        raise ClientIdError(f"candle open {candle_open_ms}: outside 0..2^48 ms")
    return (
        PREFIX
        + _b64(bytes.fromhex(strategy_id))
        + symbol_code(symbol)
        + _b64(candle_open_ms.to_bytes(_CANDLE_BYTES, "big"))
        + ACTIONS[action]
    )


def order_prefix(strategy_id: str, symbol: str) -> str:
    """What every id of ``strategy_id``'s orders on ``symbol`` starts with (prefix, strategy, symbol code)."""
    return encode(strategy_id, symbol, 0, "open")[:_CANDLE_AT]


def is_ours(client_id: str) -> bool:
    """Whether a venue's order carries an id of this format (else it is foreign: placed by hand or another bot)."""
    return len(client_id) == LENGTH and client_id.startswith(PREFIX) and VENUE_CLIENT_ID.match(client_id) is not None


def decode_strategy(client_id: str) -> str:
    """The strategy id in ``client_id``: enough to find the strategy whose symbols ``decode`` needs."""
    if not is_ours(client_id):
        raise ClientIdError(f"{client_id!r}: not a TickFlow client order id ({LENGTH} characters starting {PREFIX!r})")
    return _unb64(client_id[3:19]).hex()


def decode(client_id: str, symbols: Iterable[str]) -> Decoded:
    """Strategy, symbol, candle and action of ``client_id``; ``symbols`` are the strategy's, one of which it names."""
    strategy_id = decode_strategy(client_id)
    code, candle, action_code = client_id[19:_CANDLE_AT], client_id[_CANDLE_AT:31], client_id[31]
    matching = sorted({symbol for symbol in symbols if symbol_code(symbol) == code})
    if len(matching) != 1:
        found = "none" if not matching else " and ".join(matching)
        raise ClientIdError(f"{client_id!r}: symbol code {code!r} matches {found} of the strategy's symbols")
    if action_code not in _ACTION_OF:
        raise ClientIdError(f"{client_id!r}: unknown action code {action_code!r}")
    return Decoded(strategy_id, matching[0], int.from_bytes(_unb64(candle), "big"), _ACTION_OF[action_code])


def distinct_symbol_codes(symbols: Iterable[str]) -> None:
    """Raise ``ClientIdError`` if two of ``symbols`` share a code, so ids on them could not be told apart."""
    seen: dict[str, str] = {}
    for symbol in symbols:
        other = seen.setdefault(symbol_code(symbol), symbol)
        if other != symbol:
            raise ClientIdError(f"symbols {other} and {symbol} share the client id code {symbol_code(symbol)!r}")
