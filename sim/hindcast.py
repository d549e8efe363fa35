"""Hindcast: replay China's 2023-2024 export controls, put simulated moves beside observed ones, and
calibrate honestly.

Observed moves (packaged `hindcast_observed.csv`, each row sourced) are changes between two months:
outside and inside prices, and China's export volumes. A move is scored by its log change: the
simulated log change over the observed one is 1 for a perfect fit, below 0 for the wrong direction.

What is counted:
- price rows of the 2023-2024 events (outcomes by December 2024) are the calibration set;
- rows whose outcome falls in 2025 (the December 2024 ban on the US) are never fitted: always scored
  out of sample;
- export-volume rows are inputs, not results: the hindcast scenario reads its refused shares off those
  very volumes, and during a licence wait nothing leaves whatever the parameters. They are shown, never
  counted; so are rows the source marks as mixed evidence (`scored` false).

`cross_validate` fits the market's two behavioural parameters (price flexibility and contract share)
on a grid, leaving one calibration event out at a time, and scores the one left out.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from sim.api import RunResult, simulate
from sim.scenario.load import SHIPPED, load_scenario
from sim.scenario.schema import month_index

DEFAULT_SCENARIO = SHIPPED / "hindcast_2023_2025.yaml"
SERIES = {"outside": "price_outside", "inside": "price_inside"}
LAST_FITTED_MONTH = "2024-12"  # outcomes after this month are never fitting targets
GRID = {
    "world.market.price_flexibility": (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0),
    "world.market.contract_share": (0.3, 0.5, 0.7, 0.9),
}
HIT_LOG_RATIO = np.log(2.0)  # a move within a factor of two of the observed log change counts as a hit


def observed() -> pd.DataFrame:
    text = resources.files("sim.world").joinpath("data", "hindcast_observed.csv").read_text(encoding="utf-8")
    frame = pd.DataFrame(list(csv.DictReader(text.splitlines())))
    for column in ("value_before", "value_after"):
        frame[column] = frame[column].astype(float)
    frame["scored"] = frame["scored"] == "true"
    frame["observed_change"] = frame["value_after"] / frame["value_before"] - 1.0
    frame["role"] = [_role(row) for _, row in frame.iterrows()]
    return frame


def _role(row: pd.Series) -> str:
    """calibration, held_out (2025 outcomes), input (volumes the scenario is built from) or not_scored."""
    if not row["scored"]:
        return "not_scored"
    if row["quantity"] != "price":
        return "input"
    return "calibration" if row["month_after"] <= LAST_FITTED_MONTH else "held_out"


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


def log_ratio(simulated: pd.Series | np.ndarray, observed_change: pd.Series | np.ndarray) -> np.ndarray:
    """Simulated log change over observed log change: 1 is a perfect fit, < 0 the wrong direction
    (NaN where a change is -100 %: the volume rows, which are inputs and never counted)."""
    sim, obs = np.asarray(simulated, float), np.asarray(observed_change, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log1p(sim) / np.log1p(obs)
    return np.where(np.isfinite(ratio), ratio, np.nan)


def compare_with_observed(result: RunResult) -> pd.DataFrame:
    table = observed()
    table["simulated_change"] = [simulated_change(result, row) for _, row in table.iterrows()]
    table["error_pp"] = 100 * (table["simulated_change"] - table["observed_change"])
    table["log_ratio"] = log_ratio(table["simulated_change"], table["observed_change"])
    table["direction_right"] = table["log_ratio"] > 0
    return table


def run_hindcast(scenario: str | Path = DEFAULT_SCENARIO, overrides: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    return compare_with_observed(simulate(load_scenario(scenario, list(overrides))))


@dataclass
class CrossValidation:
    table: pd.DataFrame  # one row per observed move: in-sample and out-of-sample changes and scores
    fitted: dict[str, dict[str, float]]  # "all" and each left-out event -> parameter -> value


def cross_validate(
    scenario: str | Path = DEFAULT_SCENARIO, overrides: list[str] | tuple[str, ...] = ()
) -> CrossValidation:
    """Fit on the calibration events, leaving one out at a time; score what was left out.

    In sample: parameters fitted on every calibration event, scored on the same rows (and on the held-out
    2025 rows, which no fit ever sees). Out of sample: a calibration row is scored with the parameters
    fitted on the other calibration events. The loss is the mean of |log(score)| over the rows fitted
    (the score being the ratio of log changes, as reported)."""
    table = observed()
    points = [dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())]
    changes = []
    for point in points:
        settings = [*overrides, *(f"{key}={value}" for key, value in point.items())]
        result = simulate(load_scenario(scenario, settings))
        changes.append([simulated_change(result, row) for _, row in table.iterrows()])
    sims = np.array(changes)  # [point, row]
    # The loss is the score's own miss: |log(simulated log change / observed log change)|, so that a
    # factor-of-two miss counts the same on a small move as on a large one; a move the wrong way (or none)
    # counts as a miss by a factor of 1,000.
    ratios = log_ratio(sims, table["observed_change"].to_numpy()[None, :])
    miss = np.abs(np.log(np.clip(ratios, 1e-3, None)))
    calibration = (table["role"] == "calibration").to_numpy()

    def best(rows: np.ndarray) -> int:
        return int(np.argmin(np.nanmean(miss[:, rows], axis=1)))

    everything = best(calibration)
    fitted = {"all": points[everything]}
    table["in_sample_change"] = sims[everything]
    out_of_sample = sims[everything].copy()  # held-out rows: the fit on all calibration events never saw them
    for event in table.loc[calibration, "event"].unique():
        left_out = calibration & (table["event"] == event).to_numpy()
        if not (calibration & ~left_out).any():
            out_of_sample[left_out] = np.nan  # nothing left to fit on
            continue
        k = best(calibration & ~left_out)
        fitted[event] = points[k]
        out_of_sample[left_out] = sims[k, left_out]
    table["out_of_sample_change"] = np.where(table["role"] == "calibration", out_of_sample, sims[everything])
    table["in_sample_log_ratio"] = log_ratio(table["in_sample_change"], table["observed_change"])
    table["out_of_sample_log_ratio"] = log_ratio(table["out_of_sample_change"], table["observed_change"])
    return CrossValidation(table, fitted)


@dataclass
class Hindcast:
    """`sim hindcast`'s result: the replay (or its cross-validation) beside the observed moves."""

    table: pd.DataFrame  # run_hindcast's table, or cross_validate's
    fitted: dict[str, dict[str, float]] | None = None  # cross-validation's fitted parameters; None for a replay

    @property
    def cross_validated(self) -> bool:
        return self.fitted is not None

    def scored(self, role: str | None = None) -> pd.DataFrame:
        """The counted rows (see `counted`), only those of `role` if given."""
        rows = counted(self.table)
        return rows if role is None else rows[rows["role"] == role]


def hindcast(
    scenario: str | Path | None = None, overrides: list[str] | tuple[str, ...] = (), cross_validated: bool = False
) -> Hindcast:
    """`sim hindcast`: replay the hindcast scenario (default: DEFAULT_SCENARIO), or cross-validate it."""
    if cross_validated:
        cv = cross_validate(scenario or DEFAULT_SCENARIO, overrides)
        return Hindcast(cv.table, cv.fitted)
    return Hindcast(run_hindcast(scenario or DEFAULT_SCENARIO, overrides))


def counted(table: pd.DataFrame) -> pd.DataFrame:
    """The rows that count in a score: price moves that the model could get wrong."""
    return table[table["role"].isin(["calibration", "held_out"])]


def hits(ratios: pd.Series) -> int:
    """Moves in the right direction and within a factor of two of the observed log change."""
    return int((np.abs(np.log(np.clip(ratios.to_numpy(float), 1e-12, None))) <= HIT_LOG_RATIO).sum())
