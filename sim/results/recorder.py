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
        out = {name: {k: np.zeros(len(self.power_price)) for k in PLANT_UNITS} for name in names}
        for t, columns in enumerate(self.plant_months):
            for variable, values in zip(PLANT_UNITS, columns, strict=True):
                for row, value in enumerate(values):
                    out[names[row]][variable][t] = value
        return out

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
        months = np.array(self.months(), dtype=object)
        T, M = len(months), len(m.minerals)
        blocks: list[tuple[np.ndarray, np.ndarray, str, np.ndarray | str, str, str, np.ndarray]] = []
        month_col, mineral_col = np.repeat(months, M), np.tile(np.array(m.minerals, dtype=object), T)
        for name, unit in MINERAL_SERIES.items():
            scope = "world" if name in WORLD_SERIES else "us"
            blocks.append((month_col, mineral_col, scope, "", name, unit, self.series[name].reshape(-1)))
        blocks.append((months, np.full(T, ""), "us", "", "power_price", "USD/MWh", self.power_price))
        for i, mineral in enumerate(m.minerals):
            for s, sector in enumerate(m.sector_names[i]):
                demand, got = self.sector_demand[:, i, s], self.sector_delivered[:, i, s]
                for variable, values in (("demand", demand), ("delivered", got), ("shortfall", demand - got)):
                    blocks.append((months, np.full(T, mineral), "sector", sector, variable, "t/month", values))
        plant_mineral = self.plant_mineral
        for plant, rec in self.plants.items():
            for variable, values in rec.items():
                mineral = plant_mineral[plant]
                blocks.append((months, np.full(T, mineral), "plant", plant, variable, PLANT_UNITS[variable], values))
        sizes = [len(b[-1]) for b in blocks]
        columns = {
            "month": np.concatenate([b[0] for b in blocks]),
            "mineral": np.concatenate([b[1] for b in blocks]),
            "scope": np.repeat([b[2] for b in blocks], sizes),
            "entity": np.repeat([b[3] for b in blocks], sizes),
            "variable": np.repeat([b[4] for b in blocks], sizes),
            "unit": np.repeat([b[5] for b in blocks], sizes),
        }
        frame = pd.DataFrame({k: pd.array(v.astype(str), dtype="string") for k, v in columns.items()})
        frame["value"] = np.concatenate([b[-1] for b in blocks]).astype(float)
        return frame

    def flows_frame(self) -> pd.DataFrame:
        """Arrivals in the US: month, mineral, exporter, alignment, route, t (non-zero rows only)."""
        m = self.model
        t_idx, m_idx, c_idx, r_idx = np.nonzero(self.flows > 0)
        months = np.array(self.months())
        frame = pd.DataFrame(
            {
                "month": months[t_idx],
                "mineral": np.array(m.minerals)[m_idx],
                "exporter": np.array(m.countries)[c_idx],
                "alignment": m.alignment[m_idx, c_idx].astype(str),
                "route": np.array(ROUTES)[r_idx],
                "t": self.flows[t_idx, m_idx, c_idx, r_idx],
            }
        )
        for column in ("month", "mineral", "exporter", "alignment", "route"):
            frame[column] = frame[column].astype("string")
        return frame
