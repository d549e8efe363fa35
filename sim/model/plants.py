"""The state of every US plant as arrays, and the processors' monthly decision for all of them at once.

Each `USProcessor` agent is a handle on one row. Keeping the rows together lets one numpy pass do what
each plant decides on its own (the arithmetic is per plant, so the result is the same as looping),
which matters when ensembles run the model thousands of times.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model.model import SupplyChainModel

OPERATING, IDLE, CONSTRUCTION, FAILED = 0, 1, 2, 3
DIVERTED_FEED = "open countries (diverted)"  # feedstock of funded processing plants (model._divert_feedstock)
STATUS = {"operating": OPERATING, "idle": IDLE, "construction": CONSTRUCTION, "failed": FAILED}
STATUS_NAME = {code: name for name, code in STATUS.items()}

FLOAT_COLUMNS = (
    "capacity_t_per_yr",
    "utilisation",
    "electricity_mwh_per_t",
    "other_cost_usd_per_t",
    "hedged_power_share",
    "output",
    "margin",
    "restart_cost_usd",
)
INT_COLUMNS = ("mineral", "status", "feedstock_c", "online_month", "good_months", "funder", "short_months")


class PlantTable:
    """Columns of plant state, one row per plant in creation order. Quantities t/yr, USD/t."""

    def __init__(self) -> None:
        # Each column is a view of the first len(self) rows of a store with spare rows, so adding a plant
        # writes one row instead of copying every column (np.append made building big worlds quadratic).
        self._stores: dict[str, np.ndarray] = {}
        for name in FLOAT_COLUMNS:
            self._stores[name] = np.zeros(8)
        for name in INT_COLUMNS:
            self._stores[name] = np.zeros(8, dtype=np.int64)
        self._stores["foreign_fed"] = np.zeros(8, dtype=bool)
        self._stores["mine_fed"] = np.zeros(8, dtype=bool)  # fed with ore or concentrate (the mine stage)
        for name, store in self._stores.items():
            setattr(self, name, store[:0])
        self.names: list[str] = []
        self.funders: list[str] = []  # funder index -> programme name
        self._fixed_columns: _FixedColumns | None = None

    def __len__(self) -> int:
        return len(self.names)

    def add(
        self,
        name: str,
        mineral: int,
        capacity_t_per_yr: float,
        status: str,
        electricity_mwh_per_t: float,
        other_cost_usd_per_t: float,
        feedstock_c: int | None,
        foreign_fed: bool,
        hedged_power_share: float,
        online_month: int,
        funded_by: str | None,
        mine_fed: bool = False,
    ) -> int:
        if funded_by is not None and funded_by not in self.funders:
            self.funders.append(funded_by)
        row = {
            "capacity_t_per_yr": capacity_t_per_yr,
            "utilisation": 1.0 if status == "operating" else 0.0,
            "electricity_mwh_per_t": electricity_mwh_per_t,
            "other_cost_usd_per_t": other_cost_usd_per_t,
            "hedged_power_share": hedged_power_share,
            "output": 0.0,
            "margin": 0.0,
            "restart_cost_usd": 0.0,
            "mineral": mineral,
            "status": STATUS[status],
            "feedstock_c": -1 if feedstock_c is None else feedstock_c,
            "online_month": online_month,
            "good_months": 0,
            "funder": -1 if funded_by is None else self.funders.index(funded_by),
            "foreign_fed": foreign_fed,
            "mine_fed": mine_fed,
            "short_months": 0,
        }
        n = len(self.names)
        self._fixed_columns = None
        for column, value in row.items():
            self._append(column, n, value)
        self.names.append(name)
        return n

    def _append(self, column: str, n: int, value: float | int | bool) -> None:
        """Write row n of a column (n rows so far), growing its store when full."""
        current, store = getattr(self, column), self._stores[column]
        if n == len(store):
            store = self._stores[column] = np.zeros(2 * n, dtype=store.dtype)
        if current.base is not store:  # step() put a new array in place of the view, or the store grew
            store[:n] = current
        store[n] = value
        setattr(self, column, store[: n + 1])

    def step(self, m: SupplyChainModel) -> None:
        """One month for every plant: margin, status, utilisation, output; sets the model's per-mineral sums.

        Steps that change nothing this month (no idle plant, no plant at a loss, no restart) are skipped:
        the arithmetic of every plant that does change is the same either way."""
        params = m.world.market
        fixed = self._fixed(m)
        mi = self.mineral
        price = np.maximum(m.price_us[mi], m.price_floor[mi])
        power = fixed.hedged_power_cost + fixed.unhedged_share * m.power_price
        feedstock_cost = price * fixed.feedstock_cost_share
        margin = self.margin = price - feedstock_cost - self.electricity_mwh_per_t * power - self.other_cost_usd_per_t

        status, util, good = self.status, self.utilisation, self.good_months  # replaced below, never changed in place
        starting = (status == CONSTRUCTION) & (m.month >= self.online_month)
        operating = status == OPERATING
        gaining = operating & (margin >= 0)
        util = np.where(gaining, np.minimum(1.0, util + params.ramp_rate_per_month), util)
        losing = operating & (margin < 0)
        shut = None
        if losing.any():
            depth = np.minimum(1.0, -margin / price / params.loss_for_full_curtail_share)
            util = np.where(losing, np.maximum(0.0, util - params.curtail_rate_per_month * depth), util)
            shut = losing & (util <= 0.0)
        idle = status == IDLE
        if idle.any():
            good = np.where(idle, np.where(margin >= params.restart_margin_share * price, good + 1, 0), good)
            restarting = idle & (good >= params.restart_lag_months)
            if restarting.any():
                restart_cost = params.restart_cost_usd_per_tpy * self.capacity_t_per_yr
                self.restart_cost_usd = self.restart_cost_usd + np.where(restarting, restart_cost, 0.0)
                starting = starting | restarting
        if shut is not None:
            good = np.where(shut, 0, good)
            status = np.where(shut, IDLE, status)
        status = np.where(starting, OPERATING, status)
        util = np.where(starting, params.ramp_rate_per_month, util)
        self.status, self.utilisation, self.good_months = status, util, good

        # Feed from a named foreign country arrives as far as the policies on its stage let it; a plant short
        # of feed for more than feed_switch_months re-sources the rest from open countries (diverting it).
        feedstock = np.ones(len(self))
        feedstock[fixed.fed] = np.where(
            self.mine_fed[fixed.fed],
            m.mine_feed_share[fixed.fed_mineral, fixed.fed_country],
            m.feedstock_share[fixed.fed_mineral, fixed.fed_country],
        )
        # US ore left over last month covers ore a plant buying abroad cannot get (model._mine_stage).
        lacking = np.where(self.mine_fed & self.foreign_fed, 1.0 - feedstock, 0.0)
        feedstock = feedstock + lacking * m.us_ore_cover[mi]
        short = feedstock < 1.0
        self.short_months = np.where(short, self.short_months + 1, 0)
        resourced = np.where(short & (self.short_months > params.feed_switch_months), 1.0 - feedstock, 0.0)
        feedstock = (feedstock + resourced) * m.us_input_share[mi]  # a product's inputs (magnets: oxides)
        running = status == OPERATING
        self.output = np.where(running, fixed.monthly_capacity * util * feedstock, 0.0)
        usable = fixed.monthly_capacity * feedstock
        M = len(m.minerals)

        def per_mineral(values: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
            # Zeros in place of the plants left out add nothing to a sum that starts at 0.0 (bitwise).
            total = np.bincount(mi, values if where is None else np.where(where, values, 0.0), minlength=M)
            return total.astype(float, copy=False)  # bincount of nothing is int, whatever the weights

        m.domestic_output = per_mineral(self.output)
        m.foreign_fed_output = per_mineral(self.output, self.foreign_fed)
        m.installed_capacity = per_mineral(usable, running | (status == IDLE))
        m.funded_output = per_mineral(self.output, fixed.funded & self.foreign_fed)  # on foreign feed
        m.resourced_output = per_mineral(self.output * resourced)  # what re-sourced feed makes
        m.mine_fed_output = per_mineral(self.output, self.mine_fed)
        m.us_ore_output = per_mineral(self.output, self.mine_fed & ~self.foreign_fed & ~fixed.funded)
        m.foreign_ore_output = per_mineral(self.output, self.mine_fed & self.foreign_fed & ~fixed.funded)
        # t/month of ore running plants buying it abroad cannot get (policies on the mine stage), before US ore
        m.ore_lacking = per_mineral(fixed.monthly_capacity * util * lacking, running & ~fixed.funded)
        m.under_construction = per_mineral(self.capacity_t_per_yr, fixed.funded & (status == CONSTRUCTION))
        m.domestic_capacity = per_mineral(usable, running)

    def _fixed(self, m: SupplyChainModel) -> _FixedColumns:
        """Arrays of what never changes for a plant, computed again only after a plant is added."""
        if self._fixed_columns is None:
            fed = self.feedstock_c >= 0
            self._fixed_columns = _FixedColumns(
                fed=fed,
                fed_mineral=self.mineral[fed],
                fed_country=self.feedstock_c[fed],
                monthly_capacity=self.capacity_t_per_yr / 12,
                funded=self.funder >= 0,
                feedstock_cost_share=m.feedstock_cost_share[self.mineral],
                hedged_power_cost=self.hedged_power_share * m.power_contract,
                unhedged_share=1 - self.hedged_power_share,
            )
        return self._fixed_columns


@dataclass(frozen=True)
class _FixedColumns:
    fed: np.ndarray  # plants fed from a named foreign country
    fed_mineral: np.ndarray  # mineral of each such plant
    fed_country: np.ndarray  # its feedstock country
    monthly_capacity: np.ndarray  # t/month
    funded: np.ndarray  # built with federal money
    feedstock_cost_share: np.ndarray  # of the plant's mineral
    hedged_power_cost: np.ndarray  # USD/MWh: the hedged share at the contract price
    unhedged_share: np.ndarray  # of power bought at the month's price
