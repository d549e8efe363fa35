"""Material in transit: shipped now, arriving after a per-element delay (licensing waits, leakage routes)."""

from __future__ import annotations

import numpy as np


class Pipeline:
    """A ring buffer of [slot, mineral, country] tonnes due to arrive in future months."""

    def __init__(self, shape: tuple[int, int], max_delay: int, delays: list[int] | None = None) -> None:
        """`delays`: every positive delay ship() will be given, if known (a run's come from its timeline);
        else ship() finds those it is given each time."""
        self.slots = max_delay + 1
        self.buffer = np.zeros((self.slots, *shape))
        self.delays = delays
        self.always_empty = delays is not None and not delays  # nothing is ever held back

    def ship(self, month: int, amount: np.ndarray, delay: np.ndarray) -> np.ndarray:
        """Put `amount` [M, C] (>= 0) in transit, arriving at month + delay. Returns what arrives this month."""
        if self.always_empty:
            return amount.copy()  # no delays this run: everything arrives at once
        same_month = np.where(delay == 0, amount, 0.0)
        later = amount - same_month
        if later.any():
            # A delay with nothing shipped adds zeros: the buffer is the same either way.
            delays = np.unique(delay[(delay > 0) & (later > 0)]) if self.delays is None else self.delays
            for d in delays:
                slot = (month + int(d)) % self.slots
                self.buffer[slot] += np.where(delay == d, later, 0.0)
        return same_month

    def arrive(self, month: int) -> np.ndarray:
        """Remove and return what arrives this month [M, C]."""
        if self.always_empty:
            return np.zeros(self.buffer.shape[1:])
        slot = month % self.slots
        arriving = self.buffer[slot].copy()
        self.buffer[slot] = 0.0
        return arriving

    def in_transit(self) -> np.ndarray:
        """Tonnes in transit [M, C]."""
        if self.always_empty:
            return np.zeros(self.buffer.shape[1:])
        return self.buffer.sum(axis=0)
