"""Headline indicators per mineral (MODEL.md §6), computed from the recorded arrays."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.model.market import share

if TYPE_CHECKING:
    from sim.results.recorder import Recorder


def _round(value: float, digits: int = 6) -> float:
    return float(f"{value:.{digits}g}")


def time_to_recover(in_shortfall: np.ndarray) -> int | None:
    """Months from the first month in shortfall to the first month after the last one; None if never
    short, -1 if still short at the horizon."""
    months = np.flatnonzero(in_shortfall)
    if months.size == 0:
        return None
    if in_shortfall[-1]:
        return -1
    return int(months[-1] + 1 - months[0])


def region_key(region: str) -> str:
    """The summary key of a region's cumulative shortfall share, e.g. shortfall_share_japan_and_korea."""
    return "shortfall_share_" + "_".join(region.lower().split())


def summarise(recorder: Recorder) -> dict[str, Any]:
    model = recorder.model
    s = recorder.series
    threshold = model.world.market.shortfall_threshold_share
    at_cap = model.world.market.price_cap_ratio * (1 - 1e-9)  # a price at the cap, to rounding
    months = recorder.months()
    out: dict[str, Any] = {}
    for i, mineral in enumerate(model.minerals):
        demand, shortfall = s["us_demand"][:, i], s["shortfall"][:, i]
        unpriced = s["us_demand_at_baseline_price"][:, i]
        priced_out = np.maximum(unpriced - demand, 0.0)
        short_share = s["shortfall_share"][:, i]
        in_shortfall = short_share > threshold
        first = np.flatnonzero(in_shortfall)
        defence = model.sector_priority[i] == 1
        defence_short = (recorder.sector_demand[:, i, defence] - recorder.sector_delivered[:, i, defence]).sum()
        defence_demand = recorder.sector_demand[:, i, defence].sum()
        mined = bool(model.feeds.has_mines[i])

        def staged(value: float, mined: bool = mined) -> float | None:
            return _round(value) if mined else None

        out[mineral] = {
            "cumulative_shortfall_t": _round(shortfall.sum()),
            "cumulative_shortfall_share": _round(shortfall.sum() / demand.sum()) if demand.sum() > 0 else 0.0,
            "peak_shortfall_t_per_month": _round(shortfall.max()),
            "peak_shortfall_share": _round(short_share.max()),
            "months_in_shortfall": int(in_shortfall.sum()),
            "first_shortfall_month": months[first[0]] if first.size else None,
            "time_to_recover_months": time_to_recover(in_shortfall),
            "defence_shortfall_share": _round(defence_short / defence_demand) if defence_demand > 0 else 0.0,
            # US demand priced out: demand at baseline prices less demand at the prices paid, as a share of
            # the former (a shortfall is measured against the latter, so a price rise can hide need).
            "demand_priced_out_share": _round(priced_out.sum() / unpriced.sum()) if unpriced.sum() > 0 else 0.0,
            "capacity_gap_t_per_yr_end": _round(s["capacity_gap"][-1, i]),
            "capacity_gap_t_per_yr_mean": _round(s["capacity_gap"][:, i].mean()),
            "capacity_gap_t_per_yr_peak": _round(s["capacity_gap"][:, i].max()),
            "capacity_gap_share_peak": _round(share(s["capacity_gap"][:, i], 12 * demand).max()),
            "capacity_gap_share_end": _round(s["capacity_gap"][-1, i] / (12 * demand[-1])) if demand[-1] > 0 else 0.0,
            "domestic_capacity_t_per_yr_end": _round(s["domestic_capacity"][-1, i]),
            # The mine stage (docs/model.md §5): US ore at the end, the part processed abroad, and the ore
            # US processing needs beyond what US mines give.
            # null where the world data have no mine stage for the mineral (by-products: the host stage).
            "us_mine_output_t_per_yr_end": staged(s["us_mine_output"][-1, i] * 12),
            "us_mine_processed_abroad_t_per_yr_end": staged(s["us_mine_processed_abroad"][-1, i] * 12),
            "mine_gap_t_per_yr_end": staged(s["mine_gap"][-1, i]),
            "mine_gap_t_per_yr_peak": staged(s["mine_gap"][:, i].max()),
            "mine_gap_share_peak": staged(share(s["mine_gap"][:, i], 12 * demand).max()),
            "mine_capacity_built_t_per_yr": _round(s["mine_capacity_built"][-1, i]),
            "import_reliance_start": _round(s["import_reliance"][0, i]),
            "import_reliance_end": _round(s["import_reliance"][-1, i]),
            "import_reliance_incl_feedstock_end": _round(s["import_reliance_incl_feedstock"][-1, i]),
            "import_bill_usd": _round(s["import_bill_usd"][:, i].sum()),
            "restart_cost_usd": _round(s["restart_cost_usd"][-1, i]),
            "adversary_import_share_start": _round(s["imports_adversary"][0, i] / s["imports"][0, i])
            if s["imports"][0, i] > 0
            else 0.0,
            "price_outside_peak_ratio": _round(s["price_outside_ratio"][:, i].max()),
            "price_outside_end_ratio": _round(s["price_outside_ratio"][-1, i]),
            "price_us_peak_ratio": _round(s["price_us_ratio"][:, i].max()),
            # Months a price sat at the model's cap (market.price_cap_ratio, an assumption): its peak there is
            # the bound, not a move the data decided.
            "price_us_months_at_cap": int((s["price_us_market"][:, i] / model.price0[i] >= at_cap).sum()),
            "price_outside_months_at_cap": int((s["price_outside_ratio"][:, i] >= at_cap).sum()),
            "price_inside_min_ratio": _round(s["price_inside_ratio"][:, i].min()),
            "funding_committed_usd": _round(s["funding_committed_usd"][-1, i]),
            "stockpile_spend_usd": _round(s["stockpile_spend_usd"][-1, i]),
            "capacity_built_t_per_yr": _round(s["capacity_built"][-1, i]),
            "stockpile_released_t": _round(s["stockpile_release"][:, i].sum()),
        }
        # Other buyer regions' shortfall next to the US's (the US's own is cumulative_shortfall_share).
        demand, short = recorder.region["demand"][:, i], recorder.region["shortfall"][:, i]
        shares = []
        for r, region in enumerate(model.regions[1:], start=1):
            total = demand[:, r].sum()
            shares.append(_round(short[:, r].sum() / total) if total > 0 else 0.0)
            out[mineral][region_key(region)] = shares[-1]
        out[mineral]["other_regions_shortfall_share_max"] = max(shares, default=0.0)
    return out


# A share of demand under this is not counted as short or as a gap in the tables and reports (the default of
# the model's shortfall threshold, market.shortfall_threshold_share).
SHORT_SHARE = 0.005


def gap_stages(row: dict[str, Any], threshold: float = SHORT_SHARE) -> str:
    """Where a mineral's US gap sits, from its summary row: "mine" (US processing needs ore US mines do not
    give), "processing" (capacity short of need; "ore abroad" when US ore is processed abroad meanwhile),
    both, or "-". A gap counts above `threshold` of annual demand at its peak (the shortfall threshold's
    0.5 % by default). Minerals without a mine stage in the data can only show processing."""
    mine = (row.get("mine_gap_share_peak") or 0.0) > threshold
    processing = row["capacity_gap_share_peak"] > threshold
    abroad = (row.get("us_mine_processed_abroad_t_per_yr_end") or 0.0) > 0
    if mine and processing:
        return "mine + processing"
    if processing:
        return "processing, ore abroad" if abroad else "processing"
    return "mine" if mine else "-"


CAP_MARK = "*"  # beside a price peak that is the model's price cap
# The price peak indicators, and the market whose months at the cap say the peak is the cap.
PEAK_MARKETS = {"price_us_peak_ratio": "us", "price_outside_peak_ratio": "outside"}


def at_price_cap(row: dict[str, Any], market: str) -> bool:
    """Whether a mineral's `market` ("us" or "outside") price sat at the model's cap in some month: its peak
    is then the cap (market.price_cap_ratio, an assumption), not a move the data decided."""
    return bool(row.get(f"price_{market}_months_at_cap"))


def cap_words(cap: float | None = None, where: str = "in this run") -> str:
    """What a peak marked CAP_MARK is: the model's price cap (`cap`, x baseline `where`, when known)."""
    where = f"{cap:g}x baseline {where}" if cap else "20x baseline by default"
    return (
        f"{CAP_MARK} at the model's price cap (market.price_cap_ratio, {where}; an assumption, range 10-40x): "
        "the peak is that bound, not a price the data decided."
    )


def price_cap_note(rows: dict[str, dict[str, Any]], whose: str = "", cap: float | None = None) -> str:
    """What a marked price peak means, and whose it is, with the months at the cap (`whose`: of which run,
    for an ensemble; `cap`: the run's cap, if known); "" when no price reached the cap."""
    capped = []
    for mineral, row in rows.items():
        where = [
            f"{name} {row[f'price_{market}_months_at_cap']:.0f} months{whose}"
            for market, name in (("us", "US"), ("outside", "outside"))
            if at_price_cap(row, market)
        ]
        if where:
            capped.append(f"{mineral} ({', '.join(where)})")
    return f"{cap_words(cap)} {'; '.join(capped)}." if capped else ""
