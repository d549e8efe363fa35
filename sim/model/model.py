"""SupplyChainModel: the Mesa model that owns the world's state; agents decide, the market clears.

Order within a month (MODEL.md §2-4): policies and the power price; US demand; processors produce;
funders commit and trade the stockpile; buyer regions set demand and orders; supplier countries produce;
the world market clears (allied commitments, contracts, leakage, spot rationing); regions consume and
stock; prices follow each market's stocks against desired stocks. The model hands its state to whoever
records it (the `recorder` it is given); it imports nothing from sim.results.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
from mesa import Model

from sim.model.agents import BuyerRegion, FederalFunder, SupplierCountry, USProcessor
from sim.model.market import (
    adjust_step,
    allocate_in_order,
    baseline_flows,
    contracts_honoured,
    fill_contracts,
    leak_share,
    per_region,
    per_supplier,
    priority_levels,
    ration_spot,
    share,
    stock_price,
)
from sim.model.pipeline import Pipeline
from sim.model.plants import DIVERTED_FEED, FAILED, IDLE, OPERATING, PlantTable
from sim.model.stages import FeedNetwork, build_mine_policy
from sim.model.timeline import build_timeline
from sim.scenario.load import ResolvedScenario
from sim.scenario.schema import FundingProgramme, Scenario, SupplyDisruption, month_index
from sim.world.schema import REST, US, ProgrammeData, World

US_R = 0  # the United States is region 0


def capacity_need(
    demand: np.ndarray, recycling: np.ndarray, domestic0: np.ndarray, reliable_share: np.ndarray, allied: np.ndarray
) -> np.ndarray:
    """t/month of domestic processing the US needs: demand less recycling, less the imports policies still let
    through (the baseline import need, demand beyond recycling and baseline domestic capacity `domestic0`,
    times `reliable_share`) and less allied commitments. Element by element, so it takes one month's
    [mineral] arrays or a run's [month, mineral] arrays alike."""
    import_need = np.maximum(demand - recycling - domestic0, 0.0)
    return demand - recycling - (reliable_share * import_need + allied)


class MonthObserver(Protocol):
    """Whoever records a run: called once a month after the market has cleared."""

    def record(self, t: int, **month: np.ndarray) -> None: ...


class SupplyChainModel(Model):
    """Monthly agent-based model of a world critical-mineral market seen from the US. t/month, USD/t."""

    def __init__(
        self,
        resolved: ResolvedScenario,
        seed: int | None = None,
        months: int | None = None,
        recorder: Callable[[SupplyChainModel], MonthObserver] | None = None,
    ) -> None:
        """`recorder` builds the observer that records each month (sim.results.recorder.Recorder for a run
        whose results are wanted); without one the model runs unrecorded."""
        seed = resolved.scenario.seed if seed is None else seed
        super().__init__(rng=seed)
        self.seed = seed
        scenario, world, self.draws = resolved.sample(self.rng)
        if months is not None:
            scenario = scenario.model_copy(update={"horizon_months": months})
        self.scenario_spec: Scenario = scenario
        self.world: World = world
        self.month = 0
        # Nothing drawn: every run of this scenario builds the same world, so what it fits can be shared.
        self._shared_by = resolved if scenario is resolved.scenario else None
        self._build_indices()
        self._build_baseline()
        if scenario is resolved.scenario:  # nothing drawn: every run of this scenario has the same policies
            key = (type(self), "policies")  # a subclass may build them differently
            policies = resolved.shared(key, self._build_policies)
        else:
            policies = self._build_policies()
        (
            self.timeline,
            self.reliable_share,
            self.divert_weights,
            self.allowed,
            self.closed,
            self.supply_risk,
            self.separated,
            self.inside,
            self.policy_changes,
        ) = policies
        self._build_byproducts()
        self._build_stages()
        self._build_state()
        self.plant_table = PlantTable()
        self._create_agents()
        self.recorder = None if recorder is None else recorder(self)

    # --- set-up -------------------------------------------------------------------------------------

    def _build_indices(self) -> None:
        w = self.world
        self.minerals = list(w.minerals)
        self.mineral_index = {name: i for i, name in enumerate(self.minerals)}
        # Countries that process (the market's suppliers), then those that only mine (their ore is processed
        # elsewhere: model/stages.py).
        mine_only = sorted({c for rows in w.mines.values() for c in rows} - set(w.supply) - {US})
        self.countries = [*w.supply, *mine_only]
        self.country_index = {name: i for i, name in enumerate(self.countries)}
        self.sector_names = [list(w.sectors[m]) for m in self.minerals]
        S = max(len(s) for s in self.sector_names)
        M, C = len(self.minerals), len(self.countries)
        self.sector_share = np.zeros((M, S))
        self.sector_priority = np.full((M, S), 9)
        for i, mineral in enumerate(self.minerals):
            for s, (_, data) in enumerate(w.sectors[mineral].items()):
                self.sector_share[i, s] = data.share
                self.sector_priority[i, s] = data.priority
        self.sector_share /= self.sector_share.sum(axis=1, keepdims=True)
        self.alignment = np.full((M, C), "", dtype=object)
        self.capacity0 = np.zeros((M, C))
        self.output0 = np.zeros((M, C))
        self.import_share = np.zeros((M, C))
        for c, (_country, rows) in enumerate(w.supply.items()):
            for mineral, row in rows.items():
                i = self.mineral_index[mineral]
                self.capacity0[i, c] = row.capacity_t_per_yr / 12
                self.output0[i, c] = row.output_t_per_yr / 12
                self.import_share[i, c] = row.us_import_share
                self.alignment[i, c] = row.alignment
        # Sanctioned suppliers cannot ship to the US directly (world data `sanctions`, sourced).
        self.sanctioned = np.zeros((M, C), dtype=bool)
        for exporter, listed in w.sanctions.items():
            rows = slice(None) if listed == "all" else [self.mineral_index[m] for m in listed]
            self.sanctioned[rows, self.country_index[exporter]] = True
        self.import_share = np.where(self.sanctioned, 0.0, self.import_share)
        self.import_share /= self.import_share.sum(axis=1, keepdims=True)
        self.adversary = self.alignment == "adversary"
        # Buyer regions, the US first; each supplier country's home region (Rest of world unless listed).
        self.regions = [US, *(name for name in w.regions if name != US)]
        self.region_index = {name: r for r, name in enumerate(self.regions)}
        self.home_region = np.full(C, self.region_index[REST])
        for name, region in w.regions.items():
            for country in region.countries:
                self.home_region[self.country_index[country]] = self.region_index[name]

    def _build_baseline(self) -> None:
        w = self.world
        mineral = [w.minerals[m] for m in self.minerals]

        def column(attr: str) -> np.ndarray:
            return np.array([getattr(x, attr) for x in mineral], dtype=float)

        self.price0 = column("price_usd_per_t")
        self.demand0 = column("us_demand_t_per_yr") / 12
        self.demand_growth = column("demand_growth_per_yr")
        self.growth_factor = 1.0 + self.demand_growth  # a year's growth, for the month's (1 + g) ** (t / 12)
        self.demand_elasticity = column("demand_elasticity")
        self.supply_elasticity = column("supply_elasticity")
        self.recycling0 = column("recycling_share") * self.demand0
        self.sector_demand0 = self.demand0[:, None] * self.sector_share  # [M, S] t/month at baseline
        self.electricity = column("electricity_mwh_per_t")
        self.capex = column("capex_usd_per_tpy")
        self.build_lead_months = column("build_lead_months")
        self.feedstock_cost_share = column("feedstock_cost_share")
        self.supply_adjust_months = column("supply_adjust_months")
        self.stockpile0 = column("stockpile_t")
        market = w.market
        self.stockpile_target = market.stockpile_target_months * self.demand0  # t: stockpiles buy up to this
        self.stockpile_plan = column("stockpile_buy_t_per_yr") / 12  # t/month the NDS plan may buy
        self.stockpile_buy_below = market.stockpile_buy_below_ratio * self.price0  # USD/t: ... at or below this
        self.supply_adjust_step = adjust_step(self.supply_adjust_months[:, None])  # [M, 1], for decide()
        domestic0 = np.zeros(len(self.minerals))
        for plant in w.plants.values():
            if plant.status == "operating":
                domestic0[self.mineral_index[plant.mineral]] += plant.capacity_t_per_yr / 12
        # Baseline US imports close the US balance; each country's output covers at least its US exports.
        self.domestic_capacity0 = domestic0
        self.imports0 = np.maximum(self.demand0 - self.recycling0 - domestic0, 0.0)
        exports0 = self.import_share * self.imports0[:, None]
        self.output0 = np.maximum(self.output0, exports0)
        self.capacity0 = np.maximum(self.capacity0, self.output0)
        self._build_slots()
        self._build_regions(exports0)

    def _build_slots(self) -> None:
        """Each mineral's producing countries packed into K slots (K = the most any mineral has), for the
        market's [M, K, R] arrays: the clearing does the same arithmetic on fewer zeros. Spare slots point
        at a country with no capacity for that mineral, whose quantities are all zero."""
        active = (self.capacity0 > 0) | (self.output0 > 0)
        M, C = active.shape
        K = max(int(active.sum(axis=1).max()), 1)
        slots = np.zeros((M, K), dtype=np.int64)
        for i in range(M):
            own, idle = np.flatnonzero(active[i]), np.flatnonzero(~active[i])
            slots[i, : len(own)] = own
            slots[i, len(own) :] = idle[0] if idle.size else own[0]
        self.flat_slots = (np.arange(M)[:, None] * C + slots).reshape(-1)

    def pack(self, values: np.ndarray) -> np.ndarray:
        """[M, C, ...] -> [M, K, ...]: each mineral's producing countries only (see _build_slots)."""
        M, C = self.capacity0.shape
        return values.reshape(M * C, *values.shape[2:])[self.flat_slots].reshape(M, -1, *values.shape[2:])

    def unpack(self, values: np.ndarray) -> np.ndarray:
        """[..., M, K] -> [..., M, C], zero for the countries that produce none of a mineral."""
        lead = values.shape[:-2]
        out = np.zeros((*lead, self.capacity0.size))
        out[..., self.flat_slots] = values.reshape(*lead, -1)
        return out.reshape(*lead, *self.capacity0.shape)

    def _build_regions(self, us_imports0: np.ndarray) -> None:
        """Other regions' demand and every region's baseline trade flows [M, C, R] (t/month).

        World consumption outside the US is what the world produces less what the US imports; each region
        takes its `demand_share` of it. Flows are fitted (market.baseline_flows) to every country's output
        and every region's demand from a prior: US imports as published (USGS import shares), published
        sourcing shares of other regions (world data `contracts`), a home bias for a region's own
        producers, and 1 for everything else."""
        w, M, C, R = self.world, len(self.minerals), len(self.countries), len(self.regions)
        self.region_demand0 = np.zeros((M, R))
        world_ex_us = self.output0.sum(axis=1) - us_imports0.sum(axis=1)
        for r, name in enumerate(self.regions[1:], start=1):
            shares = w.regions[name].demand_share
            self.region_demand0[:, r] = [shares.get(m, 0.0) * world_ex_us[i] for i, m in enumerate(self.minerals)]
        self.region_demand0[:, 1:] *= share(world_ex_us, self.region_demand0[:, 1:].sum(axis=1))[:, None]
        self.region_demand0[:, US_R] = self.demand0
        prior = np.ones((M, C, R))
        prior[:, np.arange(C), self.home_region] = w.market.home_bias
        prior = np.where(self.output0[:, :, None] > 0, prior, 0.0)
        fixed = np.zeros((M, C, R), dtype=bool)
        fixed[:, :, US_R] = True
        prior[:, :, US_R] = us_imports0
        self._fix_published_sourcing(prior, fixed, us_imports0)
        fit = lambda: baseline_flows(self.output0, self.region_demand0, prior, fixed)  # noqa: E731
        # The fit (a few ms) is the same for every run of a scenario with nothing drawn: shared, read-only.
        self.flows0 = fit() if self._shared_by is None else self._shared_by.shared((type(self), "flows"), fit)
        self.flows0.flags.writeable = False
        # Output is data (USGS), regional demand mostly assumed: where the two cannot both hold, the fit
        # keeps output and each region's baseline demand is what its fitted flows bring it.
        self.region_demand0[:, 1:] = self.flows0[:, :, 1:].sum(axis=1)
        self.flow_share0 = share(self.flows0, self.flows0.sum(axis=1, keepdims=True))  # of a region's purchases
        self.usual = self.pack(self.flow_share0)  # packed, for the spot market's first round
        region = [w.regions[name] for name in self.regions]
        self.inventory_months = np.array([x.inventory_months for x in region])
        self.precautionary_months = np.array([x.precautionary_months for x in region])
        # Packed [M, K, R]: a country's sales outside its home region are its exports (fixed for the run)
        self.abroad = self.pack(
            np.broadcast_to(np.arange(R)[None, None, :] != self.home_region[None, :, None], (M, C, R))
        )
        self.region_elasticity = self.demand_elasticity[:, None] * np.array(
            [x.demand_elasticity_factor for x in region]
        )

    def _fix_published_sourcing(self, prior: np.ndarray, fixed: np.ndarray, us_imports0: np.ndarray) -> None:
        """Fix the baseline flows that published sourcing shares give (world data `contracts`: a share of a
        region's imports from a supplier): share x the region's imports (its demand less what its own
        producers have for it). No supplier is asked for more than 90 % of its non-US output this way:
        where a published share and the assumed regional demand disagree that much, the shares of that
        supplier's cells are scaled down, and docs/model.md lists the fitted shares beside the published."""
        w = self.world
        left_for_others = self.output0 - us_imports0  # [M, C] t/month
        for region, by_mineral in w.contracts.items():
            r = self.region_index[region]
            own = self.home_region == r
            for mineral, shares in by_mineral.items():
                i = self.mineral_index[mineral]
                imports = max(self.region_demand0[i, r] - left_for_others[i, own].sum(), 0.0)
                for supplier, value in shares.items():
                    c = self.country_index.get(supplier)
                    if c is not None and self.output0[i, c] > 0:
                        prior[i, c, r] = value * imports
                        fixed[i, c, r] = True
        published = np.where(fixed, prior, 0.0)
        published[:, :, US_R] = 0.0
        asked = published.sum(axis=2)  # [M, C] t/month the published shares ask of each supplier
        room = 0.9 * np.maximum(left_for_others, 0.0)
        scale = np.where(asked > 0, np.minimum(share(room, asked), 1.0), 1.0)
        prior[:, :, 1:] = np.where(fixed[:, :, 1:], prior[:, :, 1:] * scale[:, :, None], prior[:, :, 1:])

    def _build_policies(self) -> tuple[np.ndarray, ...]:
        """The scenario's month-by-month policy arrays and what depends only on them and the world:
        read-only, so the runs of an ensemble can share them."""
        tl = build_timeline(
            self.scenario_spec, self.minerals, self.countries, self.regions, self.sector_names, self.sector_share
        )
        # A country's sales in its own region are not exports: no export restriction covers them.
        home = np.zeros((len(self.countries), len(self.regions)), dtype=bool)
        home[np.arange(len(self.countries)), self.home_region] = True
        tl.exempt_home(home)
        # [T, M, C, R]: share of the baseline flow a route may carry, and routes a policy or sanction governs.
        allowed = tl.allowed_to.copy()
        allowed[:, :, :, US_R] = np.where(self.sanctioned, 0.0, allowed[:, :, :, US_R])
        closed = tl.covers.copy()
        closed[:, :, :, US_R] |= self.sanctioned
        # Share of the US import need that policies let through, at baseline import shares (_capacity_gap).
        reliable_share = (self.import_share * allowed[:, :, :, US_R]).sum(axis=2)
        # Share of diverted feedstock each open country gives up: its share of open countries' baseline
        # output (_divert_feedstock).
        weights = np.where(tl.is_open, self.output0, 0.0)
        divert_weights = share(weights, weights.sum(axis=2, keepdims=True))
        # [T, M, R]: the share of a region's baseline purchases that policies now block (its supply risk,
        # which drives precautionary buying).
        supply_risk = np.einsum("tmcr,mcr->tmr", 1.0 - allowed, self.flow_share0)
        # [T, M, C]: producers a restriction separates from the world market, because it covers every
        # region but their own (a ban on the US alone does not: they sell to everyone else). [T, M, R]:
        # the regions inside such a country's market: its own region, where it is most of the supply.
        # A country in a region it does not dominate (Russia in the Rest of world) still sells freely into
        # that region, part of the outside market: it is never separated.
        own_market = home[None] & (self.flow_share0 > 0.5)  # [M, C, R]
        dominates = own_market.any(axis=2)  # [M, C]
        separated = tl.restricting & (tl.covers | home[None, None]).all(axis=3) & dominates[None]
        inside = np.einsum("tmc,mcr->tmr", separated.astype(float), own_market.astype(float)) > 0
        # Months in which what policies allow, close or tax differs from the month before (_regime).
        changes = np.ones(len(allowed), dtype=bool)
        changes[1:] = (
            (allowed[1:] != allowed[:-1]).any(axis=(1, 2, 3))
            | (closed[1:] != closed[:-1]).any(axis=(1, 2, 3))
            | (tl.tariff[1:] != tl.tariff[:-1]).any(axis=(1, 2, 3))
            | (tl.leakage[1:] != tl.leakage[:-1]).any(axis=(1, 2))
            | (tl.licensed_to[1:] != tl.licensed_to[:-1]).any(axis=(1, 2, 3))
            | (tl.licence_delay[1:] != tl.licence_delay[:-1]).any(axis=(1, 2))
            | (tl.leak_delay[1:] != tl.leak_delay[:-1]).any(axis=(1, 2))
            | (tl.leak_markup[1:] != tl.leak_markup[:-1]).any(axis=(1, 2))
        )
        arrays = (reliable_share, divert_weights, allowed, closed, supply_risk, separated, inside, changes)
        for array in arrays:
            array.flags.writeable = False
        tl.freeze()
        return (tl, *arrays)

    def _build_byproducts(self) -> None:
        """By-products (world data `byproducts`): the part of a country's capacity that a host supports
        (gallium on alumina, germanium on zinc and coal ash, antimony on gold ores) follows the host. A host
        that is a mineral of the model (China's alumina follows its aluminium) moves with that mineral's
        output; host-stage disruptions take their share of it. US rows are what recovery circuits could yield
        at US hosts: the ceiling of what a `builds: recovery` programme can fund."""
        w, T = self.world, self.scenario_spec.horizon_months
        M, C = self.capacity0.shape
        entries: list[tuple[int, int, int, float, str]] = []  # mineral, country, host mineral, t/month, host
        self.host_other_share = np.ones((M, C))  # share of capacity no host limits
        self.us_recovery_potential = np.zeros(M)  # t/yr
        self.recovery_capex = np.zeros(M)  # USD per t/yr
        for mineral, by_country in w.byproducts.items():
            i = self.mineral_index[mineral]
            for country, hosts in by_country.items():
                for host, data in hosts.items():
                    if country == US:  # a US host: what recovery circuits there could yield
                        self.us_recovery_potential[i] += data.potential_t_per_yr or 0.0
                        self.recovery_capex[i] = max(self.recovery_capex[i], data.recovery_capex_usd_per_tpy or 0.0)
                        continue
                    c = self.country_index[country]
                    linked = -1 if data.host_mineral is None else self.mineral_index[data.host_mineral]
                    potential = data.potential_t_per_yr
                    if potential is None:
                        potential = data.share_of_capacity * w.supply[country][mineral].capacity_t_per_yr
                    entries.append((i, c, linked, potential / 12, host))
                    self.host_other_share[i, c] -= data.share_of_capacity
        self.host_other_share = np.maximum(self.host_other_share, 0.0)
        E = len(entries)
        self.host_mineral_of = np.array([e[0] for e in entries], dtype=np.int64)
        self.host_country_of = np.array([e[1] for e in entries], dtype=np.int64)
        self.host_linked = np.array([e[2] for e in entries], dtype=np.int64)
        self.host_potential = np.array([e[3] for e in entries], dtype=float)
        self.has_host = np.zeros((M, C), dtype=bool)
        self.has_host[self.host_mineral_of, self.host_country_of] = True
        self.host_factor = np.ones((T, E))  # 1 - host output lost to host-stage disruptions
        for event in self.scenario_spec.events:
            if not isinstance(event, SupplyDisruption) or "host" not in event.stages:
                continue
            first, end = self.scenario_spec.event_window(event)
            for e, (i, c, _, _, host) in enumerate(entries):
                hit = self.minerals[i] in event.minerals and self.countries[c] == event.country
                if hit and (event.hosts is None or host in event.hosts):
                    self.host_factor[first:end, e] *= 1.0 - event.capacity_loss

    def _build_stages(self) -> None:
        """The mine stage beneath the market (model/stages.py): the ore routes that feed each processor, the
        US mine pool, and what mine-stage events do."""
        home = np.zeros((len(self.countries), len(self.regions)), dtype=bool)
        home[np.arange(len(self.countries)), self.home_region] = True
        build = lambda: build_mine_policy(  # noqa: E731
            self.scenario_spec, self.minerals, self.countries, self.regions, self.sector_names, self.sector_share, home
        )
        shared = self._shared_by is not None and self.scenario_spec is self._shared_by.scenario
        self.mine_policy = self._shared_by.shared((type(self), "mine_policy"), build) if shared else build()
        used = np.zeros(len(self.minerals))  # t/month of US ore US plants process at baseline
        for plant in self.world.plants.values():
            if plant.status == "operating" and plant.feedstock_country == US and plant.feed_stage == "mine":
                used[self.mineral_index[plant.mineral]] += plant.capacity_t_per_yr / 12
        self.feeds = FeedNetwork(self.world, self.minerals, self.countries, self.output0, used)
        # Products made from other minerals (magnets from oxides): [M, M] t of input per t of product.
        M = len(self.minerals)
        self.input_intensity = np.zeros((M, M))
        for product, inputs in self.world.product_inputs.items():
            for name, tonnes in inputs.items():
                self.input_intensity[self.mineral_index[product], self.mineral_index[name]] = tonnes
        self.made_from = self.input_intensity.any(axis=1)  # [M]
        self.input_share = np.ones(self.capacity0.shape)  # set each month: see _inputs_received
        self.us_input_share = np.ones(M)
        self.feed_capacity_share = np.ones(self.capacity0.shape)
        self.mine_feed_share = np.ones(self.capacity0.shape)
        self.funded_mines: list[tuple[int, float, int]] = []  # mineral, t/yr, month online
        self.us_mine_added = np.zeros(len(self.minerals))  # t/yr of funded US mines online
        self.mine_gap = np.zeros(len(self.minerals))  # t/month, set each month by _mine_stage
        self.us_ore_cover = np.zeros(len(self.minerals))  # share of cut-off ore US ore covers (plants.py)

    def _mine_stage(self) -> None:
        """This month's US ore: US plants on US ore first, then funded plants (before they divert foreign
        feed); what is left is exported and feeds processors abroad. Sets the feed share of every processor."""
        t, feeds = self.month, self.feeds
        if self.funded_mines:
            self.us_mine_added = np.zeros(len(self.minerals))
            for mineral, capacity, online in self.funded_mines:
                if online <= t:
                    self.us_mine_added[mineral] += capacity
        self.us_mine_output = feeds.us_mine0 * self.growth + self.us_mine_added / 12
        spare = np.maximum(self.us_mine_output - self.us_ore_output, 0.0)
        # US ore left over goes first to plants buying ore abroad that policies cut off (next month: they
        # read us_ore_cover), then replaces the rest of their imported ore, then feeds funded plants (before
        # they divert foreign feed); what is still left is exported.
        covering = np.minimum(self.ore_lacking, spare)
        self.us_ore_cover = np.divide(covering, self.ore_lacking, out=np.zeros_like(spare), where=self.ore_lacking > 0)
        replacing = np.minimum(self.foreign_ore_output, spare - covering)
        on_us_ore = np.minimum(self.funded_output, spare - covering - replacing)
        self.us_mine_used = self.us_ore_output + covering + replacing + on_us_ore
        self.us_mine_exported = np.maximum(self.us_mine_output - self.us_mine_used, 0.0)
        # What runs on US ore is not foreign-fed (import_reliance_incl_feedstock).
        self.foreign_fed_output = np.maximum(self.foreign_fed_output - covering - replacing - on_us_ore, 0.0)
        self.diverting_output = self.funded_output - on_us_ore + self.resourced_output
        # The mine-stage gap: ore US plants need and can neither import (policies) nor get from US mines.
        self.mine_gap = self.ore_lacking - covering
        export_share = np.divide(
            self.us_mine_exported, feeds.us_exports0, out=np.ones_like(feeds.us_exports0), where=feeds.us_exports0 > 0
        )
        self.feed_capacity_share = feeds.capacity_share(
            t, self.mine_policy, self.home_region, self.world.market.feed_switch_months, export_share
        )

    def _inputs_received(self) -> np.ndarray:
        """[M, C] share of its capacity a maker of a product can run on the inputs its region received last
        month: the lowest, over its inputs, of the share of the region's demand for that input that was met
        (a region short of oxide makes fewer magnets; one with none makes none). 1 for other products."""
        if not self.made_from.any():
            return self.input_share
        demand, delivered = self.region_demand, self.region_delivered
        met = np.minimum(np.divide(delivered, demand, out=np.ones_like(demand), where=demand > 0), 1.0)  # [M, R]
        share = np.ones(self.capacity0.shape)
        self.us_input_share = np.ones(len(self.minerals))  # US plants making such products (plants.py)
        for product in np.flatnonzero(self.made_from):
            inputs = np.flatnonzero(self.input_intensity[product])
            share[product] = met[inputs][:, self.home_region].min(axis=0)
            self.us_input_share[product] = met[inputs, US_R].min()
        return share

    def byproduct_capacity(self) -> np.ndarray:
        """[M, C] t/month: the capacity hosts allow this month (infinite where no host limits it), from
        the hosts' output last month."""
        if not self.has_host.any():
            return np.full(self.capacity0.shape, np.inf)
        t, linked = self.month, self.host_linked
        ratio = np.ones(len(linked))
        follows = linked >= 0
        c = self.host_country_of[follows]
        trend = self.output0[linked[follows], c] * self.growth[linked[follows]]
        ratio[follows] = share(self.output[linked[follows], c], trend)
        from_hosts = np.zeros(self.capacity0.shape)
        yields = self.host_potential * self.growth[self.host_mineral_of] * self.host_factor[t] * ratio
        np.add.at(from_hosts, (self.host_mineral_of, self.host_country_of), yields)
        rest = self.host_other_share * self.capacity0 * self.growth[:, None] * self.timeline.capacity_factor[t]
        return np.where(self.has_host, rest + from_hosts, np.inf)

    def _build_state(self) -> None:
        M, C = self.capacity0.shape
        R = len(self.regions)
        params = self.world.market
        self.growth = np.ones(M)
        self.price_outside = self.price0.copy()
        self.price_inside = self.price0.copy()
        self.price_market = np.repeat(self.price0[:, None], R, axis=1)  # [M, R] each region's market price
        self.price_paid = self.price_market.copy()  # [M, R] what its buyers pay: market price plus duties
        self.price_us = self.price0.copy()
        self.best_price = np.repeat(self.price0[:, None], len(self.countries), axis=1)  # [M, C]
        self.price_floor = np.zeros(M)
        self.output = self.output0.copy()
        self.output_level = np.ones((M, C))
        self.feedstock_diverted = np.zeros((M, C))
        self.producer_stock = self.output0 * params.producer_stock_months
        self.inventory = self.region_demand0 * self.inventory_months  # [M, R] buyers' stocks, t
        self.inventory_target = self.inventory.copy()
        self.region_demand = self.region_demand0.copy()
        self.region_delivered = self.region_demand0.copy()  # [M, R] this month's, set by step()
        self.region_arrivals = np.zeros((M, R))
        self.orders = np.zeros((M, R))
        self.own_supply = np.zeros((M, R))
        self.stockpile = self.stockpile0.copy()
        tl = self.timeline
        K = len(self.flat_slots) // M
        self.licence_pipe = Pipeline((M, K, R), tl.max_delay, tl.licence_delays)  # packed: see _build_slots
        self.leak_pipe = Pipeline((M, K, R), tl.max_delay, tl.leak_delays)
        self.shipments = self.pack(self.flows0)  # last month's, packed [M, K, R]: weights of each region's duties
        self.last_shortfall = np.zeros(M)
        self.last_shortfall_share = np.zeros(M)
        self.last_gap_share = np.zeros(M)
        self._risk_month = -1  # month of the cached mineral_risk()
        self.power_contract = self.world.power.baseline_usd_per_mwh
        self.priority_levels = self._priority_levels()  # fixed for the run
        self.power_price = self.power_contract
        self.country_exports = np.zeros((M, C))
        self.host_capacity = np.full((M, C), np.inf)  # set each month by byproduct_capacity()
        self._regime_cache: dict[str, np.ndarray] | None = None

    @property
    def us_inventory(self) -> np.ndarray:
        """US commercial stocks, t [M] (region 0 of `inventory`)."""
        return self.inventory[:, US_R]

    def _create_agents(self) -> None:
        for c, country in enumerate(self.countries):
            SupplierCountry(self, country, c)
        for r, region in enumerate(self.regions):
            BuyerRegion(self, region, r)
        for name, plant in self.world.plants.items():
            USProcessor(
                self,
                name,
                self.mineral_index[plant.mineral],
                plant.capacity_t_per_yr,
                plant.status,
                plant.electricity_mwh_per_t,
                plant.other_cost_usd_per_t,
                plant.feedstock_country,
                plant.hedged_power_share,
                feed_stage=plant.feed_stage,
            )
        for name, prog in self.world.programmes.items():
            self._add_funder(name, prog, prog.start_month, prog.end_month, from_scenario=False)
        for event in self.scenario_spec.events:
            if isinstance(event, FundingProgramme):
                first = month_index(event.start, self.scenario_spec.start)
                end = None if event.months is None else first + event.months
                self._add_funder(event.name, event, max(first, 0), end, from_scenario=True)

    def _add_funder(
        self, name: str, prog: ProgrammeData | FundingProgramme, start: int, end: int | None, from_scenario: bool
    ) -> None:
        eligible = np.array([prog.minerals == "all" or m in prog.minerals for m in self.minerals])
        builds = getattr(prog, "builds", "processing")  # standing programmes (world data) build processing
        if builds == "recovery":
            eligible &= self.us_recovery_potential > 0
        FederalFunder(
            self,
            name,
            prog.instrument,
            prog.annual_budget_usd,
            prog.carryover,
            prog.success_rate,
            eligible,
            start,
            end,
            from_scenario,
            builds,
        )

    def add_funded_plant(
        self,
        mineral: int,
        capacity_t_per_yr: float,
        online_month: int,
        failed: bool,
        funded_by: str,
        feedstock: str = DIVERTED_FEED,
    ) -> USProcessor:
        """A new plant paid for by a funder. Its non-power costs leave a 15 % margin at baseline prices. Its
        feedstock is diverted from open countries' processors (see _divert_feedstock), or, for a recovery
        circuit at a US host, domestic (`US`)."""
        name = f"new_{self.minerals[mineral]}_{funded_by}_{self.month:03d}"
        power_cost = self.electricity[mineral] * self.power_contract
        net_price = self.price0[mineral] * (1 - self.feedstock_cost_share[mineral])
        other = max(0.0, 0.85 * net_price - power_cost)
        if not failed:
            self.under_construction[mineral] += capacity_t_per_yr
        return USProcessor(
            self,
            name,
            mineral,
            capacity_t_per_yr,
            "failed" if failed else "construction",
            self.electricity[mineral],
            other,
            feedstock,
            0.5,
            online_month=online_month,
            funded_by=funded_by,
        )

    # --- what agents ask of the model ---------------------------------------------------------------

    def mineral_risk(self) -> np.ndarray:
        """Projected risk per mineral: recent shortfall, capacity gap and price premium (shares). It reads
        last month's outcomes only, so it is computed once a month however many funders ask."""
        if self._risk_month != self.month:
            premium = np.maximum(self.price_outside / self.price0 - 1.0, 0.0)
            self._risk = self.last_shortfall_share + 0.5 * self.last_gap_share + 0.25 * premium
            self._risk.flags.writeable = False  # every funder this month reads the same array
            self._risk_month = self.month
        return self._risk

    def add_funded_mine(self, mineral: int, capacity_t_per_yr: float, online_month: int, failed: bool) -> None:
        """A new US mine paid for by a funder: its ore joins the US pool when it comes online (never, if the
        project fails)."""
        if not failed:
            self.funded_mines.append((mineral, capacity_t_per_yr, online_month))

    def mine_pipeline_t_per_yr(self, mineral: int) -> float:
        """t/yr of funded US mines of a mineral not yet online."""
        return sum(c for i, c, online in self.funded_mines if i == mineral and online > self.month)

    def recovery_room(self) -> np.ndarray:
        """[M] t/yr of US recovery potential no funded recovery circuit has taken yet (failed ones aside)."""
        table = self.plant_table
        taken = (table.funder >= 0) & ~table.foreign_fed & (table.status != FAILED)
        built = np.bincount(table.mineral[taken], table.capacity_t_per_yr[taken], minlength=len(self.minerals))
        return np.maximum(self.us_recovery_potential - built, 0.0)

    def has_plants(self) -> np.ndarray:
        table = self.plant_table
        standing = (table.status == OPERATING) | (table.status == IDLE)
        return np.bincount(table.mineral[standing], minlength=len(self.minerals)) > 0

    # --- one month ----------------------------------------------------------------------------------

    def step(self) -> None:
        t, tl = self.month, self.timeline
        self.growth = self.growth_factor ** (t / 12)
        power = self.world.power
        self.power_price = power.baseline_usd_per_mwh * (1 + power.trend_per_yr) ** (t / 12) * tl.power_multiplier[t]
        self.price_paid = self._paid_prices()
        self.price_us = self.price_paid[:, US_R]
        # Feedstock of US plants fed from abroad: what policies let through on the route to the US, and what
        # leaks where it is closed (at last month's prices).
        self.feedstock_share = self._us_feedstock_share()

        demand_response = (self.price_us / self.price0) ** self.demand_elasticity
        base = self.sector_demand0 * (self.growth * demand_response)[:, None]
        self.sector_demand = base * tl.demand_multiplier[t] + tl.demand_extra_t_per_month[t]
        # What US demand would be at baseline prices: the gap to it is demand priced out, which a shortfall
        # (measured against demand at the month's price) does not show.
        unpriced = self.sector_demand0 * self.growth[:, None] * tl.demand_multiplier[t] + tl.demand_extra_t_per_month[t]
        self.us_demand_at_baseline_price = unpriced.sum(axis=1)
        self.us_demand_total = self.sector_demand.sum(axis=1)
        recycling = self.recycling = self.recycling0 * self.growth

        # Every USProcessor's decision, in one pass; sets domestic_output, installed_capacity,
        # foreign_fed_output, domestic_capacity, funded_output and under_construction (per mineral).
        self.mine_feed_share = self.mine_policy.allowed_to[t, :, :, US_R] * self.mine_policy.capacity_factor[t]
        self.plant_table.step(self)
        self._mine_stage()
        self.feedstock_diverted = self._divert_feedstock(self.diverting_output)

        self.price_floor = np.zeros(len(self.minerals))
        self.stockpile_purchase_order = np.zeros(len(self.minerals))
        self.stockpile_release = np.clip(self.stockpile, 0.0, tl.stockpile_order_t_per_month[t])
        self.agents_by_type[FederalFunder].do("step")
        release = self.stockpile_release

        # What the US supplies itself nets out of its order on the world market; a stockpile order adds to it.
        self.own_supply[:, US_R] = self.domestic_output + recycling + release - self.stockpile_purchase_order
        licence_arrivals, leak_arrivals = self.licence_pipe.arrive(t), self.leak_pipe.arrive(t)
        # Buyer regions and supplier countries decide independently; one batched call each does what every
        # agent's step() does for its own column (tests check the two agree).
        # The best price each producer may sell at (duties aside: they go to the importer's government).
        open_to = self._regime()["spot_preference"] > 0
        best = np.where(open_to, self.price_market[:, None, :], 0.0).max(axis=2)
        self.best_price = np.maximum(self.unpack(best), self.price_outside[:, None])
        self.host_capacity = self.byproduct_capacity()  # from last month's host output, before it changes
        self.input_share = self._inputs_received()  # from last month's deliveries
        BuyerRegion.decide(self, slice(None))
        SupplierCountry.decide(self, slice(None))
        stock_before, inventory_before = self.producer_stock, self.inventory  # replaced below, not changed in place
        flows = self._clear(licence_arrivals, leak_arrivals)

        arrivals = flows["arrivals"]  # [M, R]
        us = self._consume_in_us(arrivals[:, US_R], recycling, release)
        # Other regions consume from stocks and arrivals; what they cannot cover is their shortfall.
        on_hand = self.inventory + arrivals
        delivered = np.minimum(self.region_demand, on_hand)
        delivered[:, US_R] = us["delivered_total"]
        inventory = on_hand - delivered
        inventory[:, US_R] = us["inventory"]
        self.inventory = inventory
        self.region_delivered = delivered
        self.region_arrivals = arrivals
        self._update_prices()

        capacity_gap = self._capacity_gap(recycling)
        total_shortfall = us["shortfall"].sum(1)
        self.last_shortfall = total_shortfall
        self.last_shortfall_share = share(total_shortfall, self.us_demand_total)
        self.last_gap_share = share(capacity_gap, self.us_demand_total)
        if self.recorder is not None:
            self.recorder.record(
                t,
                delivered=us["delivered"],
                delivered_total=us["delivered_total"],
                shortfall_total=total_shortfall,
                recycling=recycling,
                release=release,
                purchase=us["purchase"],
                imports=arrivals[:, US_R],
                arrivals=flows["us_routes"],
                capacity_gap=capacity_gap,
                stock_before=stock_before,
                inventory_before=inventory_before,
            )
        self.month += 1

    def _paid_prices(self) -> np.ndarray:
        """[M, R] what each region's buyers pay this month: its market price plus its duties, weighted by
        where last month's purchases came from (by the baseline sourcing for a mineral it bought none of)."""
        if not self.timeline.any_tariff[self.month]:
            return self.price_market.copy()
        bought = self.shipments.sum(axis=1, keepdims=True)  # [M, 1, R] (packed shipments: _clear)
        weights = np.where(bought > 0, share(self.shipments, bought), self.usual)
        duty = (weights * self._regime()["tariff"]).sum(axis=1)  # [M, R]
        return self.price_market * (1.0 + duty)

    def _us_feedstock_share(self) -> np.ndarray:
        """[M, C] share of a US plant's foreign feedstock that still arrives from country c."""
        t, tl, params = self.month, self.timeline, self.world.market
        allowed, closed = self.allowed[t, :, :, US_R], self.closed[t, :, :, US_R]
        if not tl.leakage[t].any():
            return allowed
        us_price = self.price_market[:, US_R : US_R + 1]  # [M, 1]: the US alone, as a destination
        leak = leak_share(us_price, self.source_price(), tl.leak_markup[t], tl.leakage[t], params.leak_full_gap)
        return np.where(closed, allowed + (1.0 - allowed) * leak[:, :, 0], allowed)

    def source_price(self) -> np.ndarray:
        """[M, C] the price a country's producers get at home: inside if a restriction separates them."""
        return np.where(self.separated[self.month], self.price_inside[:, None], self.price_outside[:, None])

    def _regime(self) -> dict[str, np.ndarray]:
        """What the month's policies make of the baseline flows (before growth): computed again only in a
        month where a policy, sanction or tariff changes (`policy_changes`), as the arrays are the same
        in between."""
        t, tl, params = self.month, self.timeline, self.world.market
        if self._regime_cache is not None and not self.policy_changes[t]:
            return self._regime_cache
        allowed, closed = self.allowed[t], self.closed[t]
        preference = np.ones(allowed.shape)
        if tl.any_tariff[t]:  # buyers turn from suppliers dearer than their usual mix, contracts and spot alike
            usual = (self.flow_share0 * tl.tariff[t]).sum(axis=1, keepdims=True)  # [M, 1, R]
            preference = ((1.0 + tl.tariff[t]) / (1.0 + usual)) ** -params.tariff_substitution
        pack = self.pack
        self._regime_cache = {  # packed [M, K, ...] (see _build_slots)
            "contract": pack(self.flows0 * params.contract_share * preference * allowed),
            "allowed_flow": pack(self.flows0 * allowed),
            "blocked": pack(np.where(closed, self.flows0 * (1.0 - allowed), 0.0)),
            "spot_preference": pack(preference * (allowed > 0)),
            "closed": pack(closed),
            "licensed": pack(tl.licensed_to[t]),
            "licence_delay": pack(tl.licence_delay_to[t]),
            "leak_delay": pack(tl.leak_delay_to[t]),
            "leak_markup": pack(tl.leak_markup[t]),
            "leak_cap": pack(tl.leakage[t]),
            # What a region may draw from a producer's stock on a governed route, per t/month of baseline
            # flow: a working stock of the allowed flow, nothing behind a licence wait (_update_prices).
            "reach_per_flow": pack(
                np.where(tl.licence_delay_to[t] > 0, 0.0, self.flows0 * allowed) * params.producer_stock_months
            ),
            "any_closed": closed.any(),
            "any_capped": bool((closed & (allowed > 0)).any()),  # a quota or licence, not only bans
            "tariff": pack(tl.tariff[t]),
            "any_leakage": bool(tl.leakage[t].any()),
            "any_licensed": bool(tl.licensed_to[t].any()),
        }
        return self._regime_cache

    def _clear(self, licence_arrivals: np.ndarray, leak_arrivals: np.ndarray) -> dict[str, np.ndarray]:
        """The world market this month (docs/model.md, "The world market"): allied commitments, then
        contracts and leakage, then the spot market, all from what suppliers have; ships licensed and
        leaked material into the transit pipelines. Sets producer stocks and country exports. Works on
        packed [M, K, R] arrays (each mineral's producers only; see _build_slots)."""
        t, tl, params = self.month, self.timeline, self.world.market
        regime = self._regime()
        growth = self.growth[:, None, None]
        available = self.pack(self.output + self.producer_stock)
        # First call on the named country's supply, where the route to the US is open to it.
        allied = np.minimum(self.pack(tl.allied_t_per_month[t] * self.allowed[t, :, :, US_R]), available)
        room = available - allied
        bids = self.price_market / self.price_outside[:, None]  # what a supplier gets from each region, duties aside
        contracted = regime["contract"] * growth
        if (bids.max(axis=1) > (1.0 + params.contract_break_premium) * bids.min(axis=1)).any():
            # some buyer outbids another by more than the premium: contracts may lapse (else all hold)
            contracted = contracted * contracts_honoured(
                bids, regime["spot_preference"] > 0, params.contract_break_premium
            )
        orders = self.orders.copy()
        orders[:, US_R] = np.maximum(orders[:, US_R] - allied.sum(axis=1), 0.0)
        if regime["any_leakage"]:
            source = self.pack(self.source_price())
            leak = leak_share(
                self.price_market, source, regime["leak_markup"], regime["leak_cap"], params.leak_full_gap
            )
            leaking = regime["blocked"] * growth * leak
            wanted = contracted + leaking
            filled = fill_contracts(wanted, orders, room)
            taken = share(filled, wanted)
            contract, leaked = contracted * taken, leaking * taken
        else:
            filled = contract = fill_contracts(contracted, orders, room)
            leaked = np.zeros(contract.shape)
        # Spot: what suppliers have left, to what regions still lack; a governed route carries no more in
        # all than its allowed share of the baseline flow.
        caps = None  # banned and sanctioned routes carry nothing anyway (their preference is 0)
        if regime["any_capped"]:
            caps = np.where(regime["closed"], np.maximum(regime["allowed_flow"] * growth - contract, 0.0), np.inf)
        spot = ration_spot(
            np.maximum(room - per_supplier(filled), 0.0),
            np.maximum(orders - per_region(contract), 0.0),
            regime["spot_preference"],
            caps,
            params.spot_rounds,
            bids=bids,
            usual=self.usual,
        )
        shipped = contract + spot
        if regime["any_licensed"]:
            licensed = np.where(regime["licensed"], shipped, 0.0)
            direct = shipped - licensed
            licence_arrivals = licence_arrivals + self.licence_pipe.ship(t, licensed, regime["licence_delay"])
        else:
            direct = shipped
        leak_arrivals = leak_arrivals + self.leak_pipe.ship(t, leaked, regime["leak_delay"])
        # Exports leave the country when shipped (licensed material when its licence comes through).
        departed = per_supplier(np.where(self.abroad, direct + licence_arrivals + leaked, 0.0))
        arrivals = per_region(direct + licence_arrivals + leak_arrivals)
        arrivals[:, US_R] += allied.sum(axis=1)
        # Back to [M, C] in one pass: producer stocks, exports and what reached the US by each route.
        stock = np.maximum(room - per_supplier(shipped + leaked), 0.0)
        self.shipments = shipped  # packed, weighting next month's duties (_paid_prices)
        self.shipments[:, :, US_R] += allied
        us = [direct[:, :, US_R], licence_arrivals[:, :, US_R], leak_arrivals[:, :, US_R], allied]
        unpacked = self.unpack(np.stack([stock, departed + allied, *us]))
        self.producer_stock, self.country_exports = unpacked[0], unpacked[1]
        us_routes = dict(zip(("direct", "licensed", "leaked", "allied"), unpacked[2:], strict=True))
        return {"arrivals": arrivals, "us_routes": us_routes}

    def _consume_in_us(self, imports: np.ndarray, recycling: np.ndarray, release: np.ndarray) -> dict[str, np.ndarray]:
        """US supply reaches sectors in priority order (defence first under a priority rating, pro rata
        within a priority); the stockpile buys only what is left once every sector is served."""
        on_hand = self.domestic_output + imports + recycling + release + self.us_inventory
        delivered = allocate_in_order(on_hand, self.sector_demand, self.priority_levels)
        delivered_total = delivered.sum(1)
        purchase = np.clip(on_hand - delivered_total, 0.0, self.stockpile_purchase_order)  # never below 0 by rounding
        filled = share(purchase, self.stockpile_purchase_order)
        if self.stockpile_purchase_order.any():  # some programme ordered (orders are >= 0)
            for funder in self.agents_by_type[FederalFunder]:
                if funder.instrument == "stockpile" and funder.order_t.any():  # only stockpiles order
                    funder.settle_purchase(filled)
        self.stockpile = self.stockpile - release + purchase
        return {
            "delivered": delivered,
            "delivered_total": delivered_total,
            "purchase": purchase,
            "inventory": on_hand - delivered_total - purchase,
            "shortfall": self.sector_demand - delivered,
        }

    def _capacity_gap(self, recycling: np.ndarray, capacity: np.ndarray | None = None) -> np.ndarray:
        """t/month of domestic processing capacity missing against what is needed: the baseline's own
        domestic capacity plus the part of the import need that restrictions now withhold (each country's
        import share x the share its policy stops, leakage not counted on), less allied commitments,
        against domestic `capacity` (default: what can run now). Zero in a baseline; the withheld share of
        imports under a ban or quota; the curtailed capacity under a power spike."""
        t = self.month
        needed = capacity_need(
            self.us_demand_total,
            recycling,
            self.domestic_capacity0,
            self.reliable_share[t],
            self.timeline.allied_total[t],
        )
        capacity = self.domestic_capacity if capacity is None else capacity
        return np.maximum(needed - capacity, 0.0)

    def funding_gap(self) -> np.ndarray:
        """The gap funders build against, this month: idle and curtailed plants count as capacity, because
        a temporary loss (a power spike) is for restarts, not for new plants."""
        return self._capacity_gap(self.recycling, self.installed_capacity)

    def _divert_feedstock(self, funded_output: np.ndarray) -> np.ndarray:
        """New US processing runs on feedstock that open countries' processors used before: their
        output falls by as much, shared by baseline output, so world supply is not counted twice."""
        return self.divert_weights[self.month] * funded_output[:, None]

    def _priority_levels(self) -> list[np.ndarray]:
        """Masks [M, S] of the sectors at each priority level, leaving out the padding of minerals with
        fewer than S sectors: it never has demand, so a level of padding alone changes nothing."""
        S = self.sector_share.shape[1]
        real = np.arange(S)[None, :] < np.array([len(names) for names in self.sector_names])[:, None]
        return [level & real for level in priority_levels(self._priorities()) if (level & real).any()]

    def _priorities(self) -> np.ndarray:
        if self.scenario_spec.policies.priority_rating:
            return self.sector_priority
        return np.where(self.sector_share > 0, 1, 9)

    def _update_prices(self) -> None:
        """Each market's price from its stocks against the stocks its producers and buyers want (MODEL.md
        §3.4). The outside market: producers a restriction does not separate and the regions outside such a
        producer's own market. The inside market: separated producers and their own regions (its price
        falls when exports are bottled up, rises when output is cut). And each region's own market: its
        stocks and what it may draw from each producer's stocks; a region cut off from some suppliers can
        be tighter than the outside market, and then pays (and bids) more. Never less than outside: what
        is cheaper there would be sold abroad."""
        t, params = self.month, self.world.market
        separated, inside = self.separated[t], self.inside[t]
        producer_target = self.output0 * self.growth[:, None] * params.producer_stock_months
        bounds = (params.price_flexibility, params.price_floor_ratio, params.price_cap_ratio)

        def price(stocks: np.ndarray, desired: np.ndarray) -> np.ndarray:
            return stock_price(self.price0[:, None] if stocks.ndim == 2 else self.price0, stocks, desired, *bounds)

        def pooled(countries: np.ndarray, regions: np.ndarray) -> np.ndarray:
            stocks = (countries * self.producer_stock).sum(1) + (regions * self.inventory).sum(1)
            desired = (countries * producer_target).sum(1) + (regions * self.inventory_target).sum(1)
            return price(stocks, desired)

        self.price_outside = pooled(~separated, ~inside)
        any_separated = separated.any(axis=1)
        inside_price = pooled(separated, inside) if any_separated.any() else self.price_outside
        self.price_inside = np.where(any_separated, inside_price, self.price_outside)
        # Each region's reach [M, K, R] (packed: see _build_slots): all of a producer's stock on an open
        # route; on a route a policy governs, no more than a working stock of the allowed flow; nothing
        # behind a licence wait.
        regime = self._regime()
        packed_stock, packed_target = self.pack(self.producer_stock), self.pack(producer_target)
        if regime["any_closed"]:
            allowed_stock = regime["reach_per_flow"] * self.growth[:, None, None]
            stock = np.where(
                regime["closed"], np.minimum(packed_stock[:, :, None], allowed_stock), packed_stock[:, :, None]
            )
            target = np.where(regime["closed"], allowed_stock, packed_target[:, :, None])
            reach, reach_target = per_region(stock), per_region(target)
        else:  # every region reaches every producer
            reach = np.repeat(packed_stock.sum(axis=1, keepdims=True), len(self.regions), axis=1)
            reach_target = np.repeat(packed_target.sum(axis=1, keepdims=True), len(self.regions), axis=1)
        own = price(reach + self.inventory, reach_target + self.inventory_target)
        market = np.maximum(self.price_outside[:, None], own)
        self.price_market = np.where(inside, self.price_inside[:, None], market)
        self.price_paid = self._paid_prices()  # at the month's end prices (recorded with them)
        self.price_us = self.price_paid[:, US_R]

    def run(self) -> None:
        """Step to the horizon (through Mesa's clock, which calls step() once a month)."""
        months_left = self.scenario_spec.horizon_months - self.month
        if months_left > 0:
            self.run_for(months_left)
