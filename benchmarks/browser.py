"""Lever to chart in the dashboard: `python benchmarks/browser.py` (also a row of `benchmarks/run.py`).

Serves `sim dashboard` on China's ban to every destination, opens it in Debian's headless Chromium at
1280x720 (Playwright) and moves the Leakage and Power levers, each move to a setting not seen before (the
dashboard keeps what it drew: a setting seen again comes back at once and would flatter the figure). Each
move is timed in the page's own clock, from the click on the lever's value to the last change it makes to
the page (the status line, every chart that changed, loaded): the whole path a workshop sees (the
browser's message to the server, the model run, four charts drawn, the page patched, the images decoded).
Target (#15): half a second on a machine to itself.

Beside the times: the server's part (its run and charts, wall time) and its wall time over its CPU time (at
least 1), how much other work on the machine stretched it. Run it with nothing else running.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the page driver shared with the browser tests

from tests.dashboard_page import Redraw, move_lever, open_dashboard, write_ban_all  # noqa: E402
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, running_dashboard  # noqa: E402

TARGET_MS = 500
# The dashboard keeps every run and chart it has drawn, so a setting seen before comes back at once. Each
# move here makes a setting not seen before: the leakage through its other values, then the power shock
# one step up, and so on (up to 35 moves).
LEAKAGES = ("0.3", "0", "0.5", "0.2", "0.05", "0.1")  # the scenario's own 0.1 last: it is where it starts
POWERS = ("1", "1.25", "1.5", "2", "2.5", "3")


def fresh_moves():
    """(lever, value) moves, each to a setting of the two levers not seen before."""
    leakages = list(LEAKAGES)
    for k, power in enumerate(POWERS):
        if k:
            yield "Power", power
        for leakage in leakages[:-1]:
            yield "Leakage", leakage
        leakages = [leakages[-1], *leakages[:-1]]  # starts where the last block ended, others in turn


def lever_to_chart(moves: int) -> list[Redraw]:
    """Each of `moves` lever moves timed, after one unmeasured move."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        scenario = write_ban_all(Path(folder))
        with running_dashboard(scenario, Path(folder) / "server.log") as port, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = open_dashboard(browser, f"http://127.0.0.1:{port}/")
                moving = list(itertools.islice(fresh_moves(), moves + 1))
                if len(moving) <= moves:
                    raise SystemExit(f"at most {len(moving) - 1} moves to settings not seen before")
                return [move_lever(page, label, value) for label, value in moving][1:]
            finally:
                browser.close()


def summary(measured: list[Redraw]) -> dict[str, float]:
    times = [redraw.ms for redraw in measured]
    return {
        "median_ms": statistics.median(times),
        "low_ms": min(times),
        "high_ms": max(times),
        "within": sum(ms <= TARGET_MS for ms in times),
        "server_ms": statistics.median(redraw.server_ms for redraw in measured),
        "busy": statistics.median(redraw.busy for redraw in measured),
    }


def row(moves: int) -> tuple[str, str]:
    """The row `benchmarks/run.py` prints (or why there is none)."""
    if not CHROMIUM.exists():
        return row_name(moves), f"skipped: no {CHROMIUM} (apt-get install chromium)"
    return row_from(lever_to_chart(moves))


def row_name(moves: int) -> str:
    return f"dashboard lever to chart, {moves} moves (target <= {TARGET_MS} ms)"


def row_from(measured: list[Redraw]) -> tuple[str, str]:
    s, moves = summary(measured), len(measured)
    return row_name(moves), (
        f"median {s['median_ms']:.0f} ms  ({s['low_ms']:.0f} to {s['high_ms']:.0f}; {s['within']} of {moves} "
        f"within; the server's part {s['server_ms']:.0f} ms, busy factor {s['busy']:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--moves", type=int, default=20, help="lever moves timed (after one unmeasured)")
    parser.add_argument("--each", action="store_true", help="print every move's time and busy factor")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"no {CHROMIUM}: apt-get install chromium (Playwright drives Debian's Chromium)")
    measured = lever_to_chart(args.moves)
    if args.each:
        for k, ((label, value), redraw) in enumerate(zip(list(fresh_moves())[1:], measured, strict=False), 1):
            print(f"  move {k:>2}, {label} {value:>4}: {redraw.ms:4.0f} ms  (server {redraw.server_ms:4.0f} ms, "
                  f"busy x{redraw.busy:.2f})")  # fmt: skip
    name, value = row_from(measured)
    print(f"{name}: {value}")


if __name__ == "__main__":
    main()
