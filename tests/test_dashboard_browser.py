"""The dashboard in a real browser at a projector's 1280x720: `sim dashboard` serves it, headless Chromium
(Debian's) driven by Playwright. Instant mode redraws the whole horizon when a lever moves; the page is
named, filled and readable; another scenario can be chosen; step mode still steps, and says when a
lever waits for Reset. How fast a lever redraws is measured by `benchmarks/browser.py`, not here.

Set SIM_DASHBOARD_SHOTS to a folder to keep the screenshots there.
"""

import os
from pathlib import Path

import pytest

from sim.viz.dashboard_charts import HEIGHT_PX, WIDTH_PX

from .dashboard_page import LEVER_ORDER, PROJECTOR, choose, lever, move_lever, open_dashboard, write_ban_all
from .helpers import chromium, running_dashboard

pytestmark = pytest.mark.slow
# Visible text smaller than 14 px as displayed (font size times any scaling transform).
SMALL_TEXT = """() => [...document.querySelectorAll('body *')].filter(el =>
  [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()) && el.getClientRects().length &&
  getComputedStyle(el).visibility !== 'hidden' && el.offsetHeight > 0
).map(el => [el.textContent.trim().slice(0, 40),
  parseFloat(getComputedStyle(el).fontSize) * el.getBoundingClientRect().height / el.offsetHeight]
).filter(([, px]) => px < 13.95)"""


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dashboard")
    scenario = write_ban_all(folder)
    with running_dashboard(scenario, folder / "server.log") as port:
        yield f"http://127.0.0.1:{port}/"


@pytest.fixture
def shots(tmp_path) -> Path:
    return Path(os.environ.get("SIM_DASHBOARD_SHOTS") or tmp_path)


@pytest.fixture
def page(browser, dashboard_url):
    errors: list[str] = []
    page = open_dashboard(browser, dashboard_url, errors)
    yield page
    page.close()
    assert errors == []


def test_instant_mode_redraws_the_whole_horizon_when_a_lever_moves(page, shots):
    assert page.title() == "sim dashboard: ban_all"
    status = page.locator(".sim-status")
    assert "120 months from 2026-01" in status.inner_text() and "no lever moved" in status.inner_text()
    price_chart = page.locator(".sim-charts img").nth(1)
    shown = [price_chart.get_attribute("src")]
    short_gallium = page.locator("table.headline tr[data-mineral='gallium'] td").nth(1)
    assert short_gallium.inner_text() != "0.0%"  # a ban on all: gallium runs short
    page.screenshot(path=shots / "instant_ban_all_1280x720.png")

    for value in ("0.3", "0", "0.5"):  # each move redraws without a button, and the price chart with it
        move_lever(page, "Leakage", value)
        assert f"leakage {float(value):.2f}" in status.inner_text()
        shown.append(price_chart.get_attribute("src"))
    assert len(set(shown)) == len(shown)
    move_lever(page, "Lift", "all")
    page.get_by_text("lifted: all").wait_for(timeout=30_000)
    assert short_gallium.inner_text().startswith("0.0% (")  # none short now; in brackets, with the ban
    page.screenshot(path=shots / "instant_ban_all_lifted_1280x720.png")


def test_the_page_is_named_filled_and_readable_on_a_projector(page):
    charts = page.locator(".sim-charts img")
    assert charts.count() == 4
    for k in range(4):  # shown at native size, so the 14.6 px drawn is the size seen
        size = charts.nth(k).evaluate("img => [img.naturalWidth, img.naturalHeight, img.width, img.height]")
        assert size == [WIDTH_PX, HEIGHT_PX, WIDTH_PX, HEIGHT_PX]
    box = page.locator(".sim-chart").nth(3).bounding_box()  # the last chart ends near the right and bottom edges
    assert box["x"] + box["width"] > PROJECTOR["width"] - 40 and box["y"] + box["height"] <= PROJECTOR["height"]
    assert box["y"] + box["height"] > PROJECTOR["height"] - 120
    values = page.locator(".sim-levers .v-select__selection").all_inner_texts()
    assert len(values) == len(LEVER_ORDER) and all(v.strip() for v in values)  # every lever shows its value
    assert page.evaluate(SMALL_TEXT) == []


def test_another_scenario_is_chosen_in_the_page(page):
    choose(page, page.locator(".sim-bar .v-select").first, "power_price_spike")
    page.wait_for_function("() => document.title === 'sim dashboard: power_price_spike'", timeout=30_000)
    status = page.locator(".sim-status")
    page.get_by_text("shaded: power price x1.8").wait_for(timeout=30_000)
    assert "power_price_spike" in status.inner_text()
    assert lever(page, "Lift").locator(".v-select__selection").inner_text() == "none"  # levers start afresh


def test_step_mode_steps_and_says_when_a_lever_waits_for_reset(page, shots):
    page.get_by_role("button", name="Step by step").click()
    step = page.get_by_role("button", name="Step", exact=True)
    for month in range(1, 4):
        step.click()
        page.get_by_text(f"month {month} of 120").wait_for(timeout=30_000)
    assert page.get_by_text("not yet applied").count() == 0
    choose(page, lever(page, "Leakage"), "0.3")
    page.get_by_text("Levers changed, not yet applied").wait_for(timeout=30_000)
    page.screenshot(path=shots / "step_pending_1280x720.png")
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("month 0 of 120").wait_for(timeout=30_000)
    assert page.get_by_text("not yet applied").count() == 0
    assert "leakage 0.30" in page.locator(".sim-status").inner_text()
