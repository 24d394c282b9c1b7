"""The web app in a real browser: load, change a dose, run, see a figure and the table update,
compare, download the design YAML; and the report page as a reader sees it."""

import re
from pathlib import Path
from typing import Any

import pytest

from alsim.design import loads_design

pytestmark = pytest.mark.browser
TIMEOUT_MS = 30_000


def _table_row(page: Any, arm: str, endpoint: str = "CSF SOD1") -> str:
    rows = page.locator('[data-testid="stTable"]:visible tr', has_text=arm).filter(
        has_text=endpoint
    )
    return str(rows.first.inner_text())


def _run(page: Any, previous: str | None) -> str:
    page.get_by_role("tab", name="Run and results").click()
    page.get_by_role("button", name="Run simulation").click()
    page.get_by_text("replicates of 233AS101-B").wait_for(timeout=TIMEOUT_MS)
    page.locator('[data-testid="stTable"]:visible').first.wait_for(timeout=TIMEOUT_MS)
    row = _table_row(page, "TOFERSEN 100 MG")
    for _ in range(100):  # the table redraws when the rerun finishes
        if row != previous:
            break
        page.wait_for_timeout(200)
        row = _table_row(page, "TOFERSEN 100 MG")
    return row


def test_app_change_dose_run_compare_and_download(
    browser: Any, app_url: str, artifacts: Path, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page.goto(app_url)
    page.get_by_text("alsim: in-silico trials").wait_for(timeout=TIMEOUT_MS)
    page.locator('[data-testid="stImage"]:visible img').first.wait_for(timeout=TIMEOUT_MS)
    page.screenshot(path=str(artifacts / "app_design.png"))

    first = _run(page, None)
    assert "TOFERSEN 100 MG" in first
    page.get_by_role("button", name="Keep this result as A for comparison").click()
    page.get_by_text("Kept as A").wait_for(timeout=TIMEOUT_MS)

    dose = page.get_by_label("Dose of TOFERSEN 100 MG (mg)")
    dose.fill("300")
    dose.press("Enter")
    page.wait_for_timeout(800)
    second = _run(page, first)
    assert second != first, "the table did not change with the dose"
    figure = page.locator('[data-testid="stImage"]:visible img').first
    figure.wait_for(timeout=TIMEOUT_MS)
    assert figure.evaluate("img => img.naturalWidth") > 400
    figure.scroll_into_view_if_needed()
    figure.screenshot(path=str(artifacts / "app_trajectories.png"))
    page.screenshot(path=str(artifacts / "app_results.png"))

    page.get_by_role("tab", name="Compare").click()
    page.get_by_text("B (latest)").wait_for(timeout=TIMEOUT_MS)
    assert page.locator('[data-testid="stTable"]:visible').count() >= 2
    page.screenshot(path=str(artifacts / "app_compare.png"))

    page.get_by_role("tab", name="Design").click()
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        page.get_by_role("button", name="Download design YAML").click()
    target = tmp_path / "design.yaml"
    info.value.save_as(target)
    design = loads_design(target.read_text(encoding="utf-8"))
    assert design.arm("TOFERSEN 100 MG").dose_mg == 300
    page.close()


def test_app_shows_one_line_error_for_an_invalid_edit(browser: Any, app_url: str) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.get_by_text("alsim: in-silico trials").wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("Regimen and follow-up").click()
    days = page.get_by_label("Loading-dose study days")
    days.fill("1, 15, __import__('os')")
    days.press("Enter")
    page.get_by_text("loading days must be whole study days").wait_for(timeout=TIMEOUT_MS)
    days.fill("15, 1")
    days.press("Enter")
    page.get_by_text("design.regimen.loading_days").wait_for(timeout=TIMEOUT_MS)
    page.close()


def test_report_page_renders_its_figures(browser: Any, artifacts: Path, tmp_path: Path) -> None:
    from alsim.evidence.reproduce import reproduce_study
    from alsim.model import DEFAULT_PARAMETERS
    from alsim.report.reproduce import write_reproduction

    write_reproduction(
        tmp_path, [reproduce_study("phase12", n_replicates=50, seed=1)], DEFAULT_PARAMETERS
    )
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    page.goto((tmp_path / "report.html").as_uri())
    images = page.locator("figure img")
    # design timeline, biomarkers, dose-response, two safety curves, forest plot
    assert images.count() == 6
    for i in range(images.count()):
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
    page.screenshot(path=str(artifacts / "report_top.png"))
    page.locator("figure img").nth(images.count() - 1).scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "report_forest.png"))
    page.screenshot(path=str(artifacts / "report.png"), full_page=True)
    page.close()


def test_a_long_run_can_be_cancelled(browser: Any, app_url: str) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.get_by_text("alsim: in-silico trials").wait_for(timeout=TIMEOUT_MS)
    replicates = page.get_by_label("Replicates")
    replicates.fill("200")
    replicates.press("Enter")
    page.wait_for_timeout(800)
    page.get_by_role("tab", name="Run and results").click()
    page.get_by_role("button", name="Run simulation").click()
    # any progress will do: chunks can finish faster than the page repaints
    page.get_by_text(re.compile(r"simulated \d+/200 replicates")).wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Cancel run").click()
    page.get_by_text("Run cancelled.").wait_for(timeout=TIMEOUT_MS)
    assert page.get_by_text("200 replicates of").count() == 0
    page.close()
