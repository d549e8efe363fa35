"""Scenario events turned into month-by-month arrays the model reads (built once per run).

Array axes: [month, mineral, country] for export policy and supply, [month, mineral, country, region] for
what a policy covers and for tariffs, [month, mineral, sector] for US demand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scenario.schema import (
    AlliedSupply,
    DemandShock,
    ExportRestriction,
    PowerPriceShock,
    Scenario,
    StockpileRelease,
    SupplyDisruption,
    Tariff,
)

OPEN, QUOTA, LICENSING, BAN = 0, 1, 2, 3
KINDS = {"quota": QUOTA, "licensing": LICENSING, "ban": BAN}


@dataclass
class Timeline:
    policy_kind: np.ndarray  # [T, M, C] int: OPEN/QUOTA/LICENSING/BAN for exports to the covered regions
    quota_share: np.ndarray  # [T, M, C] share of the baseline flow a quota still allows
    refused_share: np.ndarray  # [T, M, C] licensing: share refused
    licence_delay: np.ndarray  # [T, M, C] int months
    leakage: np.ndarray  # [T, M, C] enforcement cap: largest share of the blocked flow that leaks
    leak_delay: np.ndarray  # [T, M, C] int months
    leak_markup: np.ndarray  # [T, M, C]
    covers: np.ndarray  # [T, M, C, R] bool: the restriction applies to exports to region r
    tariff: np.ndarray  # [T, M, C, R] ad valorem duty region r levies on country c's mineral m
    capacity_factor: np.ndarray  # [T, M, C] 1 - capacity lost to disruptions
    allied_t_per_month: np.ndarray  # [T, M, C] committed allied supply to the US
    power_multiplier: np.ndarray  # [T]
    demand_multiplier: np.ndarray  # [T, M, S]
    demand_extra_t_per_month: np.ndarray  # [T, M, S]
    stockpile_order_t_per_month: np.ndarray  # [T, M]
    transit: dict[tuple[int, int], str]  # (mineral, exporter) -> transit countries named by its restriction

    def refresh_shares(self) -> None:
        """Derived arrays: the share of the normal flow a policy lets through (leakage aside), and the share
        of a plant's feedstock that still arrives (under a ban, only what leaks). build_timeline calls this
        once the events are in, then the model freezes the timeline: runs of one scenario share it, so
        build a new one rather than change it."""
        kind = self.policy_kind
        self.is_open, self.is_quota, self.is_licensing = kind == OPEN, kind == QUOTA, kind == LICENSING
        self.allowed_share = np.where(
            self.is_open,
            1.0,
            np.where(self.is_quota, self.quota_share, np.where(self.is_licensing, 1.0 - self.refused_share, 0.0)),
        )
        # Masks and sums the model reads every month, computed once for the whole run.
        self.restricting = ~self.is_open
        self.any_restricting = self.restricting.any(axis=2)  # [T, M]
        self.allied_total = self.allied_t_per_month.sum(axis=2)  # [T, M]
        # [T, M, C, R]: the share of the baseline flow from c to r a policy lets through, and whether it waits
        # for a licence; regions a restriction does not cover trade freely.
        self.allowed_to = np.where(self.covers, self.allowed_share[..., None], 1.0)
        self.licensed_to = self.covers & self.is_licensing[..., None]
        self.licence_delay_to = np.where(self.licensed_to, self.licence_delay[..., None], 0)
        self.leak_delay_to = np.broadcast_to(self.leak_delay[..., None], self.covers.shape)
        self.any_tariff = self.tariff.any(axis=(1, 2, 3))  # [T]
        # Every delay the transit pipelines will be given (sim/model/pipeline.py).
        self.licence_delays = positive_values(self.licence_delay_to)
        self.leak_delays = positive_values(self.leak_delay)

    def exempt_home(self, home: np.ndarray) -> None:
        """Take each exporter's own region [C, R] out of what its restrictions cover and what duties tax
        (sales at home are neither exports nor imports), and derive the arrays again."""
        self.covers = self.covers & ~home[None, None]
        self.tariff = np.where(home[None, None], 0.0, self.tariff)
        self.refresh_shares()

    def freeze(self) -> None:
        """Make every array read-only: runs of the same scenario share one timeline."""
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    @property
    def max_delay(self) -> int:
        return int(max(self.licence_delay.max(initial=0), self.leak_delay.max(initial=0)))


def positive_values(values: np.ndarray) -> list[int]:
    """The distinct positive values in an array of non-negative integers, ascending."""
    return [int(v) for v in np.flatnonzero(np.bincount(values.reshape(-1), minlength=1)) if v > 0]


def build_timeline(
    scenario: Scenario,
    minerals: list[str],
    countries: list[str],
    regions: list[str],
    sectors: list[list[str]],
    sector_share: np.ndarray,
) -> Timeline:
    T, M, C, R = scenario.horizon_months, len(minerals), len(countries), len(regions)
    S = sector_share.shape[1]
    mi = {m: i for i, m in enumerate(minerals)}
    ci = {c: i for i, c in enumerate(countries)}
    ri = {r: i for i, r in enumerate(regions)}
    tl = Timeline(
        policy_kind=np.zeros((T, M, C), dtype=np.int8),
        quota_share=np.ones((T, M, C)),
        refused_share=np.zeros((T, M, C)),
        licence_delay=np.zeros((T, M, C), dtype=np.int64),
        leakage=np.zeros((T, M, C)),
        leak_delay=np.zeros((T, M, C), dtype=np.int64),
        leak_markup=np.zeros((T, M, C)),
        covers=np.zeros((T, M, C, R), dtype=bool),
        tariff=np.zeros((T, M, C, R)),
        capacity_factor=np.ones((T, M, C)),
        allied_t_per_month=np.zeros((T, M, C)),
        power_multiplier=np.ones(T),
        demand_multiplier=np.ones((T, M, S)),
        demand_extra_t_per_month=np.zeros((T, M, S)),
        stockpile_order_t_per_month=np.zeros((T, M)),
        transit={},
    )
    for event in scenario.events:
        first, end = scenario.event_window(event) if hasattr(event, "start") else (0, T)
        if first >= end:
            continue
        window = slice(first, end)
        if isinstance(event, ExportRestriction):
            if "processing" not in event.stages:
                continue  # ore only: the mine stage (model/stages.py)
            c = ci[event.exporter]
            for name in event.minerals:
                m = mi[name]
                # A later event on the same exporter and mineral replaces an earlier one from its start.
                tl.policy_kind[window, m, c] = KINDS[event.kind]
                tl.quota_share[window, m, c] = event.quota_share if event.kind == "quota" else 1.0
                tl.refused_share[window, m, c] = event.refused_share if event.kind == "licensing" else 0.0
                tl.licence_delay[window, m, c] = event.licence_delay_months if event.kind == "licensing" else 0
                tl.leakage[window, m, c] = event.leakage
                tl.leak_delay[window, m, c] = event.leak_delay_months
                tl.leak_markup[window, m, c] = event.leak_markup
                covered = [ri[r] for r in regions if "all" in event.destinations or r in event.destinations]
                tl.covers[window, m, c] = False
                tl.covers[window, m, c, covered] = True
                tl.transit[(m, c)] = ", ".join(event.transit)
        elif isinstance(event, Tariff):
            exporters = range(C) if event.exporters == "all" else [ci[name] for name in event.exporters]
            for name in event.minerals:
                # Duties on the same flow add up (e.g. antidumping plus countervailing).
                tl.tariff[window, mi[name], list(exporters), ri[event.importer]] += event.rate
        elif isinstance(event, SupplyDisruption):
            if "processing" not in event.stages:
                continue  # host and mine stages: SupplyChainModel._build_byproducts, model/stages.py
            c = ci[event.country]
            for name in event.minerals:
                tl.capacity_factor[window, mi[name], c] *= 1.0 - event.capacity_loss
        elif isinstance(event, PowerPriceShock):
            tl.power_multiplier[window] *= event.multiplier
        elif isinstance(event, DemandShock):
            for name in event.minerals:
                m = mi[name]
                chosen = [s for s, sector in enumerate(sectors[m]) if not event.sectors or sector in event.sectors]
                share = sector_share[m, chosen]
                share = share / share.sum() if share.sum() > 0 else np.full(len(chosen), 1 / len(chosen))
                tl.demand_multiplier[window, m, chosen] *= event.multiplier
                tl.demand_extra_t_per_month[window, m, chosen] += event.extra_t_per_yr / 12 * share
        elif isinstance(event, AlliedSupply):
            m, c = mi[event.mineral], ci[event.country]
            months = np.arange(end - first)
            ramp = np.minimum(1.0, (months + 1) / event.ramp_months) if event.ramp_months else np.ones(end - first)
            tl.allied_t_per_month[window, m, c] += event.t_per_yr / 12 * ramp
        elif isinstance(event, StockpileRelease):
            for name in event.minerals:
                tl.stockpile_order_t_per_month[window, mi[name]] += event.t_per_yr / 12
    tl.refresh_shares()
    return tl
