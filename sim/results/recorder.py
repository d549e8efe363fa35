"""Record a run into preallocated arrays; build tidy pandas frames once at the end."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.model.market import share
from sim.model.model import US_R, capacity_need
from sim.model.plants import CONSTRUCTION, IDLE, OPERATING
from sim.scenario.schema import month_label

if TYPE_CHECKING:
    from sim.model.model import SupplyChainModel

ROUTES = ("direct", "licensed", "leaked", "allied")

# variable -> unit, for the [month, mineral] series
MINERAL_SERIES = {
    "us_demand": "t/month",
    "us_demand_at_baseline_price": "t/month",
    "delivered": "t/month",
    "shortfall": "t/month",
    "shortfall_share": "share",
    "domestic_output": "t/month",
    "domestic_capacity": "t/yr",
    "recycling": "t/month",
    "imports": "t/month",
    "imports_adversary": "t/month",
    "stockpile_release": "t/month",
    "stockpile_purchase": "t/month",
    "stockpile": "t",
    "us_inventory": "t",
    "price_outside": "USD/t",
    "price_inside": "USD/t",
    "price_us": "USD/t",
    "price_us_market": "USD/t",  # the US buyers' market price before duties: what the price cap bounds
    "price_outside_ratio": "x baseline",
    "price_inside_ratio": "x baseline",
    "price_us_ratio": "x baseline",  # what US buyers pay, duties included
    "capacity_gap": "t/yr",
    "us_mine_output": "t/month",
    "us_mine_processed_abroad": "t/month",
    "mine_gap": "t/yr",
    "mine_capacity_built": "t/yr",
    "capacity_need": "t/yr",
    "import_reliance": "share",
    "import_reliance_incl_feedstock": "share",
    "import_bill_usd": "USD/month",
    "restart_cost_usd": "USD (cumulative)",
    "world_output": "t/month",
    "row_demand": "t/month",
    "row_delivered": "t/month",
    "producer_stock": "t",
    "in_transit": "t",
    "funding_committed_usd": "USD (cumulative)",
    "stockpile_spend_usd": "USD (cumulative)",
    "capacity_built": "t/yr",
    "capacity_under_construction": "t/yr",
    "us_balance_residual": "t/month",
    "world_balance_residual": "t/month",
}


WORLD_SERIES = {"world_output", "row_demand", "row_delivered", "producer_stock", "world_balance_residual"}
# variable -> unit, for the [month, mineral, region] series (scope "region", entity = region)
REGION_SERIES = {
    "demand": "t/month",
    "delivered": "t/month",
    "shortfall": "t/month",
    "purchases": "t/month",
    "stock": "t",
    "price_paid": "USD/t",
}
PLANT_UNITS = {"output": "t/month", "utilisation": "share", "capacity": "t/yr", "margin": "USD/t"}
PLANT_STATE = ("status", "utilisation", "output", "margin", "restart_cost_usd")  # plant table columns kept each month


# Series the recorder computes from other recorded arrays for all months at once (see Recorder._derive).
DERIVED_SERIES = (
    "domestic_capacity",
    "capacity_gap",
    "capacity_need",
    "price_outside_ratio",
    "price_inside_ratio",
    "price_us_ratio",
    "import_reliance",
    "import_reliance_incl_feedstock",
    "import_bill_usd",
    "imports_adversary",
    "funding_committed_usd",
    "stockpile_spend_usd",
    "restart_cost_usd",
    "capacity_built",
    "capacity_under_construction",
    "us_balance_residual",
    "world_balance_residual",
)


class Recorder:
    """Each month copies what the model computed into preallocated arrays; the series that are
    arithmetic on those (ratios, shares, accounting residuals, sums over plants) are derived for all
    months at once when read, which does the same arithmetic per element with far fewer numpy calls."""

    def __init__(self, model: SupplyChainModel) -> None:
        from sim.model.agents import FederalFunder

        self.model = model
        T, (M, C) = model.scenario_spec.horizon_months, model.capacity0.shape
        S = model.sector_share.shape[1]
        self._series = {name: np.zeros((T, M)) for name in MINERAL_SERIES}
        self.power_price = np.zeros(T)
        self.sector_demand = np.zeros((T, M, S))
        self.sector_delivered = np.zeros((T, M, S))
        self.flows = np.zeros((T, M, C, len(ROUTES)))
        self.country_exports = np.zeros((T, M, C))
        R = len(model.regions)
        self.region = {name: np.zeros((T, M, R)) for name in REGION_SERIES}
        self.region_inventory0 = model.inventory.copy()
        # Recorded as the model has them, for the derived series.
        self.domestic_capacity = np.zeros((T, M))  # t/month
        self.capacity_gap = np.zeros((T, M))  # t/month
        self.foreign_fed_output = np.zeros((T, M))
        self.producer_stock_change = np.zeros((T, M))
        self.funders = list(model.agents_by_type[FederalFunder])  # programmes are all created before the run
        self.funder_committed = np.zeros((T, len(self.funders), M))  # cumulative USD
        # PLANT_STATE column -> [month, plant] (status -1 and zeros where a plant did not exist yet),
        # with room for more plants than the table holds now; plant_count[t]: plants in month t.
        table = model.plant_table
        self.plant_state = {
            column: np.full((T, 2 * len(table) + 8), -1 if column == "status" else 0, getattr(table, column).dtype)
            for column in PLANT_STATE
        }
        self.plant_count = np.zeros(T, dtype=np.int64)
        self.inventory0, self.stockpile0 = model.us_inventory.copy(), model.stockpile.copy()
        self.months_recorded = 0
        self._derived_months = 0

    @property
    def series(self) -> dict[str, np.ndarray]:
        """variable -> [month, mineral] (zero for months not yet run)."""
        if self._derived_months != self.months_recorded:
            self._derive()
        return self._series

    def record(
        self,
        t: int,
        *,
        delivered: np.ndarray,
        delivered_total: np.ndarray,
        shortfall_total: np.ndarray,
        recycling: np.ndarray,
        release: np.ndarray,
        purchase: np.ndarray,
        imports: np.ndarray,
        arrivals: dict[str, np.ndarray],
        capacity_gap: np.ndarray,
        stock_before: np.ndarray,
        inventory_before: np.ndarray,
    ) -> None:
        m = self.model
        s = self._series
        s["us_demand"][t] = m.us_demand_total
        s["us_demand_at_baseline_price"][t] = m.us_demand_at_baseline_price
        s["delivered"][t] = delivered_total
        s["shortfall"][t] = shortfall_total
        s["shortfall_share"][t] = m.last_shortfall_share  # computed by the model this month
        s["domestic_output"][t] = m.domestic_output
        s["recycling"][t] = recycling
        s["imports"][t] = imports
        s["stockpile_release"][t] = release
        s["stockpile_purchase"][t] = purchase
        s["stockpile"][t] = m.stockpile
        s["us_inventory"][t] = m.us_inventory
        s["price_outside"][t] = m.price_outside
        s["price_inside"][t] = m.price_inside
        s["price_us"][t] = m.price_us
        s["price_us_market"][t] = m.price_market[:, US_R]
        s["world_output"][t] = m.output.sum(1)
        s["us_mine_output"][t] = m.us_mine_output
        s["us_mine_processed_abroad"][t] = m.us_mine_exported
        s["mine_gap"][t] = m.mine_gap * 12
        s["mine_capacity_built"][t] = m.us_mine_added
        s["row_demand"][t] = m.region_demand[:, 1:].sum(1)
        s["row_delivered"][t] = m.region_delivered[:, 1:].sum(1)
        s["producer_stock"][t] = m.producer_stock.sum(1)
        s["in_transit"][t] = (m.licence_pipe.in_transit() + m.leak_pipe.in_transit()).sum(axis=(1, 2))
        region = self.region
        region["demand"][t] = m.region_demand
        region["delivered"][t] = m.region_delivered
        region["shortfall"][t] = m.region_demand - m.region_delivered
        region["purchases"][t] = m.region_arrivals
        region["stock"][t] = m.inventory
        region["price_paid"][t] = m.price_paid
        self.domestic_capacity[t] = m.domestic_capacity
        self.capacity_gap[t] = capacity_gap
        self.foreign_fed_output[t] = m.foreign_fed_output
        self.producer_stock_change[t] = (m.producer_stock - stock_before).sum(1)
        self.power_price[t] = m.power_price
        self.sector_demand[t] = m.sector_demand
        self.sector_delivered[t] = delivered
        for r, route in enumerate(ROUTES):
            self.flows[t, :, :, r] = arrivals[route]
        self.country_exports[t] = m.country_exports
        for k, funder in enumerate(self.funders):
            self.funder_committed[t, k] = funder.committed_usd
        table = m.plant_table
        P = len(table)
        if self.plant_state["status"].shape[1] < P:
            self._widen_plant_state(2 * P)
        for column, history in self.plant_state.items():
            history[t, :P] = getattr(table, column)
        self.plant_count[t] = P
        self.months_recorded = t + 1

    def _derive(self) -> None:
        """The derived series for the months recorded so far (the same arithmetic, element by element,
        that a per-month calculation does)."""
        m, s, n = self.model, self._series, self.months_recorded
        now = slice(0, n)
        imports, price_outside = s["imports"][now], s["price_outside"][now]
        s["domestic_capacity"][now] = self.domestic_capacity[now] * 12
        s["capacity_gap"][now] = self.capacity_gap[now] * 12
        need = capacity_need(
            s["us_demand"][now],
            s["recycling"][now],
            m.domestic_capacity0,
            m.reliable_share[now],
            m.timeline.allied_total[now],
        )
        s["capacity_need"][now] = need * 12  # what the gap is measured against (Model._capacity_gap)
        s["price_outside_ratio"][now] = price_outside / m.price0
        s["price_inside_ratio"][now] = s["price_inside"][now] / m.price0
        s["price_us_ratio"][now] = s["price_us"][now] / m.price0
        supplied = s["domestic_output"][now] + imports + s["recycling"][now] + s["stockpile_release"][now]
        s["import_reliance"][now] = share(imports, supplied)
        foreign = imports + self.foreign_fed_output[now]
        s["import_reliance_incl_feedstock"][now] = share(foreign, supplied)
        flows = self.flows[now]
        leaked = flows[..., ROUTES.index("leaked")]
        markup = (leaked * m.timeline.leak_markup[now]).sum(2)
        s["import_bill_usd"][now] = (imports + markup) * price_outside
        s["imports_adversary"][now] = sum(np.where(m.adversary, flows[..., r], 0.0).sum(2) for r in range(len(ROUTES)))
        committed, bought = np.zeros((n, len(m.minerals))), np.zeros((n, len(m.minerals)))
        for k, funder in enumerate(self.funders):
            if funder.instrument == "stockpile":
                bought += self.funder_committed[now, k]
            else:
                committed += self.funder_committed[now, k]
        s["funding_committed_usd"][now] = committed
        s["stockpile_spend_usd"][now] = bought
        self._derive_plant_sums(n)
        self._derive_balances(n)
        self._derived_months = n

    def _derive_plant_sums(self, n: int) -> None:
        """Per-mineral sums over plants each month, summed plant by plant in table order (as np.bincount)."""
        s, table, M = self._series, self.model.plant_table, len(self.model.minerals)
        state = self._plant_state(n)
        exists = np.arange(len(table))[None, :] < self.plant_count[:n, None]
        status, funded = state["status"], table.funder >= 0
        standing = (status == OPERATING) | (status == IDLE)
        capacity = np.broadcast_to(table.capacity_t_per_yr, status.shape)
        for name, values, where in (
            ("restart_cost_usd", state["restart_cost_usd"], exists),
            ("capacity_built", capacity, exists & funded & standing),
            ("capacity_under_construction", capacity, exists & funded & (status == CONSTRUCTION)),
        ):
            total = np.zeros((n, M))
            month, row = np.nonzero(where)
            np.add.at(total, (month, table.mineral[row]), values[month, row])
            s[name][:n] = total

    def _derive_balances(self, n: int) -> None:
        """Accounting (MODEL.md §7): sources - uses - stock change, per mineral; zero up to rounding."""
        s, now = self._series, slice(0, n)
        delivered_total, purchase = s["delivered"][now], s["stockpile_purchase"][now]
        domestic, recycling = s["domestic_output"][now], s["recycling"][now]
        inventory_change = s["us_inventory"][now] - _before(self.inventory0, s["us_inventory"][now])
        stockpile_change = s["stockpile"][now] - _before(self.stockpile0, s["stockpile"][now])
        in_transit = s["in_transit"][now]
        others_stock = self.region["stock"][now, :, 1:].sum(2)
        others_stock_change = others_stock - _before(self.region_inventory0[:, 1:].sum(1), others_stock)
        s["us_balance_residual"][now] = (
            domestic
            + s["imports"][now]
            + recycling
            + s["stockpile_release"][now]
            - delivered_total
            - purchase
            - inventory_change
        )
        world_sources = s["world_output"][now] + domestic + recycling
        world_uses = (
            delivered_total
            + s["row_delivered"][now]
            + self.producer_stock_change[now]
            + (in_transit - _before(np.zeros(in_transit.shape[1]), in_transit))
            + inventory_change
            + stockpile_change
            + others_stock_change
        )
        s["world_balance_residual"][now] = world_sources - world_uses

    def _plant_state(self, n: int) -> dict[str, np.ndarray]:
        """PLANT_STATE column -> [month, plant], for the first n months (zero before a plant existed)."""
        P = len(self.model.plant_table)
        return {column: history[:n, :P] for column, history in self.plant_state.items()}

    def _widen_plant_state(self, width: int) -> None:
        for column, history in self.plant_state.items():
            wider = np.full((history.shape[0], width), -1 if column == "status" else 0, history.dtype)
            wider[:, : history.shape[1]] = history
            self.plant_state[column] = wider

    @property
    def plants(self) -> dict[str, dict[str, np.ndarray]]:
        """plant -> variable -> [month] (zero before a plant existed)."""
        names = self.model.plant_table.names
        table = self.plant_history()
        return {
            name: {variable: table[v, :, row].copy() for v, variable in enumerate(PLANT_UNITS)}
            for row, name in enumerate(names)
        }

    def plant_history(self) -> np.ndarray:
        """[variable, month, plant] in PLANT_UNITS order and plant-table row order (zero before a plant existed)."""
        T = len(self.power_price)
        state = self._plant_state(self.months_recorded)
        operating = state["status"] == OPERATING
        standing = operating | (state["status"] == IDLE)
        capacity = self.model.plant_table.capacity_t_per_yr
        table = np.zeros((len(PLANT_UNITS), T, len(capacity)))
        now = slice(0, self.months_recorded)
        table[0, now] = state["output"]
        table[1, now] = np.where(operating, state["utilisation"], 0.0)
        table[2, now] = np.where(standing, capacity, 0.0)
        table[3, now] = state["margin"]
        return table

    @property
    def plant_mineral(self) -> dict[str, str]:
        table = self.model.plant_table
        return {name: self.model.minerals[table.mineral[row]] for row, name in enumerate(table.names)}

    # --- frames --------------------------------------------------------------------------------------

    def months(self) -> list[str]:
        spec = self.model.scenario_spec
        return [month_label(spec.start, t) for t in range(spec.horizon_months)]

    def timeseries(self) -> pd.DataFrame:
        """Tidy: month, mineral, scope (us / sector / region / plant / world), entity, variable, unit, value."""
        m = self.model
        T, M = len(self.power_price), len(m.minerals)
        minerals = [*m.minerals, ""]  # mineral labels; code M is "" (the power price has no mineral)
        # Each block: month codes, mineral codes (into `minerals`), scope, entity, variable, unit, values.
        blocks: list[tuple[np.ndarray, np.ndarray, str, str, str, str, np.ndarray]] = []
        every_month, each_mineral = np.repeat(np.arange(T), M), np.tile(np.arange(M), T)
        for name, unit in MINERAL_SERIES.items():
            scope = "world" if name in WORLD_SERIES else "us"
            blocks.append((every_month, each_mineral, scope, "", name, unit, self.series[name].reshape(-1)))
        month = np.arange(T)
        blocks.append((month, np.full(T, M), "us", "", "power_price", "USD/MWh", self.power_price))
        for i in range(M):
            for s, sector in enumerate(m.sector_names[i]):
                demand, got = self.sector_demand[:, i, s], self.sector_delivered[:, i, s]
                for variable, values in (("demand", demand), ("delivered", got), ("shortfall", demand - got)):
                    blocks.append((month, np.full(T, i), "sector", sector, variable, "t/month", values))
        for r, region in enumerate(m.regions):
            for variable, unit in REGION_SERIES.items():
                values = self.region[variable][:, :, r]
                blocks.append((every_month, each_mineral, "region", region, variable, unit, values.reshape(-1)))
        table, plants = self.plant_history(), m.plant_table
        for row, plant in enumerate(plants.names):
            mineral = np.full(T, plants.mineral[row])
            for v, (variable, unit) in enumerate(PLANT_UNITS.items()):
                blocks.append((month, mineral, "plant", plant, variable, unit, table[v, :, row]))
        sizes = [len(b[-1]) for b in blocks]
        frame = pd.DataFrame(
            {
                "month": _strings(self.months(), np.concatenate([b[0] for b in blocks])),
                "mineral": _strings(minerals, np.concatenate([b[1] for b in blocks])),
                "scope": _block_strings([b[2] for b in blocks], sizes),
                "entity": _block_strings([b[3] for b in blocks], sizes),
                "variable": _block_strings([b[4] for b in blocks], sizes),
                "unit": _block_strings([b[5] for b in blocks], sizes),
            }
        )
        frame["value"] = np.concatenate([b[-1] for b in blocks]).astype(float)
        return frame

    def flows_frame(self) -> pd.DataFrame:
        """Arrivals in the US: month, mineral, exporter, alignment, route, via (the transit countries of
        leaked material), t (non-zero rows only)."""
        m = self.model
        t_idx, m_idx, c_idx, r_idx = np.nonzero(self.flows > 0)
        C = len(m.countries)
        leaked = ROUTES.index("leaked")
        transit = m.timeline.transit
        via = ["" if r != leaked else transit.get((i, c), "") for i, c, r in zip(m_idx, c_idx, r_idx, strict=True)]
        return pd.DataFrame(
            {
                "month": _strings(self.months(), t_idx),
                "mineral": _strings(m.minerals, m_idx),
                "exporter": _strings(m.countries, c_idx),
                "alignment": _strings([str(a) for a in m.alignment.reshape(-1)], m_idx * C + c_idx),
                "route": _strings(list(ROUTES), r_idx),
                "via": pd.array(via, dtype="string"),
                "t": self.flows[t_idx, m_idx, c_idx, r_idx],
            }
        )


def _before(first: np.ndarray, values: np.ndarray) -> np.ndarray:
    """[month, ...] values at the start of each month: `first`, then the previous month's."""
    return np.concatenate([first[None], values[:-1]])


def _strings(labels: list[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """labels[codes] as a pandas string column. Converting each distinct label once and then taking is
    much faster than converting every row's Python string (a run's table has ~100,000 rows)."""
    return pd.array(np.array(labels, dtype=object), dtype="string").take(codes)


def _block_strings(per_block: list[str], sizes: list[int]) -> pd.api.extensions.ExtensionArray:
    """One label per block, repeated for the block's rows, as a pandas string column."""
    labels = list(dict.fromkeys(per_block))
    index = {label: i for i, label in enumerate(labels)}
    return _strings(labels, np.repeat([index[label] for label in per_block], sizes))
