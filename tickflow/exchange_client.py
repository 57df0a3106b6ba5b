"""One place that builds a ccxt client from ``ExchangeSettings`` and points it at the venue.

Trading (``workers.exchange``) and history downloads (``tickflow.history``) talk to the same
venue through the same client set-up: ccxt's id, the request timeout, spot markets only, and
``TICKFLOW_EXCHANGE_URL`` replacing ccxt's REST base (a local venue or a self-hosted gateway).
ccxt's own rate limiter is off: it counts per client, while the venue counts per IP, so each
caller paces itself and honours the venue's ``Retry-After``.

ccxt's debug log prints request headers, the API key among them, so it is held at INFO whatever
``LOG_LEVEL`` says.
"""

from __future__ import annotations

import logging

import ccxt
import requests

from tickflow.settings import ExchangeSettings

logging.getLogger("ccxt").setLevel(max(logging.INFO, logging.getLogger("ccxt").level))


def ccxt_client(settings: ExchangeSettings, *, signed: bool, session: requests.Session | None = None) -> ccxt.Exchange:
    """A synchronous ccxt client for ``settings.exchange``.

    ``signed``: with the API keys, on the testnet unless ``settings.env`` is ``live`` (orders and
    balances). Without: no keys and the venue's production market data, since a testnet's candles
    are not the market's history (klines are public and need no key). ``settings.url``, when set,
    replaces both.
    """
    config: dict = {
        "timeout": int(settings.timeout_s * 1000),
        "enableRateLimit": False,
        "options": {
            "fetchMarkets": {"types": ["spot"]},
            "fetchCurrencies": False,
            "fetchMargins": False,
            "recvWindow": settings.recv_window_ms,
        },
    }
    if signed:  # signed requests carry our clock: measure how far it is from the venue's when markets load
        config.update(apiKey=settings.api_key, secret=settings.api_secret)
        config["options"]["adjustForTimeDifference"] = True
    if session is not None:
        config["session"] = session
    client = getattr(ccxt, settings.exchange)(config)
    if settings.url:
        base = f"{settings.url}/api/v3"
        client.urls["api"] = {**client.urls["api"], "public": base, "private": base}
    elif signed and settings.env == "testnet":
        client.set_sandbox_mode(True)
    return client
