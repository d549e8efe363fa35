"""Hindcast: replay China's 2023-2024 export controls and put simulated moves beside observed ones.

Observed moves (packaged `hindcast_observed.csv`, each row sourced) are changes between two months:
outside and inside prices, and China's export volumes. The simulated change is the same ratio taken
from the run (price ratios to baseline, China's exports). Rows marked not scored (mixed evidence) are
shown but not counted.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from sim.api import RunResult, simulate
from sim.scenario.load import load_scenario
from sim.scenario.schema import month_index

DEFAULT_SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "hindcast_2023_2025.yaml"
SERIES = {"outside": "price_outside", "inside": "price_inside"}


def observed() -> pd.DataFrame:
    text = resources.files("sim.world").joinpath("data", "hindcast_observed.csv").read_text(encoding="utf-8")
    frame = pd.DataFrame(list(csv.DictReader(text.splitlines())))
    for column in ("value_before", "value_after"):
        frame[column] = frame[column].astype(float)
    frame["scored"] = frame["scored"] == "true"
    frame["observed_change"] = frame["value_after"] / frame["value_before"] - 1.0
    return frame


def simulated_change(result: RunResult, row: pd.Series) -> float:
    model = result.model
    start = model.scenario_spec.start
    before, after = month_index(row["month_before"], start), month_index(row["month_after"], start)
    m = model.mineral_index[row["mineral"]]
    if row["quantity"] == "price":
        series = model.recorder.series[SERIES[row["market"]]][:, m]
    else:
        series = model.recorder.country_exports[:, m, model.country_index["China"]]
    return float(series[after] / series[before] - 1.0) if series[before] > 0 else float("nan")


def compare_with_observed(result: RunResult) -> pd.DataFrame:
    table = observed()
    table["simulated_change"] = [simulated_change(result, row) for _, row in table.iterrows()]
    table["error_pp"] = 100 * (table["simulated_change"] - table["observed_change"])
    table["direction_right"] = np.sign(table["simulated_change"].round(4)) == np.sign(table["observed_change"])
    table["ratio"] = (1 + table["simulated_change"]) / (1 + table["observed_change"])
    return table


def run_hindcast(scenario: str | Path = DEFAULT_SCENARIO, overrides: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    return compare_with_observed(simulate(load_scenario(scenario, list(overrides))))
