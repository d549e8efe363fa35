"""By-products: capacity that follows its host metal (gallium on alumina, germanium on zinc and coal
ash, antimony on gold ores), host-stage disruptions, and recovery circuits funders can pay for."""

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.api import simulate
from sim.cli import app
from sim.model.plants import FAILED
from sim.scenario.load import load_scenario

from .helpers import recorded, run

DISRUPTION = """\
name: host_shock
extends: baseline
horizon_months: 48
policies: {{funders_respond: false}}
events:
  - {{type: supply_disruption, country: {country}, minerals: [{mineral}], capacity_loss: {loss}, start: 2026-07,
     months: 24{extra}}}
"""


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def shocked(write_scenario, country: str, mineral: str, loss: float, extra: str = "", months: int | None = None):
    text = DISRUPTION.format(country=country, mineral=mineral, loss=loss, extra=extra)
    return simulate(load_scenario(write_scenario(text)), months=months)


@pytest.fixture(scope="module")
def calm():
    return run("baseline", "policies.funders_respond=false", months=48)


def world_output(result, mineral: str) -> np.ndarray:
    return recorded(result, "world_output")[:, result.model.minerals.index(mineral)]


def test_a_large_aluminium_disruption_in_china_lowers_world_gallium_output(write_scenario, calm):
    """China's gallium comes from its alumina refining, which follows its aluminium output: cut that by
    60 % and the gallium its refineries can recover (1,470 t/yr potential) falls below its 750 t/yr output."""
    shock = shocked(write_scenario, "China", "aluminium", 0.6)
    during = slice(8, 30)  # the disruption runs 2026-07 to 2028-06
    assert world_output(shock, "aluminium")[during].mean() < 0.7 * world_output(calm, "aluminium")[during].mean()
    lost = 1 - world_output(shock, "gallium")[during].mean() / world_output(calm, "gallium")[during].mean()
    assert lost > 0.05
    # Once the host recovers, so does gallium (beyond its level during the shock: it overshoots at first,
    # as producers answer the price the shortage raised).
    assert world_output(shock, "gallium")[30:].max() > world_output(shock, "gallium")[during].max()


def test_a_small_aluminium_disruption_leaves_gallium_alone_within_the_hosts_headroom(write_scenario, calm):
    """A 10 % cut still leaves China's alumina able to yield more gallium than its refineries make: the
    by-product follows its host only once the host is the binding limit (a result of the headroom in the
    data, not of the rule)."""
    shock = shocked(write_scenario, "China", "aluminium", 0.1)
    assert np.allclose(world_output(shock, "gallium"), world_output(calm, "gallium"), rtol=1e-3)


def test_a_host_stage_disruption_takes_only_the_capacity_that_host_supports(write_scenario, calm):
    """Half of China's germanium comes from zinc smelting and half from coal fly ash: losing every zinc
    smelter takes at most half of its germanium capacity, where the same loss at the processing stage
    takes all of it."""
    host = shocked(write_scenario, "China", "germanium", 1.0, ", stages: [host], hosts: [zinc]")
    processing = shocked(write_scenario, "China", "germanium", 1.0)
    during = slice(8, 30)
    china = host.model.country_index["China"]
    ge = host.model.minerals.index("germanium")
    calm_world = world_output(calm, "germanium")[during].mean()
    host_world = world_output(host, "germanium")[during].mean()
    processing_world = world_output(processing, "germanium")[during].mean()
    assert processing_world < host_world < calm_world
    # During the shock China's capacity is what coal ash supports: its half, at the month's growth.
    short = shocked(write_scenario, "China", "germanium", 1.0, ", stages: [host], hosts: [zinc]", months=20)
    coal = 0.5 * short.model.world.supply["China"]["germanium"].capacity_t_per_yr
    assert short.model.host_capacity[ge, china] * 12 == pytest.approx(coal * short.model.growth[ge], rel=1e-9)


def test_the_hosts_of_a_host_stage_disruption_must_exist(write_scenario):
    bad = [
        ("copper", "", "recovers no copper as a by-product"),
        ("germanium", ", hosts: [bauxite]", "unknown host 'bauxite' of germanium in China"),
    ]
    for mineral, extra, message in bad:
        text = DISRUPTION.format(country="China", mineral=mineral, loss=0.5, extra=", stages: [host]" + extra)
        outcome = cli("validate", str(write_scenario(text)))
        assert outcome.exit_code == 2 and message in outcome.output, outcome.output
    text = DISRUPTION.format(country="China", mineral="germanium", loss=0.5, extra=", hosts: [zinc]")
    outcome = cli("validate", str(write_scenario(text)))
    assert outcome.exit_code == 2 and "hosts apply to the host stage only" in outcome.output


def test_a_recovery_programme_builds_at_a_us_host_on_domestic_feed():
    """gallium_recovery.yaml: the circuit is fed at home, so it adds to world supply rather than diverting
    feed, lowers the import reliance counting feedstock, and never exceeds the US host's potential."""
    ban, recovery = run("china_ban"), run("gallium_recovery")
    model = recovery.model
    table = model.plant_table
    ga = model.minerals.index("gallium")
    circuits = (table.funder >= 0) & ~table.foreign_fed & (table.mineral == ga)
    assert circuits.any()
    assert table.capacity_t_per_yr[circuits & (table.status != FAILED)].sum() <= 50.0 + 1e-9
    assert (table.feedstock_c[circuits] == -1).all()  # fed at home: no foreign country
    assert (
        recovery.summary["gallium"]["import_reliance_incl_feedstock_end"]
        < ban.summary["gallium"]["import_reliance_incl_feedstock_end"]
    )


def test_only_a_mineral_with_a_us_host_can_get_a_recovery_programme(write_scenario):
    text = """\
name: r
extends: baseline
events:
  - {type: funding_programme, name: p, instrument: grant, builds: recovery, minerals: [tungsten],
     annual_budget_usd: 1.0e8, start: 2026-01}
"""
    outcome = cli("validate", str(write_scenario(text)))
    assert outcome.exit_code == 2
    assert "no mineral of this programme has a US host" in outcome.output and "gallium" in outcome.output
