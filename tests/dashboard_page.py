"""Driving `sim dashboard`'s page in Playwright: its levers, and the time from a lever's click to the
redrawn chart. Shared by the browser tests (which check what a lever does) and `benchmarks/browser.py`
(which times it: speed is measured there, not in the tests)."""

import re
from pathlib import Path
from typing import NamedTuple

PROJECTOR = {"width": 1280, "height": 720}
LEVER_ORDER = ["Lift", "New ban", "of mineral", "to", "Leakage", "Power", "lasting", "grants"]
QUIET_MS = 300  # a redraw is over when nothing on the page has changed for this long
# Marks the click on a menu item, then every change of the status line and every chart image loaded since,
# in the page's own clock.
ARM = """() => {
  window.simClick = null; window.simEvents = [];
  const status = document.querySelector('.sim-status'), before = status.innerText;
  document.addEventListener('click', e => {
    if (e.target.closest('.menuable__content__active .v-list-item')) window.simClick = performance.now();
  }, {capture: true, once: true});
  window.simObserver?.disconnect();
  window.simObserver = new MutationObserver(() => {
    if (status.innerText !== before) window.simEvents.push(['status', performance.now()]);
  });
  window.simObserver.observe(status, {subtree: true, childList: true, characterData: true});
  document.querySelectorAll('.sim-charts img').forEach(img => { img.onload = () =>
    window.simEvents.push(['chart', performance.now()]); });
}"""
# The redraw is done: the status line has changed, every chart is loaded, and nothing moved for QUIET_MS.
DONE = f"""() => window.simEvents.some(([what]) => what === 'status') &&
  [...document.querySelectorAll('.sim-charts img')].every(img => img.complete) &&
  performance.now() - Math.max(...window.simEvents.map(([, t]) => t)) > {QUIET_MS}"""


def write_ban_all(folder: Path) -> Path:
    """China's ban to every destination, a scenario file of one's own (offered beside the shipped ones)."""
    baseline = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
    scenario = folder / "ban_all.yaml"
    scenario.write_text(
        f"name: ban_all\nextends: {baseline}\ndescription: China bans exports to all.\n"
        "events:\n  - {type: export_restriction, exporter: China, minerals: [antimony, tungsten, gallium, "
        "germanium, ndpr, dytb, ndfeb_magnets], destinations: [all], kind: ban, start: 2026-03, leakage: 0.1}\n"
    )
    return scenario


def open_dashboard(browser, url: str, errors: list[str] | None = None):
    """A new 1280x720 page on the dashboard, once its four charts are drawn; the page's script errors are
    added to `errors`."""
    page = browser.new_page(viewport=PROJECTOR)
    if errors is not None:
        page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.locator(".sim-charts img").nth(3).wait_for(timeout=90_000)
    return page


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


class Redraw(NamedTuple):
    ms: float  # from the click on a lever's value to the last change of the page it made
    server_ms: float  # of which the server's run and charts (wall time)
    busy: float  # how much a busy machine stretched the server's part: its wall time over its CPU time, >= 1


def move_lever(page, label: str, option: str) -> Redraw:
    """Set a lever and wait for the page to be redrawn (the status line says what moved; the charts that
    changed are loaded); how long that took. The lever must move to a value it is not at."""
    lever(page, label).click()
    page.evaluate(ARM)
    item(page, option).click()
    page.wait_for_function(DONE, timeout=30_000, polling=50)
    click, events = page.evaluate("() => [window.simClick, window.simEvents]")
    redraw = page.locator(".sim-redraw")
    wall, cpu = (float(redraw.get_attribute(f"data-{what}-ms")) for what in ("wall", "cpu"))
    return Redraw(max(t for _, t in events) - click, wall, max(1.0, wall / max(cpu, 1.0)))
