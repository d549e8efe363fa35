"""The market's pure functions: allocation, tightness and prices."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.model.market import allocate_by_priority, allocate_pro_rata, update_price
from sim.model.pipeline import Pipeline

amounts = st.floats(min_value=0, max_value=1e6, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    supply=arrays(float, 3, elements=amounts),
    demand=arrays(float, (3, 4), elements=amounts),
    priority=arrays(np.int64, (3, 4), elements=st.integers(1, 3)),
)
def test_allocation_never_exceeds_demand_or_supply(supply, demand, priority):
    delivered = allocate_by_priority(supply, demand, priority)
    assert (delivered >= -1e-9).all()
    assert (delivered <= demand + 1e-6).all()
    np.testing.assert_allclose(delivered.sum(1), np.minimum(supply, demand.sum(1)), rtol=1e-9, atol=1e-6)


def test_defence_is_served_before_industry():
    demand = np.array([[10.0, 30.0]])
    delivered = allocate_by_priority(np.array([20.0]), demand, np.array([[1, 3]]))
    np.testing.assert_allclose(delivered, [[10.0, 10.0]])


def test_one_priority_is_served_pro_rata():
    delivered = allocate_by_priority(np.array([20.0]), np.array([[10.0, 30.0]]), np.array([[1, 1]]))
    np.testing.assert_allclose(delivered, [[5.0, 15.0]])


@settings(max_examples=100, deadline=None)
@given(need=arrays(float, 2, elements=amounts), offers=arrays(float, (2, 3), elements=amounts))
def test_pro_rata_takes_at_most_the_need_and_the_offer(need, offers):
    taken = allocate_pro_rata(need, offers)
    assert (taken <= offers + 1e-6).all()
    assert (taken.sum(1) <= need + 1e-6).all()


def test_price_rises_with_tightness_and_falls_with_slack_within_bounds():
    p0 = np.array([100.0, 100.0, 100.0])
    z = np.array([0.3, 0.0, -0.3])
    p = update_price(p0.copy(), p0, z, sensitivity=2.0, speed=0.5, floor_ratio=0.5, cap_ratio=3.0)
    assert p[0] > 100 and p[1] == 100 and p[2] < 100
    for _ in range(200):
        p = update_price(p, p0, z, 2.0, 0.5, 0.1, 10.0)
    np.testing.assert_allclose(p, 100 * np.exp(2.0 * z))  # settles at the level tightness calls for
    for _ in range(200):
        p = update_price(p, p0, np.array([1.0, 0.0, -1.0]), 2.0, 0.5, 0.5, 3.0)
    np.testing.assert_allclose(p, [300.0, 100.0, 50.0])  # within bounds


def test_pipeline_delivers_after_the_delay_and_keeps_every_tonne():
    pipe = Pipeline((1, 2), max_delay=3)
    now = pipe.ship(0, np.array([[5.0, 7.0]]), np.array([[0, 2]]))
    np.testing.assert_allclose(now, [[5.0, 0.0]])
    assert pipe.in_transit().sum() == 7.0
    assert pipe.arrive(1).sum() == 0.0
    np.testing.assert_allclose(pipe.arrive(2), [[0.0, 7.0]])
    assert pipe.in_transit().sum() == 0.0
