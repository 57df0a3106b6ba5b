"""A local venue speaking Binance spot's REST API, for tests and the sandbox: its process and its control client.

``LocalVenue.start(log)`` runs ``cli.venue.server`` as a process of its own on a free port
(a killed worker cannot take it down) and waits until it answers; point ccxt at ``url``
(``TICKFLOW_EXCHANGE_URL``). The methods below set its market up and inject faults through
its ``/_venue/`` endpoints; ``state()`` shows what it booked and how many requests it got.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

from cli.localservices import ProcfileProcess, free_port

ROOT = Path(__file__).resolve().parents[2]


class LocalVenue:
    """One running ``cli.venue.server`` process and the client that drives it."""

    def __init__(self, process: ProcfileProcess, port: int, api_key: str) -> None:
        self.process, self.port, self.api_key = process, port, api_key

    @classmethod
    def start(cls, log: Path, api_key: str, api_secret: str) -> LocalVenue:
        """Start the server on a free port with this key pair; ``ServiceError`` with its log if it never answers."""
        port = free_port()
        line = f"{sys.executable} -m cli.venue.server --port {port} --api-key {api_key} --api-secret {api_secret}"
        process = ProcfileProcess(line, {}, log, ROOT)
        process.wait_answering(f"http://127.0.0.1:{port}/api/v3/ping", timeout=30)
        return cls(process, port, api_key)

    @property
    def url(self) -> str:
        """The REST base ccxt is pointed at (``TICKFLOW_EXCHANGE_URL``)."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.stop()

    def _control(self, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/_venue/{path}", data=data, method="POST" if data else "GET")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def symbol(self, symbol: str, base: str, quote: str, **fields: object) -> dict:
        """Add or change a symbol: filters (``step``, ``min_qty``, ``min_notional``, ...), ``price`` and ``depth``
        (one level each side), or ``asks``/``bids`` as ``[[price, quantity], ...]``."""
        return self._control("symbol", {"symbol": symbol, "base": base, "quote": quote, **fields})

    def balance(self, **free: float | str) -> dict:
        """Set free balances, e.g. ``balance(USDT=10000, BTC=0)``."""
        return self._control("balance", {asset: str(value) for asset, value in free.items()})

    def klines(self, symbol: str, interval: str, period_ms: int, rows: list[list]) -> dict:
        """Serve these candles, ``[open ms, open, high, low, close, volume]``, on ``/api/v3/klines``."""
        return self._control("klines", {"symbol": symbol, "interval": interval, "period_ms": period_ms, "rows": rows})

    def clock(self, skew_ms: int) -> dict:
        """Run the venue's clock ``skew_ms`` ahead of the machine's (behind when negative)."""
        return self._control("clock", {"skew_ms": skew_ms})

    def limits(
        self, weight: int | None = None, retry_after_s: int | None = None, banned_s: float | None = None
    ) -> dict:
        """The weight allowed per minute; or refuse everything with 429 and this ``Retry-After`` (0 stops it);
        or refuse everything for the next ``banned_s`` seconds, ``Retry-After`` counting down, then serve again."""
        body = {"weight": weight, "retry_after_s": retry_after_s, "banned_s": banned_s}
        return self._control("limits", {k: v for k, v in body.items() if v is not None})

    def faults(self, *faults: dict) -> dict:
        """What the next order placements do, one fault each: ``{"action": "delay", "seconds": 2}``,
        ``{"action": "drop"}``, ``{"action": "error", "status": 503, "code": -1007}``; each after booking the
        order, or instead of booking it with ``"before_booking": True``."""
        return self._control("faults", {"faults": list(faults)})

    def fee_asset(self, asset: str | None) -> dict:
        """Charge fees in ``asset`` (``"BNB"``), 25 % off, when the account holds enough of it; None: in the asset
        received, as by default. It is priced on the ``<asset><quote>`` symbol, which must be listed."""
        return self._control("fee_asset", {"asset": asset})

    def trades_behind(self, answers: int) -> dict:
        """The next ``answers`` ``myTrades`` answers leave out their newest trade, as a lagging trade list would."""
        return self._control("trades_behind", {"answers": answers})

    def reset(self) -> dict:
        """Forget every symbol, balance, order, fault, skew and limit: a fresh venue, same process and keys."""
        return self._control("reset", {})

    def state(self) -> dict:
        """Orders (with fills), trades, balances as ``[free, locked]``, requests per endpoint, faults not yet used."""
        return self._control("state")
