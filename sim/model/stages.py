"""The mine stage beneath the processing market: where each processor's ore comes from, and what a
mine-stage restriction or disruption takes from it (docs/model.md §5, "Stages").

The world market (model/market.py) trades the processed product. Beneath it, each processing country is fed
by mines: other countries' ore along published routes (`feed_routes.csv`) first, then its own mines, and then
the ore left over, from each mine in proportion to what it has left. Ore is not
priced: a route carries its baseline share of the mine's output while policies let it through. A processor
cut off from part of its ore loses the capacity that ore supported; after `feed_switch_months` it re-sources
the lost ore from mines in countries that restrict nothing, as far as their spare capacity goes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.timeline import build_timeline
from sim.scenario.schema import Scenario
from sim.world.schema import US, World


@dataclass(frozen=True)
class MinePolicy:
    """What mine-stage events do, month by month: [T, M, C, R] share of a route's ore a restriction lets
    through to region r; [T, M, C] share of mine capacity left after disruptions; [T, M, C] whether the
    country restricts any ore exports (its mines are then no source of replacement ore)."""

    allowed_to: np.ndarray
    capacity_factor: np.ndarray
    restricting: np.ndarray


def build_mine_policy(
    scenario: Scenario,
    minerals: list[str],
    countries: list[str],
    regions: list[str],
    sector_names: list[list[str]],
    sector_share: np.ndarray,
    home: np.ndarray,
) -> MinePolicy:
    """What the scenario's mine-stage restrictions and disruptions do: the timeline of those events alone, read
    as the processing stage's timeline is (model/timeline.py). `home` [C, R]: a country's own region, whose
    purchases are not exports (no restriction covers them)."""
    mine_events = [
        event.model_copy(update={"stages": ["processing"]})
        for event in scenario.events
        if "mine" in (getattr(event, "stages", None) or [])
    ]
    mine_only = scenario.model_copy(update={"events": mine_events})
    tl = build_timeline(mine_only, minerals, countries, regions, sector_names, sector_share)
    tl.exempt_home(home)
    return MinePolicy(tl.allowed_to, tl.capacity_factor, tl.restricting)


class FeedNetwork:
    """Baseline ore flows from mines to processors, and the share of each processor's capacity that the
    ore it can still get supports (`capacity_share`)."""

    def __init__(
        self,
        world: World,
        minerals: list[str],
        countries: list[str],
        output0: np.ndarray,
        us_mine_used0: np.ndarray,
    ) -> None:
        """`output0` [M, C] t/month of processing (the market's suppliers); `us_mine_used0` [M]
        t/month of US ore that US plants process at baseline."""
        self.us_mine_used0 = us_mine_used0
        M, C = output0.shape
        ci = {c: i for i, c in enumerate(countries)}
        self.mine0 = np.zeros((M, C))  # t/month
        self.mine_capacity0 = np.zeros((M, C))
        self.us_mine0 = np.zeros(M)
        for i, mineral in enumerate(minerals):
            for country, row in world.mines.get(mineral, {}).items():
                if country == US:
                    self.us_mine0[i] = row.output_t_per_yr / 12
                else:
                    self.mine0[i, ci[country]] = row.output_t_per_yr / 12
                    self.mine_capacity0[i, ci[country]] = row.capacity_t_per_yr / 12
        self.has_mines = np.array([mineral in world.mines for mineral in minerals])
        # [M, C + 1 from, C to]: the last origin is the US mine pool (what US plants do not use is exported)
        self.flows0 = self._baseline_flows(world, minerals, ci, output0)
        self.us_exports0 = self.flows0[:, C].sum(axis=1)  # [M] t/month
        feed0 = self.flows0.sum(axis=1)  # [M, C] ore reaching each processor
        # The share of a processor's capacity its modelled ore supports (the rest runs on scrap, stocks or
        # ore the data do not trace), and each route's share of that ore.
        self.bound = np.where(output0 > 0, np.minimum(feed0 / np.where(output0 > 0, output0, 1.0), 1.0), 0.0)
        self.weight = np.divide(
            self.flows0, feed0[:, None, :], out=np.zeros_like(self.flows0), where=feed0[:, None, :] > 0
        )
        self.routes = np.argwhere(self.flows0 > 0)  # [E, 3]: mineral, from, to
        self.shape = output0.shape  # [M, C]: processors
        self.impaired_months = np.zeros(len(self.routes), dtype=np.int64)

    def _baseline_flows(self, world: World, minerals: list[str], ci: dict[str, int], output0: np.ndarray) -> np.ndarray:
        """Published routes first, then each country's own mines, then ore left over to processors still
        short, in proportion to what each mine has left and each processor lacks."""
        M, C = output0.shape
        flows = np.zeros((M, C + 1, C))
        for i, mineral in enumerate(minerals):
            if mineral not in world.mines:
                continue
            # Origins: every country's mines, then the US's (what US plants leave of it is exported).
            left = np.append(self.mine0[i], max(self.us_mine0[i] - self.us_mine_used0[i], 0.0))
            # Mines report more ore than processors turn out (losses, stocks): every processor is taken to
            # need ore in the world's ratio, so that the world's ore is placed and no country looks like an
            # ore exporter only because its processing loses some.
            ratio = max(left.sum() / output0[i].sum(), 1.0) if output0[i].sum() > 0 else 1.0
            need = output0[i] * ratio
            for origin, shares in world.feed_routes.get(mineral, {}).items():
                f = C if origin == US else ci[origin]
                for to, value in shares.items():
                    if to == US:
                        continue  # US plants draw on the US mine pool (SupplyChainModel), not on routes
                    tonnes = min(value * (self.us_mine0[i] if f == C else self.mine0[i, f]), left[f])
                    flows[i, f, ci[to]] += tonnes
                    left[f] -= tonnes
                    need[ci[to]] = max(need[ci[to]] - tonnes, 0.0)
            own = np.minimum(left[:C], need)
            flows[i, np.arange(C), np.arange(C)] += own
            left[:C] -= own
            need -= own
            if left.sum() > 0 and need.sum() > 0:
                moved = min(left.sum(), need.sum())
                flows[i] += moved * np.outer(left / left.sum(), need / need.sum())
        return flows

    def capacity_share(
        self, t: int, policy: MinePolicy, home_region: np.ndarray, switch_months: int, us_export_share: np.ndarray
    ) -> np.ndarray:
        """[M, C] share of each processor's baseline capacity its ore supports this month (1 where nothing
        is cut). A route carries what the mine-stage policy lets through and what the mine's disruptions
        leave (a route from the US: the share of its baseline ore exports US plants leave, `us_export_share`
        [M]); a route cut for `switch_months` is re-sourced from the spare capacity of mines in countries
        that restrict nothing."""
        if len(self.routes) == 0:
            return np.ones(self.shape)
        m, f, c = self.routes.T
        C = self.shape[1]
        foreign = f < C
        fc = np.minimum(f, C - 1)  # a valid index for the US origin too; its value is replaced below
        reach = np.where(
            foreign,
            policy.allowed_to[t, m, fc, home_region[c]] * policy.capacity_factor[t, m, fc],
            np.minimum(us_export_share[m], 1.0),
        )
        cut = reach < 1.0
        if not cut.any():
            self.impaired_months[:] = 0
            return np.ones(self.shape)
        self.impaired_months = np.where(cut, self.impaired_months + 1, 0)
        lost = self.flows0[m, f, c] * (1.0 - reach)
        switching = cut & (self.impaired_months > switch_months)
        if switching.any():
            spare_by_mine = (self.mine_capacity0 - self.mine0) * policy.capacity_factor[t]
            spare_by_mine = np.where(policy.restricting[t], 0.0, np.maximum(spare_by_mine, 0.0))
            spare = spare_by_mine.sum(axis=1)  # [M]
            wanted = np.bincount(m[switching], lost[switching], minlength=len(spare))
            filled = np.divide(spare, wanted, out=np.zeros_like(spare), where=wanted > 0)
            reach = np.where(switching, reach + (1.0 - reach) * np.minimum(filled[m], 1.0), reach)
        supported = np.zeros(self.shape)
        np.add.at(supported, (m, c), self.weight[m, f, c] * reach)
        touched = np.zeros(self.shape, dtype=bool)
        touched[m[cut], c[cut]] = True
        share = 1.0 - self.bound + self.bound * supported
        return np.where(touched, share, 1.0)
