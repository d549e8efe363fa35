"""The hindcast against China's 2023-2024 controls: every observed move in the right direction, and its
size within the bounds documented in docs/model.md (Calibration)."""

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.hindcast import observed, run_hindcast


@pytest.fixture(scope="module")
def table():
    return run_hindcast()


def test_every_observed_row_is_sourced():
    rows = observed()
    assert len(rows) >= 10 and rows["source"].str.len().min() > 20


def test_the_hindcast_gets_the_direction_of_every_scored_move_right(table):
    scored = table[table["scored"]]
    assert len(scored) >= 10
    assert scored["direction_right"].all(), scored.loc[~scored["direction_right"], ["event", "mineral", "market"]]


def test_price_moves_are_within_the_documented_bounds(table):
    prices = table[table["scored"] & (table["quantity"] == "price")]
    log_error = np.abs(np.log(prices["ratio"]))
    assert log_error.max() <= 0.6  # each simulated price level within a factor of 1.8 of the observed one
    assert log_error.mean() <= 0.25


def test_export_volumes_collapse_as_observed(table):
    volumes = table[table["scored"] & (table["quantity"] == "volume")]
    assert (volumes["error_pp"].abs() <= 10).all()


def test_cli_hindcast_prints_the_table_and_saves_it(tmp_path):
    result = CliRunner().invoke(app, ["hindcast", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "10 of 10 scored moves" in result.output
    (folder,) = tmp_path.iterdir()
    assert (folder / "hindcast.csv").is_file()
