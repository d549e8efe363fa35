"""Small helpers for running scenarios in tests."""

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from sim.api import RunResult, simulate
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def run(name: str, *overrides: str, months: int | None = None, seed: int | None = None) -> RunResult:
    return simulate(load_scenario(SCENARIOS / f"{name}.yaml", list(overrides)), seed=seed, months=months)


def series(result: RunResult, variable: str, mineral: str | None = None, scope: str = "us"):
    table = result.series(variable, scope)
    return table[mineral].to_numpy() if mineral else table


def recorded(result: RunResult, variable: str) -> np.ndarray:
    """The recorder's [month, mineral] array (no pandas round trip)."""
    return result.model.recorder.series[variable]


@contextmanager
def no_hang(seconds: int = 60):
    """Fail instead of hanging forever (a guard, not a timing test: what it guards takes well under a
    second)."""

    def stop(signum, frame):
        raise AssertionError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_dashboard(scenario: Path, log: Path):
    """`sim dashboard SCENARIO` on a free port, once it answers; yields the port, stops it after."""
    with running_server(["dashboard", str(scenario)], log) as port:
        yield port


@contextmanager
def running_server(args: list[str], log: Path):
    """`sim ARGS --port P` (a command that serves pages) on a free port, once it answers; yields the port,
    stops it after."""
    import pytest

    port = free_port()
    sim = Path(sys.executable).with_name("sim")
    with log.open("w") as out:
        server = subprocess.Popen([str(sim), *args, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90  # only against a server that never starts
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`sim {args[0]}` did not start:\n{log.read_text()}")
            time.sleep(0.5)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=20)


def printed_links(log: Path, game: str = "1") -> dict[str, str]:
    """The links with their keys that `sim game` printed (in its log) for a game's pages: who -> address."""
    import re

    found = re.findall(r"^  (\S+)\s+(http://\S+\?key=\w+)$", log.read_text(), flags=re.MULTILINE)
    return {who: link for who, link in found if f"/game/{game}/" in link}


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [  # no sandbox as root; nothing fetched from outside this machine
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> None:
    """Skip a test without Debian's Chromium; fail it under CI, which installs it."""
    import os

    import pytest

    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"no {CHROMIUM} (apt-get install chromium)")


@contextmanager
def chromium():
    """Debian's headless Chromium driven by Playwright (skips without them; fails without Chromium in CI)."""
    import pytest

    sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright")
    require_chromium()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
