"""Decision support: uncertain world data drawn on request, PRIM scenario discovery, robust policies."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.api import simulate
from sim.cli import app
from sim.discover import find_boxes
from sim.robust import robust
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario
from sim.target import parse_target
from sim.uncertain import latin_hypercube, uncertain_inputs, with_uncertain_world
from sim.world.load import world_ranges

from .helpers import SCENARIOS

runner = CliRunner()
CHINA = SCENARIOS / "china_ban.yaml"


@pytest.fixture(scope="module")
def summary():
    return simulate(load_scenario(CHINA), months=12).summary


# --- PRIM ---------------------------------------------------------------------------------------------


def test_prim_finds_a_known_box_and_leaves_the_irrelevant_inputs_alone():
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.uniform(size=(1000, 30)), columns=["a", "b", *(f"noise{k}" for k in range(28))])
    y = ((x["a"] > 0.6) & (x["b"] < 0.3)).to_numpy()
    boxes, trajectories, why = find_boxes(x, y, density=0.95)
    first = boxes[boxes["box"] == 1].set_index("input")
    assert set(first.index) == {"a", "b"}
    assert first.loc["a", "low"] == pytest.approx(0.6, abs=0.05) and first.loc["a", "high"] > 0.95
    assert first.loc["b", "high"] == pytest.approx(0.3, abs=0.05) and first.loc["b", "low"] < 0.05
    assert first["density"].iloc[0] >= 0.95 and first["coverage"].iloc[0] > 0.8
    loose, _, _ = find_boxes(x, y, density=0.8)  # a lower density asked for: a wider box, covering more
    assert loose[loose["box"] == 1]["coverage"].iloc[0] >= first["coverage"].iloc[0]
    assert trajectories[0]["chosen"].sum() == 1 and why == ""
    chosen = trajectories[0][trajectories[0]["chosen"]].iloc[0]  # the plot rings the box reported
    assert chosen["density"] == pytest.approx(first["density"].iloc[0])
    assert chosen["coverage"] == pytest.approx(first["coverage"].iloc[0])


def test_prim_reports_no_box_and_says_why():
    x = pd.DataFrame({"a": np.linspace(0, 1, 50)})
    for y, words in ((np.zeros(50, bool), "held in no future"), (np.ones(50, bool), "held in every future")):
        boxes, trajectories, why = find_boxes(x, y)
        assert boxes.empty and trajectories == [] and words in why
    rng = np.random.default_rng(2)
    noise = pd.DataFrame(rng.uniform(size=(300, 5)), columns=list("abcde"))
    y = rng.uniform(size=300) < 0.3  # the target has nothing to do with the inputs
    boxes, _, why = find_boxes(noise, y, density=0.8)
    assert boxes.empty and "no region of the inputs is at least 80% on target" in why
    boxes, _, why = find_boxes(noise, y, density=0.2)  # 30 % everywhere already meets 20 %
    assert boxes.empty and "already at least the 20% density asked" in why
    # a box is never reported below the density asked, whatever PRIM's best
    signal = (noise["a"] > 0.7).to_numpy() & (rng.uniform(size=300) < 0.6)
    boxes, _, _ = find_boxes(noise, signal, density=0.5)
    assert boxes.empty or (boxes["density"] >= 0.5).all()


# --- targets ------------------------------------------------------------------------------------------


def test_targets_combine_minerals_any_all_and_or(summary):
    short = {m: dict(row, cumulative_shortfall_share=0.0) for m, row in summary.items()}
    short["antimony"]["cumulative_shortfall_share"] = 0.05
    assert parse_target("antimony.cumulative_shortfall_share>0.02", short).holds(short)
    assert parse_target("any.cumulative_shortfall_share>0.02", short).holds(short)
    assert not parse_target("all.cumulative_shortfall_share>0.02", short).holds(short)
    assert parse_target("all.cumulative_shortfall_share<=0.05", short).holds(short)
    both = "gallium.cumulative_shortfall_share>0.02 and antimony.cumulative_shortfall_share>0.02"
    assert not parse_target(both, short).holds(short)
    assert parse_target(both.replace(" and ", " or "), short).holds(short)
    # an indicator with no value (never short: no time to recover) satisfies no comparison
    never = {m: dict(row, time_to_recover_months=None) for m, row in summary.items()}
    assert not parse_target("any.time_to_recover_months>=0", never).holds(never)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("kryptonite.cumulative_shortfall_share>0.1", "unknown mineral 'kryptonite'"),
        ("antimony.shortness>0.1", "unknown indicator 'shortness'"),
        ("antimony.cumulative_shortfall_share>>0.1", "is not SUBJECT.INDICATOR OP NUMBER"),
        ("antimony.cumulative_shortfall_share>0.1 and", "is not SUBJECT.INDICATOR OP NUMBER"),
        ("", "is empty"),
    ],
)
def test_bad_targets_are_refused_with_what_is_allowed(summary, text, words):
    with pytest.raises(ScenarioError) as caught:
        parse_target(text, summary)
    assert words in str(caught.value) and "\n" not in str(caught.value)


# --- uncertain world data -----------------------------------------------------------------------------


def test_world_ranges_become_inputs_except_where_the_scenario_sets_the_figure():
    plain = uncertain_inputs(load_scenario(CHINA))
    assert len(plain) == len(world_ranges()) > 20
    assert all(i.low < i.high and i.low <= i.params[1] <= i.high for i in plain)
    written = uncertain_inputs(load_scenario(CHINA, ["world.minerals.antimony.build_lead_months=84"]))
    names = {i.name for i in written}
    assert {i.name for i in plain} - names == {"world.minerals.antimony.build_lead_months"}  # written, not drawn


def test_latin_hypercube_stays_in_range_stratifies_and_rounds_integers():
    inputs = uncertain_inputs(load_scenario(CHINA))
    design = latin_hypercube(inputs, 40, seed=3)
    for i in inputs:
        column = design[i.name]
        assert column.between(i.low, i.high).all(), i.name
        if i.integer:
            assert (column == column.round()).all()
        else:  # one point in each fortieth of the distribution: the values are all different
            assert column.nunique() == 40
    assert latin_hypercube(inputs, 40, seed=3).equals(design)


def test_uncertain_runs_draw_the_world_reproducibly_and_keep_it_coherent():
    resolved = load_scenario(CHINA)
    plain = simulate(resolved, months=24)
    assert plain.draws == {}
    drawn = simulate(with_uncertain_world(resolved), months=24, seed=5)
    again = simulate(with_uncertain_world(resolved), months=24, seed=5)
    assert drawn.draws and drawn.draws == again.draws and drawn.summary == again.summary
    assert drawn.summary != plain.summary
    world = drawn.model.world
    for mineral, sectors in world.sectors.items():
        assert sum(s.share for s in sectors.values()) == pytest.approx(1.0)
        assert sum(rows[mineral].us_import_share for rows in world.supply.values() if mineral in rows) == (
            pytest.approx(1.0)
        )
    for rows in world.supply.values():
        assert all(row.capacity_t_per_yr >= row.output_t_per_yr for row in rows.values())
    # the plain scenario is untouched by what was drawn from it
    assert simulate(resolved, months=24).summary == plain.summary


def test_a_run_without_uncertain_is_byte_identical_to_one_before_the_flag_existed(tmp_path):
    """--uncertain is off by default: the run's summary equals the library's plain run, byte for byte."""
    result = runner.invoke(app, ["run", str(CHINA), "--months", "24", "--no-plots", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (folder,) = list(tmp_path.iterdir())
    stored = json.loads((folder / "summary.json").read_text())["minerals"]
    assert stored == json.loads(json.dumps(simulate(load_scenario(CHINA), months=24).summary))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["distribution_draws"] == {} and manifest["uncertain_world"] is False
    drawn = runner.invoke(
        app, ["run", str(CHINA), "--months", "6", "--no-plots", "--uncertain", "--out", str(tmp_path)]
    )
    assert drawn.exit_code == 0 and "world data drawn from their ranges" in drawn.output
    (second,) = [p for p in tmp_path.iterdir() if p != folder]
    manifest = json.loads((second / "manifest.json").read_text())
    assert manifest["uncertain_world"] is True and len(manifest["distribution_draws"]) == len(world_ranges())


# --- robust -------------------------------------------------------------------------------------------


def test_every_policy_meets_the_same_futures(tmp_path):
    """Two copies of one policy meet the same draws and seeds: identical outcomes, no regret."""
    text = (
        CHINA.read_text()
        .replace("name: china_ban", "name: {}")
        .replace("extends: baseline", f"extends: {SCENARIOS / 'baseline.yaml'}")
    )
    paths = []
    for name in ("copy_a", "copy_b"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(text.format(name))
        paths.append(load_scenario(path, ["horizon_months=24", "events[0].leakage={uniform: [0, 0.4]}"]))
    goal = parse_target("all.cumulative_shortfall_share<=0.01", simulate(paths[0], months=1).summary)
    result = robust(paths, 6, goal, workers=1)
    a = result.outcomes[result.outcomes["policy"] == "copy_a"].reset_index(drop=True)
    b = result.outcomes[result.outcomes["policy"] == "copy_b"].reset_index(drop=True)
    assert a["metric"].tolist() == b["metric"].tolist() and a["cost_usd"].tolist() == b["cost_usd"].tolist()
    assert (result.outcomes["regret"] == 0).all()
    assert "events[0].leakage" in result.design.columns and result.design["events[0].leakage"].nunique() == 6


def test_robust_ranks_two_policies_with_regret_against_the_best_in_each_future(tmp_path):
    policies = [
        load_scenario(SCENARIOS / f"{n}.yaml", ["horizon_months=36"]) for n in ("china_ban", "processing_first")
    ]
    goal = parse_target("all.cumulative_shortfall_share<=0.01", simulate(policies[0], months=1).summary)
    result = robust(policies, 4, goal, workers=1)
    table = result.table.set_index("policy")
    assert table.loc["processing_first", "cost_usd_median"] > 0  # its programme commits money
    assert (result.outcomes["regret"] >= 0).all()
    assert result.outcomes.groupby("future")["regret"].min().eq(0).all()  # someone is best in every future
    assert result.minimax_policy in table.index


# --- the commands -------------------------------------------------------------------------------------


def test_discover_command_writes_boxes_plot_and_report(tmp_path):
    result = runner.invoke(
        app,
        [
            "discover",
            str(CHINA),
            "--runs",
            "40",
            "--workers",
            "1",
            "--months",
            "24",
            "--out",
            str(tmp_path),
            "--target",
            "antimony.price_us_peak_ratio>2.5",
        ],
    )
    assert result.exit_code == 0, result.output
    (folder,) = list(tmp_path.iterdir())
    files = {p.name for p in folder.iterdir()}
    assert {"boxes.csv", "futures.parquet", "manifest.json", "report.html"} <= files
    futures = pd.read_parquet(folder / "futures.parquet")
    assert len(futures) == 40 and futures["target"].dtype == bool
    assert "held in" in result.output
    listed = runner.invoke(app, ["runs", "--out", str(tmp_path)]).output  # told apart from other discoveries
    assert "discover" in listed and "antimony.price_us_peak_ratio>2.5" in listed and "40 futures" in listed


def test_robust_command_writes_table_plot_and_report(tmp_path):
    result = runner.invoke(
        app,
        [
            "robust",
            str(CHINA),
            str(SCENARIOS / "processing_first.yaml"),
            "--futures",
            "3",
            "--workers",
            "1",
            "--months",
            "24",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    (folder,) = list(tmp_path.iterdir())
    assert {"robust.csv", "outcomes.parquet", "regret.png", "report.html"} <= {p.name for p in folder.iterdir()}
    assert "least maximum regret" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["discover", str(CHINA), "--runs", "5", "--target", "antimony.nonsense>1"],
        ["discover", str(CHINA), "--runs", "5", "--target", "unobtainium.cumulative_shortfall_share>1"],
        ["robust"],
        ["robust", str(CHINA)],
        ["robust", str(CHINA), str(SCENARIOS / "nowhere.yaml")],
        ["robust", str(CHINA), str(SCENARIOS / "processing_first.yaml"), "--threshold", "all.nothing<1"],
        ["robust", str(CHINA), str(SCENARIOS / "processing_first.yaml"), "--metric", "nothing"],
        ["robust", str(CHINA), str(SCENARIOS / "processing_first.yaml"), "--metric", "any.import_reliance_end"],
        ["robust", str(CHINA), str(SCENARIOS / "processing_first.yaml"), "--metric", "a.b>0 or any.c"],
        ["robust", str(CHINA), str(SCENARIOS / "processing_first.yaml"), "--metric", "gallium.time_to_recover_months"],
        ["robust", str(CHINA), str(SCENARIOS / "hindcast_2023_2025.yaml")],
        ["discover", str(CHINA), "--runs", "5", "--target", "any.months_in_shortfall>0"],
    ],
)
def test_bad_decision_input_is_one_line_exit_2_and_nothing_written(tmp_path, args):
    result = runner.invoke(app, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert not any(tmp_path.iterdir())


def test_a_policy_file_that_does_not_validate_is_named_and_nothing_runs(tmp_path):
    bad = tmp_path / "bad_policy.yaml"
    bad.write_text("name: bad_policy\nextends: " + str(SCENARIOS / "china_ban.yaml") + "\nhorizon_months: -3\n")
    out = tmp_path / "results"
    result = runner.invoke(app, ["robust", str(CHINA), str(bad), "--out", str(out)])
    assert result.exit_code == 2 and "bad_policy.yaml:3" in result.output and "horizon_months" in result.output
    assert not out.exists() or not any(out.iterdir())


def test_an_out_folder_that_is_a_file_is_refused_before_any_run(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    result = runner.invoke(
        app, ["discover", str(CHINA), "--runs", "30", "--target", "any.months_in_shortfall>0", "--out", str(blocker)]
    )
    assert result.exit_code == 2 and "is a file, not a directory" in result.output and "held in" not in result.output


def test_robust_shows_a_ratio_outcome_in_its_own_unit_not_in_percent(tmp_path):
    result = runner.invoke(
        app,
        [
            "robust",
            str(CHINA),
            str(SCENARIOS / "processing_first.yaml"),
            "--futures",
            "2",
            "--workers",
            "1",
            "--months",
            "12",
            "--metric",
            " antimony.price_us_peak_ratio ",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "antimony.price_us_peak_ratio, x baseline" in result.output and "Regret in x baseline" in result.output
    table = pd.read_csv(next(tmp_path.iterdir()) / "robust.csv")
    assert (table["metric_median"] > 1).all()  # a price ratio above baseline, read as such (not 0, not x100)
