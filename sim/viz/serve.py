"""Serve the workshop dashboard: `solara run sim.viz.dashboard_app` in a child process (through
sim.viz.dashboard_server, which refuses requests from other sites' pages).

Kept free of solara imports, so that `sim dashboard` can check the set-up and say what is missing
before anything heavy is loaded.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
COOKIE_WARNING = "Cookies with samesite=none"  # solara on plain http, which is all a local dashboard needs
VIZ_EXTRA = "pip install 'critical-minerals-sim[viz]'"


class DashboardError(Exception):
    """The dashboard cannot start (missing extra, port taken); the message says what to do."""


def check_setup(host: str, port: int) -> None:
    """Raise DashboardError if the dashboard could not start here: before anything is printed or spawned."""
    check_viz_installed()
    check_port_free(host, port)


def check_viz_installed() -> None:
    """Mesa's visualisation (its step controls), the offline page assets and a Vue 2 ipyvue (the page's
    ipyvuetify 1 menus and buttons need it)."""
    from importlib import metadata

    try:
        import mesa.visualization  # noqa: F401  (imports solara, altair, ...: whatever is missing says so)

        metadata.version("solara-assets")
        ipyvue_major = int(metadata.version("ipyvue").split(".")[0])
    except (ImportError, metadata.PackageNotFoundError) as exc:
        raise DashboardError(f"the dashboard needs the viz extra ({exc}): {VIZ_EXTRA}") from None
    if ipyvue_major >= 2:
        raise DashboardError(f"the dashboard needs ipyvue < 2 (its ipyvuetify widgets are Vue 2 only): {VIZ_EXTRA}")


def check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As the server will: a port a stopped server left in TIME_WAIT is free, one being listened on is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise DashboardError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --host or --port"
            ) from None


def dashboard_urls(host: str, port: int) -> list[str]:
    """Where browsers find the dashboard: on this machine, and from the network when listening on it."""
    names = ["127.0.0.1", socket.gethostname()] if host in ("0.0.0.0", "::") else [host]
    return [f"http://[{name}]:{port}/" if ":" in name else f"http://{name}:{port}/" for name in names]


def dashboard_command(host: str, port: int) -> list[str]:
    """The command line of the server (the same Python, so the same installed packages). The scenario
    goes in the environment (dashboard_env): solara's command line has no place for it."""
    return [
        sys.executable, "-W", f"ignore:{COOKIE_WARNING}:UserWarning", "-m", "sim.viz.dashboard_server",
        "run", "sim.viz.dashboard_app",
        "--host", host, "--port", str(port), "--production", "--no-open", "--no-check-version",
        "--log-level", "warning",
    ]  # fmt: skip


def dashboard_env(scenario_file: Path | None) -> dict[str, str]:
    return {
        **os.environ,
        "SIM_DASHBOARD_SCENARIO": "" if scenario_file is None else str(scenario_file.resolve()),
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",  # a workshop laptop sends nothing anywhere
        "SOLARA_THEME_SHOW_BANNER": "False",  # solara's "runs on Solara" corner would cover a chart's legend
        "SOLARA_THEME_TITLE": "sim dashboard",  # the tab's name until the page names it after the scenario
        # A closed tab's model is dropped after 5 minutes, not solara's 24 hours: a room reloading pages
        # would otherwise fill the facilitator's memory (about 50 MB a session).
        "SOLARA_KERNEL_CULL_TIMEOUT": "5m",
    }


def serve_dashboard(scenario_file: Path | None, host: str = "127.0.0.1", port: int = 8765) -> int:
    """Run the dashboard server (after check_setup) until it stops or Ctrl-C; return its exit code."""
    server = subprocess.Popen(dashboard_command(host, port), env=dashboard_env(scenario_file))
    previous = signal.signal(signal.SIGTERM, _interrupt)  # a stopped `sim dashboard` takes its server along
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        server.wait(timeout=10)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
