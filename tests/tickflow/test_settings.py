import os
import re

import pytest

from tickflow.settings import (
    DEFAULT_MONGO_URI,
    DEFAULT_REDIS_URL,
    LiveSettings,
    Settings,
    SettingsError,
    env_number,
    server_location,
)


def test_with_no_environment_the_defaults_point_at_the_local_services():
    settings = Settings.from_env({})
    assert settings.redis_url == DEFAULT_REDIS_URL
    assert settings.mongo_uri == DEFAULT_MONGO_URI
    assert settings.mongo_db_name == "tickflow"
    assert settings.api_port == 8000


def test_the_celery_broker_and_backend_follow_redis_url_unless_set():
    settings = Settings.from_env({"REDIS_URL": "redis://cache.internal:6379/3"})
    assert settings.celery_broker_url == "redis://cache.internal:6379/3"
    assert settings.celery_result_backend == "redis://cache.internal:6379/3"
    settings = Settings.from_env({"CELERY_BROKER_URL": "redis://broker:6379/1"})
    assert settings.celery_broker_url == "redis://broker:6379/1"


def test_the_database_name_comes_from_the_mongo_uri_path():
    assert (
        Settings.from_env({"MONGO_URI": "mongodb+srv://u:p@cluster.example/prod_db?retryWrites=true"}).mongo_db_name
        == "prod_db"
    )


def test_logs_are_logfmt_unless_json_is_asked_for():
    assert Settings.from_env({}).log_format == "logfmt"
    assert Settings.from_env({"LOG_FORMAT": "JSON"}).log_format == "json"


def test_cors_origins_are_a_comma_separated_list():
    settings = Settings.from_env({"CORS_ORIGINS": "https://ui.example.com/, http://localhost:3000"})
    assert settings.cors_origins == ("https://ui.example.com", "http://localhost:3000")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MONGO_URI": "postgres://db"}, "MONGO_URI: 'postgres://db' is not a URL with scheme mongodb://"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL:"),
        (
            {"REDIS_URL": "redis://localhost:99999/0"},
            "REDIS_URL: 'redis://localhost:99999/0' is malformed: Port out of range",
        ),
        (
            {"REDIS_URL": "redis://:hunter2@localhost:99999/0"},
            "REDIS_URL: 'redis://:***@localhost:99999/0' is malformed",
        ),
        ({"MONGO_URI": "mongodb://a:b:c/x"}, "MONGO_URI: 'mongodb://a:b:c/x' is malformed: Reserved characters"),
        ({"MONGO_URI": "mongodb://u:secret@host:port/db"}, "MONGO_URI: 'mongodb://u:***@host:port/db' is malformed"),
        ({"API_PORT": "eighty"}, "API_PORT: 'eighty' is not a whole number"),
        ({"API_PORT": "70000"}, "API_PORT: 70000 is outside 1..65535"),
        ({"TICKFLOW_ENV": "production"}, "SECRET_KEY: required when TICKFLOW_ENV=production"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY: must be at least 16 characters"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL: 'LOUD' is not one of"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT: 'xml' is not one of logfmt, json"),
        ({"CORS_ORIGINS": "ftp://x"}, "CORS_ORIGINS: 'ftp://x' is not an http(s) origin"),
        (
            {"CORS_ORIGINS": "https://ui.example.com/app"},
            "CORS_ORIGINS: 'https://ui.example.com/app' is not an http(s) origin",
        ),
    ],
)
def test_a_malformed_setting_fails_with_one_line_naming_it(env, message):
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env(env)
    assert str(excinfo.value).startswith(message)
    assert "\n" not in str(excinfo.value)


def test_the_cli_reports_a_bad_setting_in_one_line_and_exits_1(cli_with_env):
    assert cli_with_env("API_PORT", "nope") == (1, "tickflow: API_PORT: 'nope' is not a whole number\n")


def test_a_number_setting_is_its_default_when_unset_and_parsed_as_its_kind_otherwise():
    assert env_number({}, "N", 7, int) == 7 and env_number({"N": ""}, "N", 7.0, float) == 7.0
    assert env_number({"N": "12"}, "N", 7, int) == 12
    assert env_number({"N": "0.25"}, "N", 7.0, float) == 0.25
    assert env_number({"N": "0"}, "N", 7, int) == 0  # non-negative unless told otherwise


@pytest.mark.parametrize(
    ("raw", "kind", "bounds", "message"),
    [
        ("1.5", int, (), "N: '1.5' is not a whole number"),
        ("soon", float, (), "N: 'soon' is not a number"),
        ("nan", float, (), "N: 'nan' is not a number"),
        ("-1", float, (), "N: -1.0 is below 0"),
        ("0", int, (1, 10), "N: 0 is outside 1..10"),
    ],
)
def test_a_malformed_number_setting_is_one_line_naming_it(raw, kind, bounds, message):
    with pytest.raises(SettingsError) as excinfo:
        env_number({"N": raw}, "N", kind(1), kind, *bounds)
    assert str(excinfo.value) == message


def test_the_live_engine_settings_are_checked_the_same_way(monkeypatch):
    from tickflow.settings import LiveSettings
    from workers.maintenance import IDLE_ENV, prune_idle_s

    monkeypatch.setenv("TICKFLOW_LIVE_STALE_CANDLES", "-1")
    with pytest.raises(SettingsError, match=r"^TICKFLOW_LIVE_STALE_CANDLES: -1.0 is below 0$"):
        LiveSettings.from_env()
    monkeypatch.setenv(IDLE_ENV, "0.5")
    assert prune_idle_s() == 43_200
    monkeypatch.setenv(IDLE_ENV, "a week")
    with pytest.raises(SettingsError, match=rf"^{IDLE_ENV}: 'a week' is not a number$"):
        prune_idle_s()


@pytest.mark.parametrize("stale_candles", [0.5, 1.0, 2.5])
def test_a_closes_signals_and_claims_outlive_the_last_moment_any_task_acts_on_it(stale_candles):
    """Every task drops a close ``stale_candles`` periods after it was seen; its keys live a period and
    ten minutes longer, and the paper broker's fills as long as the longest of them."""
    from strategies.candles import TIMEFRAME_MS

    settings = LiveSettings(stale_candles=stale_candles)
    for period_ms in TIMEFRAME_MS.values():
        assert settings.close_retention_s(period_ms) * 1000 >= (stale_candles + 1) * period_ms + 600_000
    assert LiveSettings().close_retention_s(TIMEFRAME_MS["1m"]) == 12 * 60
    assert settings.fill_retention_s == max(settings.close_retention_s(p) for p in TIMEFRAME_MS.values())


def test_the_operators_risk_limits_are_unset_by_default_and_checked_like_the_specs(monkeypatch):
    from strategies.spec import RiskLimits
    from tickflow.settings import LiveSettings

    assert LiveSettings.from_env().limits == RiskLimits()
    monkeypatch.setenv("TICKFLOW_RISK_MAX_DAILY_LOSS", "0.05")
    monkeypatch.setenv("TICKFLOW_RISK_MAX_ORDERS_PER_MINUTE", "20")
    assert LiveSettings.from_env().limits == RiskLimits(max_daily_loss=0.05, max_orders_per_minute=20)
    monkeypatch.setenv("TICKFLOW_RISK_MAX_DRAWDOWN", "1")
    with pytest.raises(SettingsError, match=r"^TICKFLOW_RISK_MAX_DRAWDOWN: 1.0 is not between 0 and 1, both excluded"):
        LiveSettings.from_env()
    monkeypatch.setenv("TICKFLOW_RISK_MAX_DRAWDOWN", "")
    monkeypatch.setenv("TICKFLOW_RISK_MAX_ORDERS_PER_MINUTE", "2.5")
    with pytest.raises(SettingsError, match=r"^TICKFLOW_RISK_MAX_ORDERS_PER_MINUTE: '2.5' is not a whole number$"):
        LiveSettings.from_env()


def test_the_stricter_of_two_sets_of_limits_takes_each_limit_from_whichever_is_tighter():
    from strategies.spec import RiskLimits

    spec = RiskLimits(max_daily_loss=0.05, max_drawdown=0.2)
    operator = RiskLimits(max_daily_loss=0.1, max_total_exposure=50_000)
    assert spec.stricter(operator) == RiskLimits(max_daily_loss=0.05, max_drawdown=0.2, max_total_exposure=50_000)


def test_a_server_is_named_by_host_port_and_path_without_credentials():
    assert server_location("mongodb://tickflow:s3cret@db.internal:27017/prod?tls=true") == "db.internal:27017/prod"
    assert server_location("redis://:p@ss@cache:6379/1") == "cache:6379/1"


def test_an_env_file_fills_in_what_the_environment_does_not_set(tmp_path, monkeypatch):
    from tickflow.settings import load_env_file

    env_file = tmp_path / ".env"
    env_file.write_text(
        "# comment\nAPI_PORT=9001\nexport LOG_LEVEL='debug'\nREDIS_URL=redis://ignored:1/0\n"
        'SECRET_KEY="ends-with-a-quote\'"\n'
    )
    monkeypatch.setattr(os, "environ", {"REDIS_URL": "redis://kept:6379/0"})
    load_env_file(env_file)
    settings = Settings.from_env()
    assert (settings.api_port, settings.log_level, settings.redis_url) == (9001, "DEBUG", "redis://kept:6379/0")
    assert settings.secret_key == "ends-with-a-quote'"


def test_a_malformed_env_file_line_is_reported_with_its_line_number(tmp_path):
    from tickflow.settings import load_env_file

    env_file = tmp_path / ".env"
    env_file.write_text("API_PORT=1\nthis is not a setting\n")
    with pytest.raises(SettingsError, match=r"\.env:2: expected KEY=value"):
        load_env_file(env_file)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FLOWER_PASSWORD": "short"}, "FLOWER_PASSWORD: must be at least 12 characters"),
        ({"FLOWER_USER": "ad:min"}, "FLOWER_USER: 'ad:min' may contain neither ':' nor spaces"),
        ({"FLOWER_PORT": "0"}, "FLOWER_PORT: 0 is outside 1..65535"),
        ({"STREAM_PORT": "http"}, "STREAM_PORT: 'http' is not a whole number"),
        ({"STREAM_URL": "ws://x/stream"}, "STREAM_URL: 'ws://x/stream' is not an http(s) URL"),
        ({"STREAM_URL": "https://x:99999/stream"}, "STREAM_URL: 'https://x:99999/stream' is not an http(s) URL"),
        ({"STREAM_URL": "https://x/stream?ticket=1"}, "STREAM_URL: 'https://x/stream?ticket=1' is not an http(s) URL"),
    ],
)
def test_flower_and_stream_settings_are_checked(env, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.from_env(env)


def test_flower_settings_defaults():
    settings = Settings.from_env({})
    assert (settings.flower_host, settings.flower_port, settings.flower_user, settings.flower_password) == (
        "127.0.0.1",
        5555,
        "admin",
        "",
    )
    production = Settings.from_env(
        {"TICKFLOW_ENV": "production", "SECRET_KEY": "x" * 32, "FLOWER_PASSWORD": "p" * 16, "FLOWER_USER": "ops"}
    )
    assert (production.flower_user, production.flower_password) == ("ops", "p" * 16)


def test_the_stream_listens_on_loopback_port_8001_unless_told_otherwise():
    settings = Settings.from_env({})
    assert (settings.stream_host, settings.stream_port, settings.stream_url) == ("127.0.0.1", 8001, "")
    proxied = Settings.from_env({"STREAM_URL": "https://tf.example.com/api/v1/live/stream", "STREAM_PORT": "9001"})
    assert (proxied.stream_port, proxied.stream_url) == (9001, "https://tf.example.com/api/v1/live/stream")


def test_redis_and_mongodb_timeouts_default_to_seconds_and_are_read_in_seconds():
    defaults = Settings.from_env({})
    assert (defaults.redis_connect_timeout_s, defaults.redis_socket_timeout_s) == (5.0, 5.0)
    assert (defaults.mongo_connect_timeout_s, defaults.mongo_socket_timeout_s) == (5.0, 30.0)
    assert Settings.from_env({"REDIS_SOCKET_TIMEOUT_S": "2.5"}).redis_socket_timeout_s == 2.5
    with pytest.raises(SettingsError, match=r"^MONGO_SOCKET_TIMEOUT_S: 0.0 is outside"):
        Settings.from_env({"MONGO_SOCKET_TIMEOUT_S": "0"})


def test_a_worker_pool_process_is_bounded_to_a_gigabyte_unless_told_otherwise():
    assert Settings.from_env({}).worker_max_memory_mb == 1024
    assert Settings.from_env({"TICKFLOW_WORKER_MAX_MEMORY_MB": "2048"}).worker_max_memory_mb == 2048
    with pytest.raises(SettingsError, match=r"^TICKFLOW_WORKER_MAX_MEMORY_MB: 10 is outside"):
        Settings.from_env({"TICKFLOW_WORKER_MAX_MEMORY_MB": "10"})


PRODUCTION = {
    "TICKFLOW_ENV": "production",
    "SECRET_KEY": "k" * 64,
    "CORS_ORIGINS": "https://app.example.com",
    "FLOWER_PASSWORD": "f" * 32,
}


def test_production_starts_with_a_real_secret_listed_origins_and_a_flower_password():
    settings = Settings.from_env(PRODUCTION)
    assert (settings.environment, settings.cors_origins) == ("production", ("https://app.example.com",))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY: required when TICKFLOW_ENV=production"),
        ({"SECRET_KEY": "dev-only-secret-change-me"}, "SECRET_KEY: the development default cannot be used"),
        ({"SECRET_KEY": "change-me-to-a-long-random-string"}, "SECRET_KEY: the development default cannot be used"),
        ({"CORS_ORIGINS": "*"}, "CORS_ORIGINS: '*' is not allowed when TICKFLOW_ENV=production"),
        ({"CORS_ORIGINS": "https://app.example.com,*"}, "CORS_ORIGINS: '*' is not allowed"),
        ({"FLOWER_PASSWORD": ""}, "FLOWER_PASSWORD: required when TICKFLOW_ENV=production"),
        ({"FLOWER_PASSWORD": "change-me-to-a-long-random-string"}, "FLOWER_PASSWORD: required when"),
    ],
)
def test_production_refuses_to_start_with_a_development_secret_any_origin_or_no_flower_password(change, message):
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env({**PRODUCTION, **change})
    assert str(excinfo.value).startswith(message)
    assert "\n" not in str(excinfo.value)
    assert "(" in str(excinfo.value)  # and says what to set


def test_development_accepts_the_defaults_and_any_origin():
    assert Settings.from_env({"CORS_ORIGINS": "*"}).cors_origins == ("*",)
