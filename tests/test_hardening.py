"""Adversarial input, item by item (the hardening issue's reproducers): each ends in one clear line and exit
code 2, or runs correctly; nothing is written for a refused command."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app

from .helpers import SCENARIOS, no_hang

runner = CliRunner()
CHINA = str(SCENARIOS / "china_ban.yaml")


def sim(*args: str):
    with no_hang():
        return runner.invoke(app, list(args))


def refused(result, *words: str) -> str:
    """Exit 2, one line naming what is wrong, and no exception escaped."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def nothing_in(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


# --- 1-5: reading scenario files ----------------------------------------------------------------------


def test_deep_nesting_and_recursive_aliases_are_refused(tmp_path):
    deep = write(tmp_path, "deep.yaml", "name: x\nworld: " + "[" * 3000 + "]" * 3000 + "\n")
    refused(sim("validate", deep), "deep.yaml:2", "nested more than")
    loop = write(tmp_path, "loop.yaml", "name: r\nworld: &w\n  foo: *w\n")
    refused(sim("validate", loop), "loop.yaml", "refers to a block that contains it")
    out = tmp_path / "results"
    refused(sim("run", CHINA, "--set", "sources=&a [*a]", "--out", str(out)), "--set", "contains it")
    assert nothing_in(out)


def test_exploding_aliases_are_refused_before_they_expand(tmp_path):
    lines = ["name: laughs", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    path = write(tmp_path, "laughs.yaml", "\n".join(lines) + "\n")
    assert Path(path).stat().st_size < 500
    refused(sim("validate", path), "laughs.yaml", "values once aliases are expanded")


def test_control_characters_huge_and_endless_files_are_refused(tmp_path):
    refused(sim("validate", write(tmp_path, "nul.yaml", b"name: x\x00y\n")), "nul.yaml:1", "#x0000")
    refused(sim("validate", write(tmp_path, "bell.yaml", b"name: x\ndescription: \x07\n")), "bell.yaml:2")
    refused(sim("validate", "/dev/zero"), "/dev/zero", "larger than")
    big = write(tmp_path, "big.yaml", "name: big\ndescription: '" + "x" * 400_000 + "'\n")
    refused(sim("validate", big), "big.yaml", "larger than")
    refused(sim("validate", write(tmp_path, "latin.yaml", b"name: caf\xe9\n")), "latin.yaml", "UTF-8")


@pytest.mark.parametrize("parent", [".", "/", "..", "a" * 300, "sub/"])
def test_extends_that_names_no_file_is_refused(tmp_path, parent):
    path = write(tmp_path, "child.yaml", f"name: child\nextends: '{parent}'\n")
    refused(sim("validate", path), "child.yaml:2", "extends")


def test_thousands_of_events_through_extends_are_capped_and_merged_in_linear_time(tmp_path):
    event = "  - {type: power_price_shock, start: 2026-01, months: 3, multiplier: 1.5}\n"
    write(tmp_path, "parent.yaml", "name: parent\nevents:\n" + event * 900)
    ok = write(tmp_path, "ok.yaml", "name: ok\nextends: parent\nevents:\n" + event * 100)
    result = sim("validate", ok)  # 1,000 events merged: at the cap, accepted (no_hang guards the time)
    assert result.exit_code == 0 and "1000 events" in result.output, result.output
    over = write(tmp_path, "over.yaml", "name: over\nextends: parent\nevents:\n" + event * 200)
    refused(sim("validate", over), "over.yaml:4", "1,100 events", "at most 1,000")
    many = write(tmp_path, "many.yaml", "name: many\nextends: parent\nevents:\n" + "  - {}\n" * 7100)
    refused(sim("validate", many), "many.yaml:4", "7,100 events", "at most 1,000")


# --- 6-11: distributions and numbers ------------------------------------------------------------------


def run_summary(out: Path, *args: str) -> dict:
    result = sim("run", CHINA, "--months", "12", "--no-plots", "--out", str(out), *args)
    assert result.exit_code == 0, result.output
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return json.loads((folder / "summary.json").read_text())["minerals"]


def test_a_degenerate_distribution_is_its_constant(tmp_path):
    drawn = run_summary(tmp_path / "a", "--set", "events[0].leakage={triangular: [0.1, 0.1, 0.1]}")
    fixed = run_summary(tmp_path / "b", "--set", "events[0].leakage=0.1")
    assert drawn == fixed
    result = sim("sensitivity", CHINA, "--set", "events[0].leakage={uniform: [0.1, 0.1]}", "--out", str(tmp_path / "c"))
    refused(result, "no uncertain inputs")
    assert nothing_in(tmp_path / "c")


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("policies.priority_rating={uniform: [0, 1]}", ("priority_rating", "stands for a number", "bool")),
        ("events[0].start={uniform: [1, 2]}", ("start", "stands for a number")),
        ("world.minerals.antimony.stockpile_t={uniform: [0, .inf]}", ("stockpile_t", "finite")),
        ("world.minerals.antimony.stockpile_t={uniform: [-1e308, 1e308]}", ("stockpile_t", "finite")),
        ("world.minerals.antimony.price_usd_per_t=.inf", ("price_usd_per_t", "finite")),
        ("world.minerals.antimony.price_usd_per_t=.nan", ("price_usd_per_t", "finite")),
        ("world.minerals.antimony.us_demand_t_per_yr=1e308", ("us_demand_t_per_yr", "less than or equal")),
        ("world.market.restart_cost_usd_per_tpy=1e300", ("restart_cost_usd_per_tpy", "less than or equal")),
        ("horizon_months={uniform: [12, 24]}", ("horizon_months", "cannot be drawn")),
        ("seed={uniform: [1, 5]}", ("seed", "cannot be drawn")),
    ],
)
def test_distributions_and_numbers_that_cannot_be_drawn_or_used_are_refused(tmp_path, setting, words):
    out = tmp_path / "results"
    refused(sim("run", CHINA, "--runs", "2", "--workers", "1", "--set", setting, "--out", str(out)), *words)
    assert nothing_in(out)


@pytest.mark.parametrize("runs", ["1", "4"])
def test_draws_that_break_a_rule_together_are_reported_with_the_draws(tmp_path, runs):
    out = tmp_path / "results"
    result = sim(
        "run",
        CHINA,
        "--seed",
        "3",
        "--runs",
        runs,
        "--workers",
        "2",
        "--months",
        "6",
        "--no-plots",
        "--set",
        "world.supply.China.antimony.capacity_t_per_yr={uniform: [60000, 200000]}",
        "--set",
        "world.supply.China.antimony.output_t_per_yr={uniform: [50000, 190000]}",
        "--out",
        str(out),
    )
    line = refused(result, "drawn values break a rule", "capacity_t_per_yr=", "output_t_per_yr=", "is above")
    assert len(line) < 600
    assert nothing_in(out)


def test_a_scenario_name_ending_in_a_newline_is_refused(tmp_path):
    path = write(tmp_path, "evil.yaml", 'name: "evil\\n"\n')
    refused(sim("validate", path), "evil.yaml", "name")
    refused(sim("new", "evil\n", "--dir", str(tmp_path)), "not a scenario name")


# --- 12-15: commands ----------------------------------------------------------------------------------


def test_sweep_of_an_indicator_some_points_lack_shows_them_as_a_dash(tmp_path):
    result = sim(
        "sweep",
        str(SCENARIOS / "antimony_tungsten_2026.yaml"),
        "--vary",
        "events[0].leakage=0,1",
        "--indicator",
        "time_to_recover_months",
        "--months",
        "36",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "never short" in result.output


@pytest.mark.parametrize(
    ("vary", "words"),
    [
        ("events[0].leakage=0:nan:0.1", ("finite",)),
        ("events[0].leakage=0:inf:0.1", ("finite",)),
        ("events[0].leakage=-inf:1:0.1", ("finite",)),
        ("description=&a [*a]", ("contains it",)),
        ("events[0].leakage=0:1:1e-9", ("1,000,000,001 runs", "at most 10,000")),
    ],
)
def test_bad_vary_values_and_oversized_grids_are_refused_before_building_anything(tmp_path, vary, words):
    refused(sim("sweep", CHINA, "--vary", vary, "--out", str(tmp_path)), *words)
    assert nothing_in(tmp_path)


@pytest.mark.parametrize(
    "args",
    [
        ("run", CHINA, "--runs", "1000000"),
        ("sweep", CHINA, "--vary", "events[0].leakage=0:1", "--sample", "lhs", "--n", "1000000"),
        ("sensitivity", CHINA, "--set", "events[0].leakage={uniform: [0, 1]}", "--n", "1000000"),
    ],
)
def test_run_counts_above_the_cap_are_refused_with_the_way_further(tmp_path, args):
    line = refused(sim(*args, "--out", str(tmp_path)), "000,000 runs", "at most 10,000")
    assert "--seed" in line or "--n" in line
    assert nothing_in(tmp_path)
