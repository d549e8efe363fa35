"""The module `solara run` serves for `sim dashboard`: one page per browser session.

The scenario selected first comes from the SIM_DASHBOARD_SCENARIO environment variable (set by the
CLI when it is given one); every shipped scenario can be chosen in the page.
"""

from __future__ import annotations

import os

import solara

from sim.viz.dashboard import dashboard_page

SCENARIO_FILE = os.environ.get("SIM_DASHBOARD_SCENARIO") or None


@solara.component
def Page():
    return dashboard_page(SCENARIO_FILE)


@solara.component
def Layout(children):
    """No app bar or drawer around the page: it lays itself out to fill the window."""
    return solara.Column(children=children, gap="0px", style={"padding": "0"})
