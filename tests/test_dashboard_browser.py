"""The dashboard in a real browser at a projector's 1280x720: `sim dashboard` serves it, headless Chromium
(Debian's) driven by Playwright. Instant mode redraws within half a second of a lever; the page is
named, filled and readable; another scenario can be chosen; step mode still steps, and says when a
lever waits for Reset.

Set SIM_DASHBOARD_SHOTS to a folder to keep the screenshots and the measured lever-to-chart times there.
"""

import json
import os
import re
from pathlib import Path

import pytest

from sim.viz.dashboard_charts import HEIGHT_PX, WIDTH_PX

from .helpers import SCENARIOS, chromium, running_dashboard

pytestmark = pytest.mark.slow
PROJECTOR = {"width": 1280, "height": 720}
BUDGET_MS = 500
# Marks the click on a menu item, then each chart image's next load, in the page's own clock.
ARM = """() => {
  window.simLoads = []; window.simClick = null;
  document.addEventListener('click', e => {
    if (e.target.closest('.menuable__content__active .v-list-item')) window.simClick = performance.now();
  }, {capture: true, once: true});
  document.querySelectorAll('.sim-charts img').forEach((img, k) =>
    img.addEventListener('load', () => window.simLoads.push([k, performance.now()]), {once: true}));
}"""
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
    # China's ban to every destination, a file of one's own: it is offered beside the shipped scenarios.
    scenario = folder / "ban_all.yaml"
    scenario.write_text(
        f"name: ban_all\nextends: {SCENARIOS / 'baseline.yaml'}\ndescription: China bans exports to all.\n"
        "events:\n  - {type: export_restriction, exporter: China, minerals: [antimony, tungsten, gallium, "
        "germanium, ndpr, dytb, ndfeb_magnets], destinations: [all], kind: ban, start: 2026-03, leakage: 0.1}\n"
    )
    with running_dashboard(scenario, folder / "server.log") as port:
        yield f"http://127.0.0.1:{port}/"


@pytest.fixture
def shots(tmp_path) -> Path:
    return Path(os.environ.get("SIM_DASHBOARD_SHOTS") or tmp_path)


@pytest.fixture
def page(browser, dashboard_url):
    page = browser.new_page(viewport=PROJECTOR)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard_url)
    page.locator(".sim-charts img").nth(3).wait_for(timeout=90_000)
    yield page
    page.close()
    assert errors == []


LEVER_ORDER = ["Lift", "New ban", "of mineral", "to", "Leakage", "Power", "lasting", "grants"]


def lever(page, label: str):
    """The menu under a lever's label."""
    return page.locator(".sim-levers .v-select").nth(LEVER_ORDER.index(label))


def item(page, option: str):
    """An open menu's item."""
    exactly = re.compile(rf"^\s*{re.escape(option)}\s*$")
    return page.locator(".menuable__content__active .v-list-item").filter(has_text=exactly)


def choose(page, select, option: str) -> None:
    select.click()
    item(page, option).click()


def lever_to_chart(page, label: str, option: str) -> tuple[float, float]:
    """Milliseconds from the click on a lever's value to the price chart's new image, loaded; and how much
    a busy machine stretched the server's part (its wall time over its CPU time, at least 1)."""
    lever(page, label).click()
    page.evaluate(ARM)
    item(page, option).click()
    page.wait_for_function("() => window.simLoads.some(([k]) => k === 1)", timeout=30_000)
    click, loads = page.evaluate("() => [window.simClick, window.simLoads]")
    redraw = page.locator(".sim-redraw")
    wall, cpu = (float(redraw.get_attribute(f"data-{what}-ms")) for what in ("wall", "cpu"))
    return min(t for k, t in loads if k == 1) - click, max(1.0, wall / max(cpu, 1.0))


def test_instant_mode_redraws_the_whole_horizon_within_half_a_second(page, shots):
    assert page.title() == "sim dashboard: ban_all"
    status = page.locator(".sim-status")
    assert "120 months from 2026-01" in status.inner_text() and "no lever moved" in status.inner_text()
    before = page.locator(".sim-charts img").nth(1).get_attribute("src")
    short_gallium = page.locator("table.headline tr[data-mineral='gallium'] td").nth(1)
    assert short_gallium.inner_text() != "0.0%"  # a ban on all: gallium runs short
    page.screenshot(path=shots / "instant_ban_all_1280x720.png")

    measured = [lever_to_chart(page, "Leakage", value) for value in ("0.3", "0", "0.5")]
    assert page.locator(".sim-charts img").nth(1).get_attribute("src") != before
    assert "leakage 0.50" in status.inner_text()
    measured += [lever_to_chart(page, "Lift", "all")]
    page.get_by_text("lifted: all").wait_for(timeout=30_000)
    assert short_gallium.inner_text().startswith("0.0% (")  # none short now; in brackets, with the ban
    page.screenshot(path=shots / "instant_ban_all_lifted_1280x720.png")
    (shots / "lever_to_chart.json").write_text(json.dumps([[round(ms), round(busy, 2)] for ms, busy in measured]))
    # Within the budget on a machine to itself: a machine busy with other work (the server's wall time
    # over its CPU time) stretches the budget by as much.
    assert min(ms / busy for ms, busy in measured) <= BUDGET_MS, f"lever to chart (ms, busy factor): {measured}"


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
