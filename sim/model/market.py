"""The world market's maths as pure numpy functions (MODEL.md §3, docs/model.md "The world market").

Agents decide (what regions order, what countries produce, what policies allow); these functions clear.
Shapes: [M] per mineral, [M, S] per mineral and US sector, [M, C] per mineral and supplier country,
[M, R] per mineral and buyer region, [M, C, R] per trade flow. Quantities t/month, prices USD/t.
"""

from __future__ import annotations

import numpy as np


def per_region(flows: np.ndarray) -> np.ndarray:
    """[M, C, R] flows summed over suppliers: [M, R]. (einsum's loop is twice as fast as .sum(axis=1) on
    arrays this small, and as deterministic.)"""
    return np.einsum("mcr->mr", flows)


def per_supplier(flows: np.ndarray) -> np.ndarray:
    """[M, C, R] flows summed over regions: [M, C]."""
    return np.einsum("mcr->mc", flows)


def share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """part / whole, and 0 where whole is 0 (nothing demanded, nothing to share)."""
    return np.divide(part, whole, out=np.zeros(np.shape(part)), where=whole > 0)


def clip(x: np.ndarray, low: np.ndarray | float, high: np.ndarray | float) -> np.ndarray:
    """np.clip's result (NaN stays NaN) without its Python-level argument handling, which costs more
    than the clipping on arrays this small."""
    return np.minimum(np.maximum(x, low), high)


def allocate_by_priority(supply: np.ndarray, demand: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """Deliver `supply` [M] to sectors' `demand` [M, S] in priority order (1 first), pro rata within one.

    Returns delivered [M, S]; 0 <= delivered <= demand and delivered.sum(1) = min(supply, demand.sum(1)).
    """
    return allocate_in_order(supply, demand, priority_levels(priority))


def priority_levels(priority: np.ndarray) -> list[np.ndarray]:
    """Masks [M, S] of the sectors at each priority level, highest priority (1) first."""
    return [priority == level for level in np.unique(priority)]


def allocate_in_order(supply: np.ndarray, demand: np.ndarray, levels: list[np.ndarray]) -> np.ndarray:
    """allocate_by_priority with the priority levels' masks given (they are fixed for a run)."""
    delivered = np.zeros(demand.shape)
    left = np.maximum(supply, 0.0).astype(float)  # a new array: safe to update in place
    for at_level in levels:
        want = np.where(at_level, demand, 0.0)
        total = want.sum(axis=1)
        served = np.minimum(left, total)
        ratio = share(served, total)
        delivered += want * ratio[:, None]
        left -= served
    return delivered


def price_response(price: np.ndarray, baseline: np.ndarray, elasticity: np.ndarray) -> np.ndarray:
    """Constant-elasticity multiplier (p / p0) ** elasticity."""
    return (price / baseline) ** elasticity


def adjust_step(half_life_months: np.ndarray) -> np.ndarray:
    """The share of the distance to its target that closes each month when half of it closes every
    `half_life_months` (fixed for a run, so computed once)."""
    return 1.0 - 0.5 ** (1.0 / half_life_months)


def adjust_by(current: np.ndarray, target: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Move `current` toward `target` by `step` (from adjust_step) of the distance."""
    return current + (target - current) * step


def baseline_flows(
    supply: np.ndarray, demand: np.ndarray, prior: np.ndarray, fixed: np.ndarray, iterations: int = 300
) -> np.ndarray:
    """Baseline trade flows [M, C, R] that add up to each country's `supply` [M, C] and each region's
    `demand` [M, R], as close to `prior` [M, C, R] as biproportional fitting (RAS) gets. Cells where
    `fixed` [M, C, R] is True keep the prior as given, in t/month (the US's imports and other regions'
    published sourcing); the other cells hold relative weights (home bias, 1, 0 for no output) and share
    what the fixed ones leave. The fit ends on the rows: each country's output is placed exactly, and a
    region's demand is met as nearly as the fixed cells allow."""
    fixed_flows = np.where(fixed, prior, 0.0)
    row_target = np.maximum(supply - fixed_flows.sum(axis=2), 0.0)
    col_target = np.maximum(demand - fixed_flows.sum(axis=1), 0.0)
    flows = np.where(fixed, 0.0, prior)
    for _ in range(iterations):
        flows = flows * share(col_target, flows.sum(axis=1))[:, None, :]
        flows = flows * share(row_target, flows.sum(axis=2))[:, :, None]
    return flows + fixed_flows  # rows (output) hold exactly; columns (demand) as nearly as they can


def contracts_honoured(bids: np.ndarray, open_routes: np.ndarray, premium: float) -> np.ndarray:
    """Share of each contracted flow [M, C, R] its supplier honours this month: all of it while no buyer it
    may sell to bids more than (1 + premium) x the holder's bid [M, R], none of it once one bids twice that,
    linearly in between. Past that point the supplier sells the contracted tonnes on the spot market:
    contracts bend when price gaps grow wide enough (a mine's offtake is renegotiated, or broken)."""
    best = np.where(open_routes, bids[:, None, :], 0.0).max(axis=2, keepdims=True)  # [M, C, 1]
    ratio = best / np.maximum(bids[:, None, :], 1e-300)
    return clip((2.0 * (1.0 + premium) - ratio) / (1.0 + premium), 0.0, 1.0)


def fill_contracts(contracted: np.ndarray, orders: np.ndarray, available: np.ndarray) -> np.ndarray:
    """Contracted flows [M, C, R] this month: no more than each region `orders` [M, R] in all, and no more
    than each supplier has `available` [M, C]; both cuts pro rata (no buyer's contract comes first)."""
    wanted = contracted * np.minimum(share(orders, per_region(contracted)), 1.0)[:, None, :]
    return wanted * np.minimum(share(available, per_supplier(wanted)), 1.0)[:, :, None]


def ration_spot(
    supply: np.ndarray,
    orders: np.ndarray,
    preference: np.ndarray,
    caps: np.ndarray | None,
    rounds: int,
    bids: np.ndarray | None = None,
    usual: np.ndarray | None = None,
) -> np.ndarray:
    """The spot market: regions' open `orders` [M, R] met from suppliers' uncontracted `supply` [M, C].

    Each round every region spreads what it still lacks over the suppliers it may buy from: in the first
    round in proportion to its `usual` sourcing [M, C, R] (its baseline trade shares, if given: buyers ask
    their usual suppliers first), in later rounds in proportion to what each supplier has left; both
    times its `preference` [M, C, R] (0 where a policy forbids the route; lower where a tariff makes it
    dearer). A supplier asked for more than it has fills requests in proportion to the request times the
    region's bid [M, R] (the price it pays over the outside price; equal bids: every request by the same
    share), never more than asked. Requests never exceed `caps` [M, C, R] (what a quota or licence lets
    through; None: no route is capped). Whatever is still short after `rounds` rounds (or once a round after
    the first moves less than 1 % of every mineral's orders) is short: this is the rationing rule
    (docs/model.md).
    Returns flows [M, C, R]."""
    flows = np.zeros(preference.shape)
    left, want = supply.copy(), orders.copy()
    room = None if caps is None else caps.copy()
    bid = np.ones(orders.shape) if bids is None else bids
    total = orders.sum(axis=1)  # [M]
    for k in range(rounds):
        if usual is None or k > 0:
            weight = preference * left[:, :, None]
        else:
            weight = np.where((left > 0)[:, :, None], preference * usual, 0.0)
        if room is not None:
            weight = np.where(room > 0, weight, 0.0)
        spread = per_region(weight)
        asked = want[:, None, :] * (weight / np.where(spread > 0, spread, np.inf)[:, None, :])  # share first: <= 1
        if room is not None:
            asked = np.minimum(asked, room)
        weighted = asked * bid[:, None, :]
        pressure = per_supplier(weighted)
        with np.errstate(over="ignore"):  # a tiny pressure on a supplier: the fill overflows, capped at 1
            fill = left / np.where(pressure > 0, pressure, np.inf)  # share of a unit bid's request filled
            got = asked * np.minimum(fill[:, :, None] * bid[:, None, :], 1.0)
        flows += got
        moved = per_region(got)
        left = np.maximum(left - per_supplier(got), 0.0)
        want = np.maximum(want - moved, 0.0)
        if room is not None:
            room = room - got
        # Stop once a round spread over every supplier (not only the usual ones) moved under 1 % of each
        # mineral's orders: the next round would move far less (docs/model.md).
        if (k > 0 or usual is None) and (moved.sum(axis=1) <= 0.01 * total).all():
            break
    return flows


def stock_price(
    baseline: np.ndarray, stocks: np.ndarray, desired: np.ndarray, flexibility: float, floor: float, cap: float
) -> np.ndarray:
    """The price a market's stocks call for: baseline x (stocks / desired stocks) ** -flexibility, within
    [floor, cap] x baseline. Stocks are what producers and buyers hold; desired stocks are their working
    stocks plus precautionary cover, so buying ahead raises the price before any tonne is missing. No speed
    parameter: the price moves as fast as stocks are drawn down or built up."""
    ratio = np.maximum(share(stocks, desired), 1e-300)
    log_level = clip(-flexibility * np.log(ratio), np.log(floor), np.log(cap))
    return baseline * np.where(desired > 0, np.exp(log_level), 1.0)


def leak_share(
    destination: np.ndarray, source: np.ndarray, markup: np.ndarray, cap: np.ndarray, full_gap: float
) -> np.ndarray:
    """Share of a blocked flow that leaks through transit countries [M, C, R]: zero until the price at the
    destination [M, R] pays for the transit markup over the price at the source [M, C], growing with the gap
    beyond it, reaching the enforcement `cap` [M, C] when the gap exceeds the markup by `full_gap`."""
    gap = destination[:, None, :] / np.maximum(source, 1e-300)[:, :, None] - 1.0 - markup[:, :, None]
    return cap[:, :, None] * clip(gap / full_gap, 0.0, 1.0)
