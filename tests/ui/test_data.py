"""Data: the stored series with their ranges and counts, a preview chart, and CSV imports (the summary, or the
line-numbered error at the file)."""

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.ui.conftest import shot
from tickflow.storage.candles import CandleStore
from tickflow.synthetic import generate_candles

HEADER = "timestamp,open,high,low,close,volume\n"


def test_a_stored_series_is_listed_and_previewed(logged_in: Page, db):
    CandleStore(db).upsert("BTCUSDT", "1h", generate_candles(2_000, "1h", seed=3))
    page = logged_in
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data").click()
    row = page.get_by_test_id("series-row")
    expect(row).to_have_count(1)
    for text in ("BTCUSDT", "1h", "2024-01-01 00:00 UTC", "2024-03-24 07:00 UTC", "2,000"):
        expect(row).to_contain_text(text)

    # The last 500 candles, drawn.
    expect(page.get_by_role("heading", name="Preview: BTCUSDT 1h")).to_be_visible()
    expect(page.get_by_test_id("preview-caption")).to_have_text(
        "The last 500 of 2,000 candles: 2024-03-03 12:00 UTC → 2024-03-24 07:00 UTC"
    )
    expect(page.get_by_test_id("candle-chart").locator("canvas").first).to_be_visible()
    shot(page, "data")


def test_a_csv_import_shows_its_summary_and_a_bad_file_its_line(logged_in: Page, tmp_path: Path):
    page = logged_in
    page.goto("/data")
    expect(page.get_by_text("No candles stored yet")).to_be_visible()

    good = tmp_path / "ethusdt-15m.csv"
    rows = [
        f"2024-02-01T{hour:02d}:{minute:02d}:00Z,50,51,49,50.5,3" for hour in range(2) for minute in (0, 15, 30, 45)
    ]
    good.write_text(HEADER + "\n".join(rows) + "\n")
    page.get_by_label("CSV file").set_input_files(good)
    expect(page.get_by_label("Symbol")).to_have_value("ETHUSDT")  # read from the file's name
    expect(page.get_by_label("Timeframe")).to_have_value("15m")
    page.get_by_role("button", name="Import candles").click()
    summary = page.get_by_test_id("import-summary")
    expect(summary).to_contain_text("Imported ethusdt-15m.csv into ETHUSDT 15m")
    expect(summary).to_contain_text("8 candles read: 8 new, 0 updated, 0 unchanged")
    row = page.get_by_test_id("series-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(re.compile(r"ETHUSDT\s*15m\s*2024-02-01 00:00 UTC\s*2024-02-01 01:45 UTC\s*8"))
    expect(page.get_by_test_id("preview-caption")).to_contain_text("All 8 candles: 2024-02-01 00:00 UTC")

    bad = tmp_path / "broken.csv"
    bad.write_text(HEADER + "2024-02-02T00:00:00Z,50,51,49,50.5,3\n2024-02-02T00:15:00Z,50,51,49,n/a,3\n")
    page.get_by_label("CSV file").set_input_files(bad)
    page.get_by_label("Symbol").fill("ETHUSDT")
    page.get_by_role("button", name="Import candles").click()
    expect(page.locator("#file-error")).to_contain_text("line 3, column close")
    expect(page.get_by_label("CSV file")).to_have_attribute("aria-invalid", "true")
    expect(summary).to_have_count(0)
    expect(row).to_contain_text("8")  # nothing was written
    shot(page, "data-import")
