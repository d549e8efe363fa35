"""The market's pure functions: baseline flows, contracts, spot rationing, leakage, prices, US allocation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.model.market import (
    allocate_by_priority,
    baseline_flows,
    fill_contracts,
    leak_share,
    ration_spot,
    stock_price,
)
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


flows_shape = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), shape=flows_shape)
def test_spot_rationing_never_ships_more_than_supply_orders_or_caps(data, shape):
    M, C, R = shape
    supply = data.draw(arrays(float, (M, C), elements=amounts))
    orders = data.draw(arrays(float, (M, R), elements=amounts))
    preference = data.draw(arrays(float, (M, C, R), elements=st.sampled_from([0.0, 0.5, 1.0])))
    caps = data.draw(arrays(float, (M, C, R), elements=st.sampled_from([0.0, 10.0, np.inf])))
    bids = data.draw(arrays(float, (M, R), elements=st.floats(0.5, 5.0)))
    flows = ration_spot(supply, orders, preference, caps, rounds=4, bids=bids)
    assert (flows >= 0).all()
    assert (flows.sum(axis=2) <= supply + 1e-6 * (1 + supply)).all()
    assert (flows.sum(axis=1) <= orders + 1e-6 * (1 + orders)).all()
    assert (flows <= caps + 1e-9).all()
    assert (flows[preference == 0] == 0).all()


def test_spot_rationing_serves_no_region_first_and_the_higher_bid_gets_more():
    supply = np.array([[10.0]])
    orders = np.array([[20.0, 20.0]])
    open_routes = np.ones((1, 1, 2))
    even = ration_spot(supply, orders, open_routes, np.full((1, 1, 2), np.inf), rounds=4)
    np.testing.assert_allclose(even, [[[5.0, 5.0]]])  # same request, same bid: the same share
    bid = ration_spot(supply, orders, open_routes, np.full((1, 1, 2), np.inf), rounds=4, bids=np.array([[1.0, 3.0]]))
    assert bid[0, 0, 1] > bid[0, 0, 0] and bid.sum() == pytest.approx(10.0)


def test_spot_rationing_is_proportional_not_a_maximal_matching():
    """A buyer cut off from one supplier competes for the other on equal terms; the buyer with a choice
    keeps what it was given there, so the cut-off buyer can end short while supply it cannot reach is
    left over. This is the written rule (docs/model.md), not an optimum."""
    supply = np.array([[10.0, 10.0]])  # two suppliers
    orders = np.array([[8.0, 8.0]])  # two regions; region 0 may not buy from supplier 0
    preference = np.array([[[0.0, 1.0], [1.0, 1.0]]])
    flows = ration_spot(supply, orders, preference, np.full((1, 2, 2), np.inf), rounds=6)
    assert flows[0, 0, 0] == 0
    np.testing.assert_allclose(flows.sum(axis=1)[0], [10.0 * 8 / 12, 8.0])


def test_contracts_are_cut_pro_rata_to_the_order_and_the_suppliers_stock():
    contracted = np.array([[[6.0, 6.0], [4.0, 0.0]]])  # [M, C, R]
    filled = fill_contracts(contracted, orders=np.array([[5.0, 6.0]]), available=np.array([[6.0, 4.0]]))
    # Region 0 ordered 5 of its 10 contracted: each of its contracts halves. Supplier 0 is then asked for
    # 3 + 6 with 6 in stock: both its buyers get two thirds.
    np.testing.assert_allclose(filled[0], [[2.0, 4.0], [2.0, 0.0]])
    assert (filled <= contracted + 1e-12).all() and filled[0, :, 0].sum() <= 5.0 + 1e-12


def test_the_price_follows_stocks_against_desired_stocks_without_a_speed_or_a_direction():
    p0, desired = np.full(3, 100.0), np.full(3, 10.0)
    price = stock_price(p0, np.array([5.0, 10.0, 20.0]), desired, flexibility=1.0, floor=0.1, cap=20.0)
    np.testing.assert_allclose(price, [200.0, 100.0, 50.0])  # half the stocks: twice the price
    bounded = stock_price(p0, np.array([0.0, 1e9, 10.0]), desired, flexibility=2.0, floor=0.1, cap=20.0)
    np.testing.assert_allclose(bounded, [2000.0, 10.0, 100.0])


def test_baseline_flows_add_up_to_output_and_demand_and_keep_forbidden_routes_empty():
    supply = np.array([[60.0, 30.0, 10.0]])
    demand = np.array([[20.0, 50.0, 30.0]])  # region 0 is fixed (the US: its imports as published)
    prior = np.ones((1, 3, 3))
    prior[0, :, 0] = [15.0, 5.0, 0.0]
    prior[0, 2, 1] = 0.0  # supplier 2 never sells to region 1
    flows = baseline_flows(supply, demand, prior, fixed=np.array([True, False, False]))
    np.testing.assert_allclose(flows[0, :, 0], [15.0, 5.0, 0.0])
    np.testing.assert_allclose(flows.sum(axis=2), supply, rtol=1e-6)
    np.testing.assert_allclose(flows.sum(axis=1)[0, 1:], demand[0, 1:], rtol=1e-6)
    assert flows[0, 2, 1] == 0


def test_leakage_grows_with_the_price_gap_beyond_the_markup_up_to_its_cap():
    source = np.full((3, 1), 100.0)  # [M, C]: one exporter
    destination = np.array([[110.0], [150.0], [400.0]])  # [M, R]: one importing region
    share_ = leak_share(destination, source, np.full((3, 1), 0.2), np.full((3, 1), 0.3), full_gap=0.5)
    np.testing.assert_allclose(share_[:, 0, 0], [0.0, 0.3 * 0.3 / 0.5, 0.3])  # gap net of markup 0, 0.3, 1.8


def test_pipeline_delivers_after_the_delay_and_keeps_every_tonne():
    pipe = Pipeline((1, 2), max_delay=3)  # any shape: the model's are [mineral, country, region]
    now = pipe.ship(0, np.array([[5.0, 7.0]]), np.array([[0, 2]]))
    np.testing.assert_allclose(now, [[5.0, 0.0]])
    assert pipe.in_transit().sum() == 7.0
    assert pipe.arrive(1).sum() == 0.0
    np.testing.assert_allclose(pipe.arrive(2), [[0.0, 7.0]])
    assert pipe.in_transit().sum() == 0.0


def test_a_buyer_whose_usual_supplier_is_closed_turns_to_the_others():
    """The first round asks usual suppliers only; when none of them may sell, later rounds still run."""
    supply = np.array([[10.0, 10.0]])
    orders = np.array([[8.0]])
    preference = np.array([[[0.0], [1.0]]])  # the usual supplier (0) is closed to this buyer
    usual = np.array([[[1.0], [0.0]]])
    flows = ration_spot(supply, orders, preference, None, rounds=4, usual=usual)
    np.testing.assert_allclose(flows[0, :, 0], [0.0, 8.0])
