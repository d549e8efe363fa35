"""The default world data: every figure sourced, shares consistent, coverage of world output."""

from collections import defaultdict

import pytest

from sim.world.load import default_world, provenance, read_table

MINERALS = {
    "antimony",
    "tungsten",
    "rare_earths",
    "gallium",
    "germanium",
    "graphite",
    "aluminium",
    "copper",
    "magnesium",
    "titanium",
}


def test_every_default_figure_has_a_source_and_a_year():
    rows = provenance()
    assert rows
    for row in rows:
        assert row.source.strip(), row
        assert 1950 <= row.year <= 2026, row


@pytest.mark.parametrize("table", ["minerals", "supply", "plants", "sectors", "programmes", "power"])
def test_every_table_row_has_source_and_year_columns(table):
    for row in read_table(table):
        assert row["source"].strip() and row["year"].strip().isdigit(), row


def test_the_required_minerals_are_all_there_with_plants_and_sectors():
    world = default_world()
    assert set(world.minerals) >= MINERALS
    minerals_with_plants = {p.mineral for p in world.plants.values()}
    assert minerals_with_plants >= MINERALS
    assert set(world.sectors) >= MINERALS


def test_listed_countries_cover_90_percent_of_world_output():
    output = defaultdict(lambda: [0.0, 0.0])
    for row in read_table("supply"):
        listed = row["country"] != "Rest of world"
        output[row["mineral"]][0 if listed else 1] += float(row["output_t_per_yr"])
    for mineral, (listed, rest) in output.items():
        assert listed / (listed + rest) >= 0.9, mineral


def test_us_import_shares_and_sector_shares_sum_to_one():
    world = default_world()
    for mineral in world.minerals:
        shares = sum(rows[mineral].us_import_share for rows in world.supply.values() if mineral in rows)
        assert abs(shares - 1) < 1e-6, mineral
        assert abs(sum(s.share for s in world.sectors[mineral].values()) - 1) < 1e-6, mineral


def test_defence_is_first_priority_wherever_it_appears():
    for mineral, sectors in default_world().sectors.items():
        if "defence" in sectors:
            assert sectors["defence"].priority == 1, mineral


def test_baseline_flows_keep_published_sourcing_and_add_up_to_output():
    """Published sourcing shares (contracts.csv: share of a region's imports from a supplier) are kept in the
    fitted baseline flows, but for where the assumed regional demand cannot take them (a supplier asked for
    more than 90 % of its non-US output): those are listed in docs/model.md."""
    import numpy as np

    from sim.model.model import SupplyChainModel
    from sim.scenario.load import load_scenario

    from .helpers import SCENARIOS

    model = SupplyChainModel(load_scenario(SCENARIOS / "baseline.yaml"))
    # Where the assumed regional demand cannot take a published share, the fit departs from it (listed in
    # docs/model.md, Limitations): EU germanium and rare earths from Russia are capped; EU gallium drifts.
    loose = {("EU", "germanium", "China"), ("EU", "rare_earths", "Russia"), ("EU", "gallium", "China")}
    for region, by_mineral in model.world.contracts.items():
        r = model.region_index[region]
        own = model.home_region == r
        for mineral, shares in by_mineral.items():
            i = model.mineral_index[mineral]
            imports = model.flows0[i, ~own, r].sum()
            for supplier, published in shares.items():
                fitted = model.flows0[i, model.country_index[supplier], r] / imports
                tolerance = 0.15 if (region, mineral, supplier) in loose else 0.02
                assert abs(fitted - published) < tolerance, (region, mineral, supplier, fitted, published)
    others = model.flows0[:, :, 1:].sum(axis=2) + model.flows0[:, :, 0]
    np.testing.assert_allclose(others, model.output0, rtol=1e-9, atol=1e-9)  # every country's output placed
