"""Market maths as pure numpy functions: allocation, tightness and prices (MODEL.md §3).

Shapes: [M] per mineral, [M, S] per mineral and sector, [M, C] per mineral and country. Quantities are
t/month, prices USD/t.
"""

from __future__ import annotations

import numpy as np


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


def allocate_pro_rata(need: np.ndarray, offers: np.ndarray) -> np.ndarray:
    """Take up to `need` [M] from `offers` [M, C] in proportion to each offer. Returns taken [M, C]."""
    total = offers.sum(axis=1)
    taken = np.minimum(need, total)
    ratio = share(taken, total)
    return offers * ratio[:, None]


def tightness(demand: np.ndarray, available: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Excess demand over what is available (stocks included), as a share of `scale`; in [-1, 1]."""
    z = share(demand - available, scale)
    return clip(z, -1.0, 1.0)


def update_price(
    price: np.ndarray,
    baseline: np.ndarray,
    z: np.ndarray,
    sensitivity: float,
    speed: float,
    floor_ratio: float,
    cap_ratio: float,
) -> np.ndarray:
    """One month of price movement toward the level the market's tightness calls for, within bounds.

    The target is log(p*/p0) = sensitivity * z (z counts stocks below target as tightness, so prices
    follow the stocks-to-use ratio); the price closes `speed` of the distance each month. A level
    rule rather than an integral of z: lagged supply responses then damp instead of overshooting.
    """
    log_ratio = np.log(price / baseline)
    new = baseline * np.exp(log_ratio + speed * (sensitivity * z - log_ratio))
    return clip(new, baseline * floor_ratio, baseline * cap_ratio)


def price_response(price: np.ndarray, baseline: np.ndarray, elasticity: np.ndarray) -> np.ndarray:
    """Constant-elasticity multiplier (p / p0) ** elasticity."""
    return (price / baseline) ** elasticity


def redirect_share(price_out: np.ndarray, baseline: np.ndarray, max_share: float, full_premium: float) -> np.ndarray:
    """Share of open suppliers' other sales the US can bid away, growing with the outside premium [M]."""
    premium = price_out / baseline - 1.0
    return max_share * clip(premium / full_premium, 0.0, 1.0)


def adjust_step(half_life_months: np.ndarray) -> np.ndarray:
    """The share of the distance to its target that closes each month when half of it closes every
    `half_life_months` (fixed for a run, so computed once)."""
    return 1.0 - 0.5 ** (1.0 / half_life_months)


def adjust_by(current: np.ndarray, target: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Move `current` toward `target` by `step` (from adjust_step) of the distance."""
    return current + (target - current) * step


def serve_pooled(
    available: np.ndarray, demand: np.ndarray, is_open: np.ndarray, extra_outside_demand: np.ndarray | None = None
) -> np.ndarray:
    """Non-US buyers are served from a pool, not from one country: the outside pool (open countries)
    and the inside pool (restricting countries) each deliver min(demand, available), taken from each
    country in proportion to what it has. `extra_outside_demand` [M] is demand that has moved to the
    outside pool (buyers a restriction cut off). Arrays [M, C]; returns delivered [M, C]."""
    delivered = np.zeros(available.shape)
    extra = np.zeros(available.shape[0]) if extra_outside_demand is None else extra_outside_demand
    for pool, more in ((is_open, extra), (~is_open, 0.0)):
        have = np.where(pool, available, 0.0)
        total_have = have.sum(axis=1)
        served = np.minimum(np.where(pool, demand, 0.0).sum(axis=1) + more, total_have)
        ratio = share(served, total_have)
        delivered += have * ratio[:, None]
    return delivered
