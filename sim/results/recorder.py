"""Record a run into preallocated arrays; build tidy pandas frames once at the end."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.model.market import share
from sim.scenario.schema import month_label

if TYPE_CHECKING:
    from sim.model.model import SupplyChainModel

ROUTES = ("direct", "licensed", "leaked", "allied")

# variable -> unit, for the [month, mineral] series
MINERAL_SERIES = {
    "us_demand": "t/month",
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
    "price_outside_ratio": "x baseline",
    "price_inside_ratio": "x baseline",
    "capacity_gap": "t/yr",
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
PLANT_UNITS = {"output": "t/month", "utilisation": "share", "capacity": "t/yr", "margin": "USD/t"}


class Recorder:
    def __init__(self, model: SupplyChainModel) -> None:
        self.model = model
        T, (M, C) = model.scenario_spec.horizon_months, model.capacity0.shape
        S = model.sector_share.shape[1]
        self.series = {name: np.zeros((T, M)) for name in MINERAL_SERIES}
        self.power_price = np.zeros(T)
        self.sector_demand = np.zeros((T, M, S))
        self.sector_delivered = np.zeros((T, M, S))
        self.flows = np.zeros((T, M, C, len(ROUTES)))
        self.country_exports = np.zeros((T, M, C))
        self.plant_months: list[tuple[np.ndarray, ...]] = []  # per month: output, utilisation, capacity, margin
        self.in_transit_before = np.zeros(M)

    def record(
        self,
        t: int,
        *,
        delivered: np.ndarray,
        shortfall: np.ndarray,
        recycling: np.ndarray,
        release: np.ndarray,
        purchase: np.ndarray,
        imports: np.ndarray,
        arrivals: dict[str, np.ndarray],
        capacity_gap: np.ndarray,
        row_delivered: np.ndarray,
        stock_before: np.ndarray,
        inventory_before: np.ndarray,
        stockpile_before: np.ndarray,
    ) -> None:
        m = self.model
        s = self.series
        demand = m.us_demand_total
        delivered_total = delivered.sum(1)
        in_transit = (m.licence_pipe.in_transit() + m.leak_pipe.in_transit()).sum(1)
        s["us_demand"][t] = demand
        s["delivered"][t] = delivered_total
        s["shortfall"][t] = shortfall.sum(1)
        s["shortfall_share"][t] = m.last_shortfall_share  # computed by the model this month
        s["domestic_output"][t] = m.domestic_output
        s["domestic_capacity"][t] = m.domestic_capacity * 12
        s["recycling"][t] = recycling
        s["imports"][t] = imports
        s["imports_adversary"][t] = sum(np.where(m.adversary, a, 0.0).sum(1) for a in arrivals.values())
        s["stockpile_release"][t] = release
        s["stockpile_purchase"][t] = purchase
        s["stockpile"][t] = m.stockpile
        s["us_inventory"][t] = m.us_inventory
        s["price_outside"][t] = m.price_outside
        s["price_inside"][t] = m.price_inside
        s["price_outside_ratio"][t] = m.price_outside / m.price0
        s["price_inside_ratio"][t] = m.price_inside / m.price0
        s["capacity_gap"][t] = capacity_gap * 12
        supplied = m.domestic_output + imports + recycling + release
        s["import_reliance"][t] = share(imports, supplied)
        foreign = imports + m.foreign_fed_output
        s["import_reliance_incl_feedstock"][t] = share(foreign, supplied)
        markup = (arrivals["leaked"] * m.timeline.leak_markup[t]).sum(1)
        s["import_bill_usd"][t] = (imports + markup) * m.price_outside
        s["world_output"][t] = m.output.sum(1)
        s["row_demand"][t] = m.row_demand.sum(1)
        s["row_delivered"][t] = row_delivered.sum(1)
        s["producer_stock"][t] = m.producer_stock.sum(1)
        s["in_transit"][t] = in_transit
        self.power_price[t] = m.power_price
        self.sector_demand[t] = m.sector_demand
        self.sector_delivered[t] = delivered
        for r, route in enumerate(ROUTES):
            self.flows[t, :, :, r] = arrivals[route]
        self.country_exports[t] = m.country_exports

        from sim.model.agents import FederalFunder
        from sim.model.plants import CONSTRUCTION, IDLE, OPERATING

        committed, bought = np.zeros(len(m.minerals)), np.zeros(len(m.minerals))
        for funder in m.agents_by_type[FederalFunder]:
            if funder.instrument == "stockpile":
                bought += funder.committed_usd
            else:
                committed += funder.committed_usd
        s["funding_committed_usd"][t] = committed
        s["stockpile_spend_usd"][t] = bought
        table = m.plant_table
        operating = table.status == OPERATING
        standing = operating | (table.status == IDLE)
        self.plant_months.append(
            (
                table.output.copy(),
                np.where(operating, table.utilisation, 0.0),
                np.where(standing, table.capacity_t_per_yr, 0.0),
                table.margin.copy(),
            )
        )
        M, mi, funded = len(m.minerals), table.mineral, table.funder >= 0
        s["restart_cost_usd"][t] = np.bincount(mi, table.restart_cost_usd, minlength=M)
        s["capacity_built"][t] = np.bincount(
            mi[funded & standing], table.capacity_t_per_yr[funded & standing], minlength=M
        )
        building = funded & (table.status == CONSTRUCTION)
        s["capacity_under_construction"][t] = np.bincount(mi[building], table.capacity_t_per_yr[building], minlength=M)

        # Accounting (MODEL.md §7): sources - uses - stock change, per mineral; zero up to rounding.
        inventory_change = m.us_inventory - inventory_before
        stockpile_change = m.stockpile - stockpile_before
        s["us_balance_residual"][t] = (
            m.domestic_output + imports + recycling + release - delivered_total - purchase - inventory_change
        )
        world_sources = m.output.sum(1) + m.domestic_output + recycling
        world_uses = (
            delivered_total
            + row_delivered.sum(1)
            + (m.producer_stock - stock_before).sum(1)
            + (in_transit - self.in_transit_before)
            + inventory_change
            + stockpile_change
        )
        s["world_balance_residual"][t] = world_sources - world_uses
        self.in_transit_before = in_transit

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
        T, P = len(self.power_price), len(self.model.plant_table)
        table = np.zeros((len(PLANT_UNITS), T, P))
        for t, columns in enumerate(self.plant_months):
            for v, values in enumerate(columns):
                table[v, t, : len(values)] = values
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
        """Tidy: month, mineral, scope (us / sector / plant / world), entity, variable, unit, value."""
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
        """Arrivals in the US: month, mineral, exporter, alignment, route, t (non-zero rows only)."""
        m = self.model
        t_idx, m_idx, c_idx, r_idx = np.nonzero(self.flows > 0)
        C = len(m.countries)
        return pd.DataFrame(
            {
                "month": _strings(self.months(), t_idx),
                "mineral": _strings(m.minerals, m_idx),
                "exporter": _strings(m.countries, c_idx),
                "alignment": _strings([str(a) for a in m.alignment.reshape(-1)], m_idx * C + c_idx),
                "route": _strings(list(ROUTES), r_idx),
                "t": self.flows[t_idx, m_idx, c_idx, r_idx],
            }
        )


def _strings(labels: list[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """labels[codes] as a pandas string column. Converting each distinct label once and then taking is
    much faster than converting every row's Python string (a run's table has ~100,000 rows)."""
    return pd.array(np.array(labels, dtype=object), dtype="string").take(codes)


def _block_strings(per_block: list[str], sizes: list[int]) -> pd.api.extensions.ExtensionArray:
    """One label per block, repeated for the block's rows, as a pandas string column."""
    labels = list(dict.fromkeys(per_block))
    index = {label: i for i, label in enumerate(labels)}
    return _strings(labels, np.repeat([index[label] for label in per_block], sizes))
