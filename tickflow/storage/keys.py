"""Every Redis key the platform uses, in one place.

Live state is spread over many processes (API, workers, beat); naming each key
through a function here keeps them from drifting apart and makes the whole
keyspace greppable. Every key starts with ``tf:`` so that TickFlow can share a
Redis with other software and ``SCAN tf:*`` finds all of it.
"""

from __future__ import annotations

PREFIX = "tf:"


def token_cache(token_hash: str) -> str:
    """String: a verified API token's record (JSON), kept a few minutes (``tickflow.storage.tokens``)."""
    return f"tf:token:{token_hash}"


def auth_failures(address: str) -> str:
    """String: failed authentications from ``address`` in the current minute (``tickflow.storage.lockout``)."""
    return f"{PREFIX}auth-failures:{address}"


def auth_lockout(address: str) -> str:
    """String: set while ``address`` is locked out for failing to authenticate too often; expires by itself."""
    return f"{PREFIX}auth-lockout:{address}"


def strategy_key(strategy_id: str) -> str:
    """Cached strategy (a hash of ``version`` and ``doc``), written through from MongoDB."""
    return f"{PREFIX}strategy:{strategy_id}"


def strategy_list_generation() -> str:
    """A random value replaced on every strategy write: list pages cached under an older one are stale."""
    return f"{PREFIX}strategies:generation"


# -- live engine (workers) ----------------------------------------------------------
# Live state: every key below is rebuilt from MongoDB (strategies' ``live`` flag and open
# trades in ``trade_logs``) when Redis comes back empty; see docs/live-engine.md.

LIVE = f"{PREFIX}live:"


def candle_processed(symbol: str, timeframe: str) -> str:
    """Open time (ms, as a string) of the latest closed candle of ``symbol``/``timeframe`` that is
    fully handled: every active strategy on it evaluated and executed (orders placed or none),
    or no strategy active. A lockstep replay feed waits on it before sending the next ticks."""
    return f"{LIVE}processed:{symbol}:{timeframe}"


def live_epoch() -> str:
    """Set once live state has been built (or rebuilt from MongoDB); missing means Redis came back empty."""
    return f"{LIVE}epoch"


def live_rebuild_lock() -> str:
    """Short lock so that only one worker rebuilds live state after Redis was emptied."""
    return f"{LIVE}rebuild-lock"


def live_active() -> str:
    """Hash: strategy id -> JSON of its live settings (mode, cash, symbols, timeframe)."""
    return f"{LIVE}active"


def live_subscribers(symbol: str, timeframe: str) -> str:
    """Set of ids of the active strategies trading ``symbol`` on ``timeframe``."""
    return f"{LIVE}subs:{symbol}:{timeframe}"


def live_timeframes() -> str:
    """Hash: symbol -> JSON {timeframe: working-set length} of the candles ingest keeps for it."""
    return f"{LIVE}timeframes"


def last_tick(symbol: str) -> str:
    """Hash of the latest tick of ``symbol`` by time: ``ts``, ``p`` (price), ``q`` (quantity)."""
    return f"{LIVE}tick:{symbol}"


def current_candle(symbol: str, timeframe: str) -> str:
    """Hash of the forming candle: ``t`` open time, ``o h l c v``, ``ot``/``ct`` times of its open/close ticks,
    ``n`` ticks."""
    return f"{LIVE}candle:{symbol}:{timeframe}"


def closed_candles(symbol: str, timeframe: str) -> str:
    """List of the latest closed candles, oldest first, each ``"t,o,h,l,c,v"``; capped (the working set)."""
    return f"{LIVE}candles:{symbol}:{timeframe}"


def late_ticks() -> str:
    """Hash: symbol -> count of ticks that arrived after their candle had closed (not applied)."""
    return f"{LIVE}late"


def price_path(symbol: str) -> str:
    """Stream of per-batch, per-minute price ranges (``m`` minute, ``o h l``): what stops are checked against."""
    return f"{LIVE}path:{symbol}"


def indicator_values(symbol: str, timeframe: str) -> str:
    """Hash: strategy id -> JSON of its indicator values at the last close (for the dashboard)."""
    return f"{LIVE}indicators:{symbol}:{timeframe}"


def signal(strategy_id: str, symbol: str, candle_open_ms: int) -> str:
    """JSON decision of a strategy at one close, keyed by candle time so interleaved chains never overwrite it."""
    return f"{LIVE}signal:{strategy_id}:{symbol}:{candle_open_ms}"


def last_signals() -> str:
    """Hash: ``strategy_id:symbol`` -> JSON of that pair's latest signal (for the dashboard)."""
    return f"{LIVE}signals"


def position(strategy_id: str, symbol: str) -> str:
    """Hash of one strategy's account on one symbol: the position state machine's arrays and cursors."""
    return f"{LIVE}position:{strategy_id}:{symbol}"


def stop_holders() -> str:
    """Set of ``symbol strategy_id`` pairs whose open position a stop, target or trailing stop can close.

    One set rather than one per symbol: ingest reads it once per batch, however many symbols the batch holds."""
    return f"{LIVE}stops"


def recent_orders(strategy_id: str) -> str:
    """Sorted set: client order id -> when it was sent (ms), the strategy's orders of the last minute, for
    ``risk.limits.max_orders_per_minute``; kept only for strategies with that limit."""
    return f"{LIVE}recent-orders:{strategy_id}"


def limit_stops() -> str:
    """Hash: strategy id -> JSON of the loss limit that stopped it (``risk.limits``), until it starts again."""
    return f"{LIVE}limit-stops"


def entry_pauses() -> str:
    """Hash: strategy id -> JSON of why its entries are paused (repeated balance rejections on the venue), until
    it starts again; exits keep working."""
    return f"{LIVE}entry-pauses"


def awaiting_venue() -> str:
    """Hash: ``strategy_id:symbol`` -> JSON ``since``, ``close``, ``client_order_id``, ``reason``: a live position
    whose close's orders await the venue's answer; later closes pass it by until that close is executed."""
    return f"{LIVE}awaiting-venue"


def balance_rejections() -> str:
    """Hash: strategy id -> its venue orders refused in a row for lack of balance (-2010); a fill resets it."""
    return f"{LIVE}balance-rejections"


def position_lock(strategy_id: str, symbol: str) -> str:
    """Held (SET NX, 30 s) by the one task sending a live position's venue orders until its move is stored."""
    return f"{LIVE}position-lock:{strategy_id}:{symbol}"


def order_claim(client_order_id: str) -> str:
    """Claimed (SET NX) before an order is sent, so a retried or redelivered task never sends it twice."""
    return f"{LIVE}order:{client_order_id}"


def paper_fills() -> str:
    """Hash: client order id -> JSON fill; the paper broker's book, idempotent by client order id."""
    return f"{LIVE}paper-fills"


def paper_positions() -> str:
    """Hash: ``strategy_id:symbol`` -> the paper broker's net position (signed size), moved only by new fills."""
    return f"{LIVE}paper-positions"


def equity_outbox() -> str:
    """Hash: ``strategy_id:t`` -> JSON equity point not yet confirmed in MongoDB's ``equity_history``."""
    return f"{LIVE}equity-outbox"


def trade_outbox() -> str:
    """Hash: ``trade_id:rev`` -> JSON trade record not yet confirmed in MongoDB's ``trade_logs``."""
    return f"{LIVE}outbox"


def order_outbox() -> str:
    """Hash: ``client_order_id:state`` -> JSON order ledger record not yet confirmed in MongoDB's ``orders``."""
    return f"{LIVE}order-outbox"


def venue_reconciled() -> str:
    """When the venue reconciliation last completed (ms); absent, live orders wait for a pass
    (``workers.reconcile``)."""
    return f"{LIVE}venue-reconciled"


def venue_reconcile_lock() -> str:
    """Held (SET NX, with a TTL) by the one process running the venue reconciliation."""
    return f"{LIVE}venue-reconcile-lock"


def venue_reported() -> str:
    """Set of venue order ids the reconciliation reported as foreign already (each is reported once)."""
    return f"{LIVE}venue-reported"


def live_events() -> str:
    """Capped stream of candle closes, signals, orders, fills, mismatches and job progress
    (``tickflow.storage.events``), served by the stream process (``app.stream``)."""
    return f"{LIVE}events"


def stream_ticket(ticket: str) -> str:
    """A ticket that opens the live stream once (``GETDEL``), within its TTL; made by ``POST /live/stream/ticket``."""
    return f"{PREFIX}stream-ticket:{ticket}"


def reconcile_status() -> str:
    """Hash: the latest reconciliation of positions against the broker: when, how many, which differ."""
    return f"{LIVE}reconcile"


def halt() -> str:
    """Hash: the kill switch (``tickflow.storage.halt``): ``since`` ms, ``flatten`` 0/1, ``by``, ``reason``.
    Present while trading is halted; the one live key that is not rebuilt from live state but from its own
    MongoDB mirror (``controls``), so an emptied Redis does not lift a halt."""
    return f"{LIVE}halt"


def stale_symbols() -> str:
    """Set of the live symbols found stale at the last liveness check (``workers.maintenance.check_liveness``)."""
    return f"{LIVE}stale"


def ingested_batches(source: str, block: int) -> str:
    """Bitmap of the tick batches of one feed run (``source``) already applied, a bit per batch number within
    ``block`` (``workers.ticks.batch_marker``); kept a day after its last batch: a redelivery counts once."""
    return f"{LIVE}batches:{source}:{block}"


def quarantined_ticks() -> str:
    """Hash: symbol -> count of ticks quarantined (``workers.quarantine``: stamped in the future, or off the price
    band), never applied."""
    return f"{LIVE}quarantined"


def venue_limits(venue: str) -> str:
    """Hash: ``minute`` (Redis clock, ms // 60,000), ``used`` (request weight spent in it) and ``until`` (ms
    before which no request may go: a venue's Retry-After) of one venue's IP limit, shared by every process that
    calls the venue (``workers.venue_limits``); expires a minute or two after its last use."""
    return f"{PREFIX}venue-limits:{venue}"
