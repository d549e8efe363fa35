"""SupplyChainModel: the Mesa model that owns the world's state and clears the market each month.

Order within a month (MODEL.md §2-4): policies for the month, power price, US demand; processors
produce; funders commit and trade the stockpile; the US import need is set; supplier countries
produce and ship; the market clears (redirects, deliveries, stocks, prices); the recorder records.
"""

from __future__ import annotations

import numpy as np
from mesa import Model

from sim.model.agents import FederalFunder, SupplierCountry, USProcessor
from sim.model.market import (
    adjust_step,
    allocate_in_order,
    allocate_pro_rata,
    price_response,
    priority_levels,
    redirect_share,
    serve_pooled,
    share,
    tightness,
    update_price,
)
from sim.model.pipeline import Pipeline
from sim.model.plants import IDLE, OPERATING, PlantTable
from sim.model.timeline import Timeline, build_timeline
from sim.scenario.load import ResolvedScenario
from sim.scenario.schema import FundingProgramme, Scenario, month_index
from sim.world.schema import ProgrammeData, World

DIVERTED_FEED = "open countries (diverted)"


class SupplyChainModel(Model):
    """Monthly agent-based model of US critical-mineral supply. Quantities t/month, prices USD/t."""

    def __init__(self, resolved: ResolvedScenario, seed: int | None = None, months: int | None = None) -> None:
        seed = resolved.scenario.seed if seed is None else seed
        super().__init__(rng=seed)
        self.seed = seed
        scenario, world, self.draws = resolved.sample(self.rng)
        if months is not None:
            scenario = scenario.model_copy(update={"horizon_months": months})
        self.scenario_spec: Scenario = scenario
        self.world: World = world
        self.month = 0
        self._build_indices()
        self._build_baseline()
        if scenario is resolved.scenario:  # nothing drawn: every run of this scenario has the same policies
            key = (type(self), "policies")  # a subclass may build them differently
            self.timeline, self.reliable_share, self.divert_weights = resolved.shared(key, self._build_policies)
        else:
            self.timeline, self.reliable_share, self.divert_weights = self._build_policies()
        self._build_state()
        self.plant_table = PlantTable()
        self._create_agents()
        from sim.results.recorder import Recorder  # late import: recorder reads model attributes

        self.recorder = Recorder(self)

    # --- set-up -------------------------------------------------------------------------------------

    def _build_indices(self) -> None:
        w = self.world
        self.minerals = list(w.minerals)
        self.mineral_index = {name: i for i, name in enumerate(self.minerals)}
        self.countries = list(w.supply)
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
        self.import_share /= self.import_share.sum(axis=1, keepdims=True)
        self.adversary = self.alignment == "adversary"

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
        self.stockpile_buy_below = market.stockpile_buy_below_ratio * self.price0  # USD/t: ... at or below this
        self.supply_adjust_step = adjust_step(self.supply_adjust_months[:, None])  # [M, 1], for decide()
        # [2, 1]: how far prices move with tightness, outside and inside restricting countries (_update_prices)
        self.price_sensitivity = np.array([[market.price_sensitivity], [market.inside_price_sensitivity]])
        domestic0 = np.zeros(len(self.minerals))
        for plant in w.plants.values():
            if plant.status == "operating":
                domestic0[self.mineral_index[plant.mineral]] += plant.capacity_t_per_yr / 12
        # Baseline imports close the US balance; each country's output covers at least its US exports.
        self.domestic_capacity0 = domestic0
        self.imports0 = np.maximum(self.demand0 - self.recycling0 - domestic0, 0.0)
        exports0 = self.import_share * self.imports0[:, None]
        self.row_demand0 = np.maximum(self.output0 - exports0, 0.0)
        self.output0 = self.row_demand0 + exports0
        self.capacity0 = np.maximum(self.capacity0, self.output0)

    def _build_policies(self) -> tuple[Timeline, np.ndarray, np.ndarray]:
        """The scenario's month-by-month policy arrays and two shares [month, mineral, ...] that depend
        only on them and the world: read-only, so the runs of an ensemble can share them."""
        tl = build_timeline(self.scenario_spec, self.minerals, self.countries, self.sector_names, self.sector_share)
        # Share of the import need that policies let through, at baseline import shares (_capacity_gap).
        reliable_share = (self.import_share * tl.allowed_share).sum(axis=2)
        # Share of diverted feedstock each open country gives up: its share of open countries' baseline
        # output (_divert_feedstock).
        weights = np.where(tl.is_open, self.output0, 0.0)
        divert_weights = share(weights, weights.sum(axis=2, keepdims=True))
        for array in (reliable_share, divert_weights):
            array.flags.writeable = False
        tl.freeze()
        return tl, reliable_share, divert_weights

    def _build_state(self) -> None:
        M, C = self.capacity0.shape
        params = self.world.market
        self.growth = np.ones(M)
        self.price_outside = self.price0.copy()
        self.price_inside = self.price0.copy()
        self.price_floor = np.zeros(M)
        self.output = self.output0.copy()
        self.output_level = np.ones((M, C))
        self.feedstock_diverted = np.zeros((M, C))
        self.producer_stock = self.output0 * params.producer_stock_months
        self.us_inventory = self.demand0 * params.us_inventory_months
        self.stockpile = self.stockpile0.copy()
        tl = self.timeline
        self.licence_pipe = Pipeline((M, C), tl.max_delay, tl.licence_delays)
        self.leak_pipe = Pipeline((M, C), tl.max_delay, tl.leak_delays)
        self.last_shortfall = np.zeros(M)
        self.last_shortfall_share = np.zeros(M)
        self.last_gap_share = np.zeros(M)
        self._risk_month = -1  # month of the cached mineral_risk()
        self.power_contract = self.world.power.baseline_usd_per_mwh
        self.priority_levels = self._priority_levels()  # fixed for the run
        self.power_price = self.power_contract
        for name in (
            "row_demand",
            "row_export_demand",
            "sent_row",
            "sent_allied",
            "sent_direct",
            "sent_licensed",
            "sent_leaked",
            "redirect_offer",
        ):
            setattr(self, name, np.zeros((M, C)))

    def _create_agents(self) -> None:
        for c, country in enumerate(self.countries):
            SupplierCountry(self, country, c)
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
        )

    def add_funded_plant(
        self, mineral: int, capacity_t_per_yr: float, online_month: int, failed: bool, funded_by: str
    ) -> USProcessor:
        """A new plant paid for by a funder. Its non-power costs leave a 15 % margin at baseline prices; its
        feedstock is diverted from open countries' processors (see _divert_feedstock)."""
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
            DIVERTED_FEED,
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

    def has_plants(self) -> np.ndarray:
        table = self.plant_table
        standing = (table.status == OPERATING) | (table.status == IDLE)
        return np.bincount(table.mineral[standing], minlength=len(self.minerals)) > 0

    # --- one month ----------------------------------------------------------------------------------

    def step(self) -> None:
        t, tl, params = self.month, self.timeline, self.world.market
        self.growth = self.growth_factor ** (t / 12)
        power = self.world.power
        self.power_price = power.baseline_usd_per_mwh * (1 + power.trend_per_yr) ** (t / 12) * tl.power_multiplier[t]

        demand_response = price_response(self.price_outside, self.price0, self.demand_elasticity)
        base = self.sector_demand0 * (self.growth * demand_response)[:, None]
        self.sector_demand = base * tl.demand_multiplier[t] + tl.demand_extra_t_per_month[t]
        self.us_demand_total = self.sector_demand.sum(axis=1)
        recycling = self.recycling = self.recycling0 * self.growth

        # Every USProcessor's decision, in one pass; sets domestic_output, installed_capacity,
        # foreign_fed_output, domestic_capacity, funded_output and under_construction (per mineral).
        self.plant_table.step(self)
        self.feedstock_diverted = self._divert_feedstock(self.funded_output)

        self.price_floor = np.zeros(len(self.minerals))
        self.stockpile_purchase_order = np.zeros(len(self.minerals))
        self.stockpile_release = np.minimum(tl.stockpile_order_t_per_month[t], self.stockpile)
        self.agents_by_type[FederalFunder].do("step")
        release = self.stockpile_release

        licence_arrivals = self.licence_pipe.arrive(t)
        leak_arrivals = self.leak_pipe.arrive(t)
        self.inventory_target = self.demand0 * self.growth * params.us_inventory_months
        need = (
            self.us_demand_total
            + self.stockpile_purchase_order
            + (self.inventory_target - self.us_inventory) / params.inventory_adjust_months
            - self.domestic_output
            - recycling
            - release
            - licence_arrivals.sum(1)
            - leak_arrivals.sum(1)
            - tl.allied_total[t]
        )
        self.us_import_need = np.maximum(need, 0.0)
        self.redirect_share = redirect_share(
            self.price_outside, self.price0, params.redirect_max_share, params.redirect_full_premium
        )
        stock_before = self.producer_stock  # replaced below, never changed in place: no copy needed
        # Supplier countries decide independently; one batched call does what each agent's step()
        # does for its own column (tests check the two agree).
        SupplierCountry.decide(self, slice(None))

        licensed_now = self.licence_pipe.ship(t, self.sent_licensed, tl.licence_delay[t])
        leaked_now = self.leak_pipe.ship(t, self.sent_leaked, tl.leak_delay[t])
        licence_arrivals += licensed_now
        leak_arrivals += leaked_now
        # The import need already nets out earlier shipments arriving now; only this month's count here.
        shipped_now = (self.sent_direct + self.sent_allied + licensed_now + leaked_now).sum(1)
        gap = np.maximum(self.us_import_need + tl.allied_total[t] - shipped_now, 0.0)
        redirected = allocate_pro_rata(gap, self.redirect_offer)
        direct = self.sent_direct + redirected
        shipped = self.sent_allied + self.sent_direct + self.sent_licensed + self.sent_leaked + redirected
        available = np.maximum(self.output + stock_before - shipped - self.sent_row, 0.0)
        is_open = tl.is_open[t]
        cut_off = (self.row_export_demand - self.sent_row).sum(1)  # third-country buyers a restriction cut off
        home_demand = self.row_demand - self.row_export_demand
        served = serve_pooled(available, home_demand, is_open, cut_off)
        self.producer_stock = np.maximum(available - served, 0.0)
        row_delivered = served + self.sent_row
        # Each country's exports (t/month): to the US, plus to third countries — what a restriction lets
        # out, or else the non-home share of its other sales (home share as for restricting countries).
        held = tl.held[t]
        home = self.world.market.home_share_of_restricted_output
        departed = shipped - self.sent_licensed + licence_arrivals  # licensed goods leave when approved
        self.country_exports = departed + np.where(held, self.sent_row, (1.0 - home) * served)

        arrivals = {"direct": direct, "licensed": licence_arrivals, "leaked": leak_arrivals, "allied": self.sent_allied}
        imports = sum(a.sum(1) for a in arrivals.values())
        inventory_before = self.us_inventory  # replaced below, never changed in place
        flow = self.domestic_output + imports + recycling + release
        on_hand = flow + self.us_inventory
        delivered = allocate_in_order(on_hand, self.sector_demand, self.priority_levels)
        # The stockpile buys only what is left once every sector is served.
        delivered_total = delivered.sum(1)
        purchase = np.minimum(self.stockpile_purchase_order, on_hand - delivered_total)
        filled = share(purchase, self.stockpile_purchase_order)
        if self.stockpile_purchase_order.any():  # some programme ordered (orders are >= 0)
            for funder in self.agents_by_type[FederalFunder]:
                if funder.instrument == "stockpile" and funder.order_t.any():  # only stockpiles order
                    funder.settle_purchase(filled)
        self.us_inventory = on_hand - delivered_total - purchase
        self.stockpile = self.stockpile - release + purchase
        shortfall = self.sector_demand - delivered

        self._update_prices(
            stock_before,
            inventory_before,
            recycling,
            release,
            licence_arrivals,
            leak_arrivals,
            shipped,
            purchase,
            home_demand,
        )

        capacity_gap = self._capacity_gap(recycling)

        total_shortfall = shortfall.sum(1)
        self.last_shortfall = total_shortfall
        self.last_shortfall_share = share(total_shortfall, self.us_demand_total)
        self.last_gap_share = share(capacity_gap, self.us_demand_total)
        self.recorder.record(
            t,
            delivered=delivered,
            delivered_total=delivered_total,
            shortfall_total=total_shortfall,
            recycling=recycling,
            release=release,
            purchase=purchase,
            imports=imports,
            arrivals=arrivals,
            capacity_gap=capacity_gap,
            row_delivered=row_delivered,
            stock_before=stock_before,
        )
        self.month += 1

    def _capacity_gap(self, recycling: np.ndarray, capacity: np.ndarray | None = None) -> np.ndarray:
        """t/month of domestic processing capacity missing against what is needed: the baseline's own
        domestic capacity plus the part of the import need that restrictions now withhold (each country's
        import share x the share its policy stops, leakage not counted on), less allied commitments,
        against domestic `capacity` (default: what can run now). Zero in a baseline; the withheld share of
        imports under a ban or quota; the curtailed capacity under a power spike."""
        t = self.month
        reliable_share = self.reliable_share[t]
        import_need = np.maximum(self.us_demand_total - recycling - self.domestic_capacity0, 0.0)
        reliable = reliable_share * import_need + self.timeline.allied_total[t]
        needed = self.us_demand_total - recycling - reliable
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

    def _update_prices(
        self,
        stock_before,
        inventory_before,
        recycling,
        release,
        licence_arrivals,
        leak_arrivals,
        shipped,
        purchase,
        home_demand,
    ) -> None:
        """Outside and inside prices move with their own market's tightness (MODEL.md §3.4)."""
        params = self.world.market
        is_open = self.timeline.is_open[self.month]
        stock_target = self.output0 * self.growth[:, None] * params.producer_stock_months
        # What reaches the outside market from restricting countries this month, and all that arrives
        # from the transit pipelines (licensed and leaked material shipped in earlier months).
        from_restricting = (
            np.where(is_open, 0.0, self.sent_direct + self.sent_allied).sum(1)
            + licence_arrivals.sum(1)
            + leak_arrivals.sum(1)
        )
        # Stocks buffer: a stock gap counts as tightness spread over `inventory_adjust_months`.
        k = params.inventory_adjust_months
        stock_target_k, stock_before_k = stock_target / k, stock_before / k
        exports_held = self.row_export_demand.sum(1)  # third-country buyers of restricting countries
        supply_k = self.output + stock_before_k  # this month's output, and stocks spread over k months
        demand_out = (
            exports_held
            + np.where(is_open, self.row_demand + stock_target_k, 0.0).sum(1)
            + self.us_demand_total
            + self.inventory_target / k
            + purchase
        )
        available_out = (
            np.where(is_open, supply_k, 0.0).sum(1)
            + self.domestic_output
            + recycling
            + release
            + inventory_before / k
            + from_restricting
            + self.sent_row.sum(1)
        )
        scale_out = np.where(is_open, self.row_demand, 0.0).sum(1) + self.us_demand_total + exports_held
        restricted = self.timeline.restricting[self.month]
        demand_in = np.where(restricted, home_demand + stock_target_k + shipped + self.sent_row, 0.0).sum(1)
        available_in = np.where(restricted, supply_k, 0.0).sum(1)
        scale_in = np.where(restricted, home_demand, 0.0).sum(1)
        # Both markets' prices move in one call: row 0 outside, row 1 inside (the same arithmetic per price).
        z, price = np.empty((2, len(self.minerals))), np.empty((2, len(self.minerals)))
        z[0], z[1] = tightness(demand_out, available_out, scale_out), tightness(demand_in, available_in, scale_in)
        price[0], price[1] = self.price_outside, self.price_inside
        new = update_price(
            price,
            self.price0,
            z,
            self.price_sensitivity,
            params.price_speed_per_month,
            params.price_floor_ratio,
            params.price_cap_ratio,
        )
        self.price_outside = new[0]
        self.price_inside = np.where(self.timeline.any_restricting[self.month], new[1], self.price_outside)

    def run(self) -> None:
        """Step to the horizon (through Mesa's clock, which calls step() once a month)."""
        months_left = self.scenario_spec.horizon_months - self.month
        if months_left > 0:
            self.run_for(months_left)
