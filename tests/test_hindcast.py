"""The hindcast against China's 2023-2024 controls: what is counted, how the calibration is split, and that
the shipped parameters are the ones the calibration finds (docs/model.md, Calibration and validation)."""

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.hindcast import counted, cross_validate, observed, run_hindcast
from sim.world.schema import MarketParams


@pytest.fixture(scope="module")
def cv():
    return cross_validate()


def test_every_observed_row_is_sourced_and_has_a_role():
    rows = observed()
    assert len(rows) >= 10 and rows["source"].str.len().min() > 20
    assert set(rows["role"]) == {"calibration", "held_out", "input", "not_scored"}
    # Export volumes are what the scenario's refused shares are read from: inputs, never counted.
    assert (rows.loc[rows["quantity"] == "volume", "role"] == "input").all()
    # Nothing whose outcome falls after 2024 is a fitting target.
    assert (rows.loc[rows["role"] == "calibration", "month_after"] <= "2024-12").all()
    assert (rows.loc[rows["role"] == "held_out", "month_after"] > "2024-12").all()


def test_the_shipped_parameters_are_the_in_sample_fit(cv):
    defaults = MarketParams()
    fitted = cv.fitted["all"]
    assert fitted["world.market.price_flexibility"] == defaults.price_flexibility
    assert fitted["world.market.contract_share"] == defaults.contract_share


def test_out_of_sample_rows_are_scored_with_parameters_fitted_without_them(cv):
    table = cv.table
    for event, params in cv.fitted.items():
        if event == "all":
            continue
        rows = table[(table["event"] == event) & (table["role"] == "calibration")]
        rerun = run_hindcast(overrides=[f"{key}={value}" for key, value in params.items()])
        again = rerun.set_index(["event", "mineral", "market"]).loc[
            [tuple(r) for r in rows[["event", "mineral", "market"]].to_numpy()]
        ]
        np.testing.assert_allclose(rows["out_of_sample_change"].to_numpy(), again["simulated_change"].to_numpy())


def test_directions_are_not_guaranteed_by_construction():
    """With nothing refused, China's exports are not bottled up and its inside prices do not fall: the
    inside rows can fail, so getting them right is information."""
    table = run_hindcast(overrides=[f"events[{i}].refused_share=0" for i in range(8)])
    as_run = run_hindcast()
    inside = (table["market"] == "inside") & (table["role"] == "calibration")
    assert (table.loc[inside, "simulated_change"] > as_run.loc[inside, "simulated_change"] + 0.05).all()


def test_scores_are_reported_plainly_misses_included(cv):
    scored = counted(cv.table)
    assert len(scored) == 7
    assert np.isfinite(scored["in_sample_log_ratio"]).all()
    # The gallium outside price is a known miss (the 20x bound binds); it stays in the count.
    gallium = scored[(scored["mineral"] == "gallium") & (scored["market"] == "outside")]
    assert (gallium["role"] == "calibration").any()


def test_cli_hindcast_cross_validate_prints_in_and_out_of_sample_scores(tmp_path):
    result = CliRunner().invoke(app, ["hindcast", "--cross-validate", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "in sample" in result.output and "out of sample" in result.output
    assert "volume rows are inputs" in result.output
    (folder,) = tmp_path.iterdir()
    saved = (folder / "hindcast.csv").read_text()
    assert "out_of_sample_change" in saved


def test_cli_hindcast_without_cross_validation_prints_one_score(tmp_path):
    result = CliRunner().invoke(app, ["hindcast", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "counted price moves" in result.output
