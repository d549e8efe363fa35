"""The three kinds of agent (MODEL.md §2). Agents decide; the model's market clears.

Each agent reads the model's arrays for last month's prices and this month's policies and writes its
decisions into the model's arrays. Quantities are t/month, prices USD/t, power USD/MWh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from sim.model.market import adjust_by, per_region, price_response
from sim.model.plants import CONSTRUCTION, DIVERTED_FEED, STATUS_NAME
from sim.world.schema import US

if TYPE_CHECKING:
    from sim.model.model import SupplyChainModel

# Programmes act only on minerals whose projected risk (SupplyChainModel.mineral_risk) is above this.
MIN_RISK = 0.01


def _check_slice(columns: object) -> None:
    if not isinstance(columns, slice):
        raise TypeError(f"decide() takes a slice of columns, not {type(columns).__name__}")


class SupplierCountry(Agent):
    """A producing country: its output follows its own market's price with a lag, within its capacity
    (less what disruptions take), and rises to meet an allied commitment where capacity allows. What it
    ships, and to whom, the market settles under the export policies in force (SupplyChainModel._clear)."""

    model: SupplyChainModel

    def __init__(self, model: SupplyChainModel, country: str, index: int) -> None:
        super().__init__(model)
        self.country = country
        self.c = index

    def step(self) -> None:
        self.decide(self.model, slice(self.c, self.c + 1))

    @staticmethod
    def decide(m: SupplyChainModel, c: slice) -> None:
        """Output of the countries in columns `c` (all at once when the model batches them: the same
        arithmetic, one numpy call instead of one per country). Arrays are [M, k].

        `c` must be a slice: the timeline is indexed [t, :, c], where a list would move the country
        axis first and silently transpose the result."""
        _check_slice(c)
        t, tl = m.month, m.timeline
        growth = m.growth[:, None]
        # A producer's marginal tonne goes to the best price it may sell at: the inside price for producers a
        # restriction separates from the world market, else the best market price of the regions it may
        # sell to (duties aside: they go to the importer's government).
        best = m.best_price[:, c]
        price = np.where(m.separated[t, :, c], m.price_inside[:, None], best)
        target = price_response(price, m.price0[:, None], m.supply_elasticity[:, None])
        level = adjust_by(m.output_level[:, c], target, m.supply_adjust_step)
        m.output_level[:, c] = level
        capacity = m.capacity0[:, c] * growth * tl.capacity_factor[t, :, c] * m.feed_capacity_share[:, c]
        capacity = capacity * m.input_share[:, c]  # products made from other minerals: their inputs
        capacity = np.minimum(capacity, m.host_capacity[:, c])
        trend = np.maximum(m.output0[:, c] * growth * level - m.feedstock_diverted[:, c], 0.0)
        m.output[:, c] = np.minimum(trend + tl.allied_t_per_month[t, :, c], capacity)


class BuyerRegion(Agent):
    """A buyer region (the US, China, the EU, Japan and Korea, India, the rest of the world): its demand
    follows the price it pays; it orders to meet demand and keep its stocks at a target that rises with its
    supply risk (precautionary buying, state stockpiles included). No region is served first."""

    model: SupplyChainModel

    def __init__(self, model: SupplyChainModel, region: str, index: int) -> None:
        super().__init__(model)
        self.region = region
        self.r = index

    def step(self) -> None:
        self.decide(self.model, slice(self.r, self.r + 1))

    @staticmethod
    def decide(m: SupplyChainModel, r: slice) -> None:
        """Demand, stock target and order of the regions in columns `r` ([M, k] arrays). The US column's
        demand is its sectors' (set by the model); its own supply (plants, recycling, stockpile) is netted
        out of its order."""
        _check_slice(r)
        t, k = m.month, m.world.market.inventory_adjust_months
        paid = m.price_paid[:, r]
        demand = m.region_demand0[:, r] * m.growth[:, None] * (paid / m.price0[:, None]) ** m.region_elasticity[:, r]
        is_us = np.arange(len(m.regions))[r] == 0  # region 0 is the United States
        demand = np.where(is_us[None, :], m.us_demand_total[:, None], demand)
        m.region_demand[:, r] = demand
        cover = m.inventory_months[r] + m.precautionary_months[r] * m.supply_risk[t, :, r]
        target = demand * cover
        m.inventory_target[:, r] = target
        in_transit = per_region(m.licence_pipe.in_transit() + m.leak_pipe.in_transit())[:, r]
        position = m.inventory[:, r] + in_transit
        m.orders[:, r] = np.maximum(demand - m.own_supply[:, r] + (target - position) / k, 0.0)


def _column(name: str, kind: type) -> property:
    """A read-only attribute of a USProcessor that reads its row of the plant table."""
    return property(lambda self: kind(getattr(self.model.plant_table, name)[self.row]), doc=f"{name} of this plant")


class USProcessor(Agent):
    """A US smelter or refinery: utilisation follows its margin; curtails at a loss, restarts with a lag.

    Its state is one row of the model's PlantTable (sim/model/plants.py), where the decision rule is
    written once and the model applies it to all plants in one pass each month.
    """

    model: SupplyChainModel

    def __init__(
        self,
        model: SupplyChainModel,
        plant: str,
        mineral_index: int,
        capacity_t_per_yr: float,
        status: str,
        electricity_mwh_per_t: float,
        other_cost_usd_per_t: float,
        feedstock_country: str,
        hedged_power_share: float,
        online_month: int = 0,
        funded_by: str | None = None,
        feed_stage: str = "processing",
    ) -> None:
        super().__init__(model)
        self.plant = plant
        self.funded_by = funded_by
        # Fed from abroad: a named foreign country, or (funded plants) feedstock diverted from open countries.
        self.row = model.plant_table.add(
            plant,
            mineral_index,
            capacity_t_per_yr,
            status,
            electricity_mwh_per_t,
            other_cost_usd_per_t,
            model.country_index.get(feedstock_country),
            feedstock_country != "United States",
            hedged_power_share,
            online_month,
            funded_by,
            mine_fed=feed_stage == "mine",
        )

    @property
    def status(self) -> str:
        return STATUS_NAME[int(self.model.plant_table.status[self.row])]

    m = _column("mineral", int)
    utilisation = _column("utilisation", float)
    capacity_t_per_yr = _column("capacity_t_per_yr", float)
    output = _column("output", float)
    margin = _column("margin", float)
    online_month = _column("online_month", int)
    restart_cost_usd = _column("restart_cost_usd", float)


class FederalFunder(Agent):
    """A federal programme: each quarter it puts its budget where the risk is highest (MODEL.md §2)."""

    model: SupplyChainModel

    def __init__(
        self,
        model: SupplyChainModel,
        programme: str,
        instrument: str,
        annual_budget_usd: float,
        carryover: bool,
        success_rate: float,
        eligible: np.ndarray,
        start_month: int = 0,
        end_month: int | None = None,
        from_scenario: bool = False,
        builds: str = "processing",
    ) -> None:
        super().__init__(model)
        self.programme = programme
        self.builds = builds  # processing (diverted foreign feed) or recovery (a by-product circuit at a US host)
        # Standing programmes (world data) respond only while `funders_respond` is on; a programme the
        # scenario itself adds is the policy under study and always runs.
        self.responds = from_scenario or model.scenario_spec.policies.funders_respond
        self.instrument = instrument
        self.annual_budget_usd = annual_budget_usd
        self.carryover = carryover
        self.success_rate = success_rate
        self.eligible = eligible  # [M] bool
        self.start_month = start_month
        self.end_month = end_month
        self.available_usd = 0.0
        self.committed_usd = np.zeros(len(eligible))
        self.floor_mineral: int | None = None
        self.order_t = np.zeros(len(eligible))  # stockpile purchases ordered this month, t

    def active(self) -> bool:
        t = self.model.month
        return t >= self.start_month and (self.end_month is None or t < self.end_month)

    def step(self) -> None:
        m = self.model
        t = m.month
        if not self.active():
            return
        quarter_start = (t - self.start_month) % 3 == 0
        draws = None
        if quarter_start:
            if not self.carryover and (t - self.start_month) % 12 == 0:
                self.available_usd = 0.0  # unspent money lapses at the programme year's end
            self.available_usd += self.annual_budget_usd / 4
            # Fixed draws per quarter, whatever is committed: more money never changes the luck.
            draws = m.rng.random((len(self.eligible), 3))
        if self.instrument == "stockpile":
            self.trade_stockpile()
        elif self.instrument == "offtake":
            self.pay_offtake(choose=quarter_start)
        elif draws is not None and self.responds:
            self.fund_capacity(draws)

    def riskiest_mineral(self, need_plants: bool = False) -> int | None:
        risk = np.where(self.eligible, self.model.mineral_risk(), -np.inf)
        if need_plants:
            risk = np.where(self.model.has_plants(), risk, -np.inf)
        best = int(np.argmax(risk))
        return best if np.isfinite(risk[best]) and risk[best] > MIN_RISK else None

    def fund_capacity(self, draws: np.ndarray) -> None:
        """Grant or loan: one new plant a quarter for the riskiest eligible mineral not already building
        one of ours, sized to its capacity gap (at most a set share of demand); online after the lead
        time unless it fails."""
        m = self.model
        params = m.world.market
        if self.available_usd <= 0:
            return
        risk = np.where(self.eligible, m.mineral_risk(), -np.inf)
        if risk.max() <= MIN_RISK:
            return  # no eligible mineral at risk (the loop below would stop at the first)
        risk = np.where(self.building(), -np.inf, risk)
        funding_gap = None  # computed when a mineral first qualifies (often none does)
        for mineral in np.argsort(-risk, kind="stable"):
            if not np.isfinite(risk[mineral]) or risk[mineral] <= MIN_RISK or self.available_usd <= 0:
                return
            funding_gap = m.funding_gap() if funding_gap is None else funding_gap
            gap = funding_gap[mineral] * 12 - m.under_construction[mineral]
            if self.builds == "mine":  # ore US processing needs beyond US mines, less mines being built
                gap = m.mine_gap[mineral] * 12 - m.mine_pipeline_t_per_yr(mineral)
            wanted = min(gap, params.max_project_share_of_demand * m.demand0[mineral] * 12)
            recovery = self.builds == "recovery"
            if recovery:
                wanted = min(wanted, m.recovery_room()[mineral])
            if wanted <= 0:
                continue
            capex = {
                "recovery": m.recovery_capex[mineral],
                "mine": m.capex[mineral] * params.mine_capex_ratio,
                "integrated": m.capex[mineral] * (1 + params.mine_capex_ratio),
            }.get(self.builds, m.capex[mineral])
            cost_share = params.loan_share_of_capex if self.instrument == "loan" else 1.0
            amount = min(self.available_usd, wanted * capex * cost_share)
            self.available_usd -= amount
            self.committed_usd[mineral] += amount
            success_draw, delay_draw, delay_size = draws[mineral]
            lead = int(m.build_lead_months[mineral])
            if self.builds in ("mine", "integrated"):
                lead += params.mine_extra_lead_months
            delay = int(1 + delay_size * lead / 2) if delay_draw < params.project_delay_chance else 0
            if self.builds == "mine":
                m.add_funded_mine(
                    int(mineral),
                    amount / (capex * cost_share),
                    m.month + lead + delay,
                    success_draw >= self.success_rate,
                )
                return
            m.add_funded_plant(
                int(mineral),
                amount / (capex * cost_share),
                online_month=m.month + lead + delay,
                failed=success_draw >= self.success_rate,
                funded_by=self.programme,
                feedstock=DIVERTED_FEED if self.builds == "processing" else US,  # integrated, recovery: at home
            )
            return

    def building(self) -> np.ndarray:
        """Minerals for which a plant this programme funded is under construction."""
        table = self.model.plant_table
        if self.programme not in table.funders:
            return np.zeros(len(self.eligible), dtype=bool)
        mine = (table.funder == table.funders.index(self.programme)) & (table.status == CONSTRUCTION)
        return np.bincount(table.mineral[mine], minlength=len(self.eligible)) > 0

    def pay_offtake(self, choose: bool) -> None:
        """Price floor: pay processors of the riskiest mineral up to the floor while the budget lasts."""
        m = self.model
        if choose and self.responds:
            self.floor_mineral = self.riskiest_mineral(need_plants=True)
        mineral = self.floor_mineral
        if mineral is None:
            return
        floor = m.price0[mineral] * m.world.market.offtake_floor_ratio
        gap = max(0.0, floor - m.price_us[mineral])
        cost = gap * m.domestic_output[mineral]  # this month's: processors step first
        if cost > self.available_usd:
            self.floor_mineral = None  # the money ran out: the floor lapses
            return
        self.available_usd -= cost
        self.committed_usd[mineral] += cost
        m.price_floor[mineral] = max(m.price_floor[mineral], floor)

    def trade_stockpile(self) -> None:
        """Buy when prices are low and nothing is short; release into a shortfall."""
        m = self.model
        params = m.world.market
        short = m.last_shortfall_share > params.shortfall_threshold_share
        # With nothing short anywhere no programme releases this month (the sums would add zeros).
        if m.scenario_spec.policies.stockpile_release_in_shortfall and short.any():
            release = np.where(
                self.eligible & short,
                np.minimum(m.stockpile * params.stockpile_max_release_share, m.last_shortfall),
                0.0,
            )
            release = np.minimum(release, m.stockpile - m.stockpile_release)
            m.stockpile_release += release
        if not self.responds or self.available_usd <= 0:
            return
        cheap = self.eligible & ~short & (m.price_us <= m.stockpile_buy_below)
        if not cheap.any():
            return  # no order this month (order_t is already zero: settle_purchase clears it)
        # Only what the Annual Materials Plan lists, at its pace, by all stockpile programmes together.
        room = np.maximum(m.stockpile_target - m.stockpile - m.stockpile_purchase_order, 0.0)
        plan = np.maximum(m.stockpile_plan - m.stockpile_purchase_order, 0.0)
        wanted = np.where(cheap, np.minimum(plan, room), 0.0)
        cost = (wanted * m.price_us).sum()
        if cost > self.available_usd:
            wanted *= self.available_usd / cost
        self.order_t = wanted
        m.stockpile_purchase_order += wanted

    def settle_purchase(self, filled_share: np.ndarray) -> None:
        """Pay for the part of this month's order the market could fill (at the US price)."""
        m = self.model
        cost = self.order_t * filled_share * m.price_us
        self.available_usd -= float(cost.sum())
        self.committed_usd += cost
        self.order_t = np.zeros(len(self.order_t))
