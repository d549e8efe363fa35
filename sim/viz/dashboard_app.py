"""The module `solara run` serves for `sim dashboard`: one model per browser session.

The scenario file comes from the SIM_DASHBOARD_SCENARIO environment variable (set by the CLI).
"""

from __future__ import annotations

import os

import solara

from sim.viz.dashboard import DEFAULT_SCENARIO, dashboard_page

SCENARIO_FILE = os.environ.get("SIM_DASHBOARD_SCENARIO", DEFAULT_SCENARIO)


@solara.component
def Page():
    return dashboard_page(SCENARIO_FILE)
