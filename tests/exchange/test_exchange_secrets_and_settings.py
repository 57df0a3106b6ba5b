"""Exchange settings: live trading needs an explicit yes, and the keys never show in logs, reprs or messages."""

from __future__ import annotations

import logging

import pytest

from strategies.client_ids import encode
from strategies.domain import OrderSide
from tests.exchange.conftest import API_KEY, API_SECRET, exchange_settings
from tickflow.settings import ExchangeSettings, SettingsError
from workers.exchange import ExchangeBroker
from workers.orders import OrderRequest

STRATEGY = "65f1c2a9e4b0d3f7a1c2e3d4"


def test_keys_appear_in_no_log_line_repr_or_outcome_even_at_debug(venue, caplog):
    caplog.set_level(logging.DEBUG)
    broker = ExchangeBroker(exchange_settings(venue))
    venue.faults(
        {
            "action": "error",
            "status": 400,
            "code": -2010,
            "msg": "Account has insufficient balance",
            "before_booking": True,
        }
    )
    seen = [repr(broker), repr(broker.settings), str(broker.settings)]
    for size in (0.01, 0.01, 0.000001):  # rejected, filled, refused locally
        order = OrderRequest(
            encode(STRATEGY, "BTCUSDT", 1_717_200_000_000, "open"),
            STRATEGY,
            "BTCUSDT",
            OrderSide.BUY,
            size,
            60_000.0,
            0.0,
            1_717_200_000_000,
            "open",
        )
        outcome = broker.submit(order)
        seen += [repr(outcome), outcome.reason]
    seen.append(caplog.text)
    assert "order rejected: code=-2010" in caplog.text
    for text in seen:
        assert API_KEY not in text and API_SECRET not in text


def test_live_trading_needs_production_and_the_explicit_allowance():
    base = {"TICKFLOW_EXCHANGE_ENV": "live", "TICKFLOW_EXCHANGE_API_SECRET": API_SECRET}
    for env in (base, {**base, "TICKFLOW_ENV": "production"}, {**base, "TICKFLOW_ALLOW_REAL_TRADING": "1"}):
        with pytest.raises(SettingsError, match="TICKFLOW_EXCHANGE_ENV: 'live' trades real money") as refused:
            ExchangeSettings.from_env(env)
        assert API_SECRET not in str(refused.value)
    allowed = ExchangeSettings.from_env({**base, "TICKFLOW_ENV": "production", "TICKFLOW_ALLOW_REAL_TRADING": "1"})
    assert allowed.env == "live"
    assert ExchangeSettings.from_env({}).env == "testnet"


def test_the_secret_comes_from_its_variable_or_its_file_never_both(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(API_SECRET + "\n")
    read = ExchangeSettings.from_env(
        {"TICKFLOW_EXCHANGE_API_SECRET_FILE": str(secret_file), "TICKFLOW_EXCHANGE_API_KEY": API_KEY}
    )
    assert (read.api_key, read.api_secret) == (API_KEY, API_SECRET)
    assert API_KEY not in repr(read) and API_SECRET not in repr(read)
    both = {"TICKFLOW_EXCHANGE_API_SECRET_FILE": str(secret_file), "TICKFLOW_EXCHANGE_API_SECRET": API_SECRET}
    with pytest.raises(SettingsError, match="set one, not both"):
        ExchangeSettings.from_env(both)
    with pytest.raises(SettingsError, match="cannot read"):
        ExchangeSettings.from_env({"TICKFLOW_EXCHANGE_API_SECRET_FILE": str(tmp_path / "missing")})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TICKFLOW_EXCHANGE": "kraken"}, "TICKFLOW_EXCHANGE: 'kraken' is not one of binance"),
        ({"TICKFLOW_EXCHANGE_URL": "ftp://venue"}, "TICKFLOW_EXCHANGE_URL"),
        ({"TICKFLOW_EXCHANGE_URL": "http://user:pw@venue"}, "without credentials"),
        ({"TICKFLOW_EXCHANGE_TIMEOUT_S": "0"}, "TICKFLOW_EXCHANGE_TIMEOUT_S"),
        ({"TICKFLOW_EXCHANGE_RECV_WINDOW_MS": "90000"}, "TICKFLOW_EXCHANGE_RECV_WINDOW_MS"),
    ],
)
def test_a_bad_exchange_setting_is_one_line_naming_it(env, message):
    with pytest.raises(SettingsError, match=message) as refused:
        ExchangeSettings.from_env(env)
    assert "pw" not in str(refused.value)


def test_a_broker_without_keys_refuses_to_start():
    with pytest.raises(ValueError, match="TICKFLOW_EXCHANGE_API_KEY and TICKFLOW_EXCHANGE_API_SECRET"):
        ExchangeBroker(ExchangeSettings(url="http://127.0.0.1:9"))
