"""The dashboard in a real browser: `sim dashboard` serves it, headless Chromium (Debian's) driven by
Playwright loads it, steps the model, moves a lever, resets, steps again, and checks that the headline
and the charts changed the way the lever says."""

import os
import re
from pathlib import Path

import pytest

from .helpers import SCENARIOS, running_dashboard

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [  # no sandbox as root; nothing fetched from outside this machine
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STEPS = 10


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright")
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"no {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dashboard")
    log = folder / "server.log"
    # China's ban to every destination: a ban on the US alone is largely diverted (a US price rise, no
    # shortfall), so the shortfall chart and table would have nothing to show within a few months.
    scenario = folder / "ban_all.yaml"
    scenario.write_text(
        f"name: ban_all\nextends: {SCENARIOS / 'baseline.yaml'}\ndescription: China bans exports to all.\n"
        "events:\n  - {type: export_restriction, exporter: China, minerals: [antimony, tungsten, gallium, "
        "germanium, ndpr, dytb, ndfeb_magnets], destinations: [all], kind: ban, start: 2026-03, leakage: 0.1}\n"
    )
    with running_dashboard(scenario, log) as port:
        yield f"http://127.0.0.1:{port}/"


def test_a_lever_changes_what_the_charts_show(browser, dashboard_url, tmp_path):
    page = browser.new_page(viewport={"width": 1500, "height": 1200})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard_url)
    headline = page.locator("table.headline")
    step = page.get_by_role("button", name="Step")
    step.wait_for(timeout=90_000)

    def run_months() -> tuple[str, list[str]]:
        """Step STEPS months; return gallium's 'short so far' and the charts' image sources."""
        for month in range(1, STEPS + 1):
            step.click()
            page.get_by_text(f"month {month} of 120").wait_for(timeout=30_000)
        short = headline.locator("tr[data-mineral='gallium'] td").nth(1).inner_text()
        charts = [image.get_attribute("src") for image in page.locator("img").all()]
        return short, charts

    banned_short, banned_charts = run_months()
    assert banned_short != "0.0%", "ban to all: gallium should be short within a few months of the ban"
    assert len(banned_charts) == 4

    # The lever: lift every restriction of the scenario, then Reset to rebuild the model with it.
    page.locator(".v-select").filter(has_text="Lift a restriction").click()
    page.locator(".menuable__content__active .v-list-item").filter(has_text=re.compile(r"^\s*all\s*$")).click()
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("month 0 of 120").wait_for(timeout=30_000)
    page.get_by_text("lifted: all").wait_for(timeout=30_000)

    lifted_short, lifted_charts = run_months()
    page.screenshot(path=tmp_path / "dashboard_lifted.png", full_page=True)
    assert lifted_short == "0.0%"
    assert lifted_charts[0] != banned_charts[0]  # the shortfall chart: lines before, "none so far" now
    assert lifted_charts[2] != banned_charts[2]  # prices no longer jump
    assert errors == []
