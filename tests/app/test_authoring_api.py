"""Strategy authoring through the API: checking a spec without saving it, and the indicator catalogue."""

from strategies.examples import load_example

VALIDATE = "/api/v1/strategies/validate"


def test_a_valid_spec_is_checked_without_being_stored(client, auth_headers, db):
    response = client.post(VALIDATE, json=load_example("sma_cross"), headers=auth_headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["valid"] is True and body["spec"]["name"] == load_example("sma_cross")["name"]
    fast, slow = body["indicators"]["fast"], body["indicators"]["slow"]
    assert fast["function"] == "SMA" and fast["pane"] == "price" and fast["series"] == ["fast"]
    assert fast["params"]["timeperiod"] == load_example("sma_cross")["params"]["fast"]  # $fast resolved
    assert slow["lookback"] == slow["params"]["timeperiod"] - 1
    assert body["warmup_bars"] == slow["lookback"] + 1  # a cross also reads the bar before
    assert db.strategies.count_documents({}) == 0


def test_an_oscillator_with_several_outputs_is_drawn_in_a_pane_of_its_own(client, auth_headers):
    body = client.post(VALIDATE, json=load_example("macd_trend_atr_stop"), headers=auth_headers).json
    macd = next(indicator for indicator in body["indicators"].values() if indicator["function"] == "MACD")
    assert macd["pane"] == "separate" and len(macd["series"]) == 3


def test_an_invalid_spec_gets_every_error_at_its_path_and_nothing_is_stored(client, auth_headers, db):
    doc = {**load_example("sma_cross"), "timeframe": "7m", "bogus": 1}
    doc["indicators"]["fast"]["params"]["timeperiod"] = 0
    response = client.post(VALIDATE, json=doc, headers=auth_headers)
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    assert {"timeframe", "bogus", "indicators.fast.params"} <= set(errors)
    assert "timeperiod=0" in errors["indicators.fast.params"][0]
    assert db.strategies.count_documents({}) == 0


def test_validate_refuses_what_is_not_a_json_object(client, auth_headers):
    assert client.post(VALIDATE, json=[1, 2], headers=auth_headers).status_code == 422
    response = client.post(VALIDATE, data="{", headers={**auth_headers, "Content-Type": "application/json"})
    assert response.status_code == 400


def test_the_catalogue_lists_every_talib_function_with_groups_panes_params_and_bounds(client, auth_headers):
    response = client.get("/api/v1/indicators", headers=auth_headers)
    assert response.status_code == 200
    functions = {entry["function"]: entry for entry in response.json}
    assert len(functions) > 150
    sma, rsi, bbands = functions["SMA"], functions["RSI"], functions["BBANDS"]
    assert (sma["group"], sma["pane"]) == ("Overlap Studies", "price")
    assert (rsi["group"], rsi["pane"]) == ("Momentum Indicators", "separate")
    assert sma["inputs"] == [{"name": "real", "default": "close"}] and sma["outputs"] == ["real"]
    [period] = rsi["params"]
    assert period == {"name": "timeperiod", "default": 14, "type": "integer", "minimum": 2, "maximum": 100000}
    deviations = next(param for param in bbands["params"] if param["name"] == "nbdevup")
    assert deviations["type"] == "number" and deviations["minimum"] is None and deviations["maximum"] is None
    assert bbands["outputs"] == ["upperband", "middleband", "lowerband"]


def test_the_catalogue_agrees_with_the_validator_on_a_params_bounds(client, auth_headers):
    rsi = next(e for e in client.get("/api/v1/indicators", headers=auth_headers).json if e["function"] == "RSI")
    low = rsi["params"][0]["minimum"]
    doc = load_example("rsi_mean_reversion")
    name = next(n for n, i in doc["indicators"].items() if i["function"] == "RSI")
    for value, status in ((low, 200), (low - 1, 422)):
        doc["indicators"][name]["params"]["timeperiod"] = value
        assert client.post(VALIDATE, json=doc, headers=auth_headers).status_code == status
