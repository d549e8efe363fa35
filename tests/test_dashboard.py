"""The dashboard in process: the model behind it, its levers as SolaraViz sees them, the rendered page,
and `sim dashboard`'s checks before it serves anything."""

import inspect
import socket

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("solara", reason="the dashboard needs the viz extra")

import ipyvuetify as v
import ipywidgets
import solara

from sim.api import simulate
from sim.cli import app
from sim.scenario.load import load_scenario
from sim.viz.dashboard import DashboardModel, dashboard_page, lever_params

from .helpers import SCENARIOS

CHINA_BAN = str(SCENARIOS / "china_ban.yaml")


def test_the_dashboard_model_with_untouched_levers_is_the_scenario():
    model = DashboardModel(CHINA_BAN, **{k: v["value"] for k, v in lever_params(load_scenario(CHINA_BAN), "").items()
                                         if isinstance(v, dict)})  # fmt: skip
    for _ in range(36):
        model.step()
    plain = simulate(load_scenario(CHINA_BAN), months=36).model.recorder.series
    for name in ("shortfall", "price_outside", "capacity_gap", "imports"):
        np.testing.assert_array_equal(model.recorder.series[name][:36], plain[name])


def test_the_dashboard_model_stops_at_the_horizon():
    model = DashboardModel(str(SCENARIOS / "baseline.yaml"))
    horizon = model.scenario_spec.horizon_months
    for _ in range(horizon + 3):  # Step pressed past the end does nothing
        model.step()
    assert model.month == horizon and not model.running


def test_every_lever_is_a_keyword_of_the_model():
    """SolaraViz rebuilds the model from the levers on Reset: each must be an argument with a default."""
    params = inspect.signature(DashboardModel.__init__).parameters
    for name in lever_params(load_scenario(CHINA_BAN), CHINA_BAN):
        assert name in params and params[name].default is not inspect.Parameter.empty


def test_the_page_renders_and_steps(tmp_path):
    # China's ban to every destination, so that every chart has something to draw within eight months
    # (a ban on the US alone is largely diverted: its shortfall chart stays at zero).
    (tmp_path / "baseline.yaml").write_text((SCENARIOS / "baseline.yaml").read_text())
    banned = tmp_path / "ban_all.yaml"
    banned.write_text(
        "name: ban_all\nextends: baseline\ndescription: China bans exports to every destination.\n"
        "events:\n  - {type: export_restriction, exporter: China, minerals: [antimony, tungsten, gallium, "
        "germanium, ndpr, dytb, ndfeb_magnets], destinations: [all], kind: ban, start: 2026-03, leakage: 0.1}\n"
    )

    @solara.component
    def Page():
        with solara.AppLayout() as layout:  # the app's sidebar (controls, levers) lives in the layout
            dashboard_page(str(banned))
        return layout

    _, rc = solara.render(Page(), handle_error=False)
    try:

        def charts():
            return [image.value for image in rc.find(ipywidgets.Image).widgets]

        def headline():
            (html,) = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets]
            return html

        before = charts()
        assert len(before) == 4  # shortfall, capacity gap, prices, flows
        step = rc.find(v.Btn, children=["Step"])
        step.assert_single()
        for _ in range(8):
            step.widget.click()
        after = charts()
        assert all(a != b for a, b in zip(before, after, strict=True))  # each chart drew the months stepped
        assert "2026-08, month 8 of 120" in headline()
        assert "data-mineral='antimony'" in headline()
    finally:
        rc.close()


def test_dashboard_refuses_a_bad_scenario_and_a_taken_port(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["dashboard", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2 and "not found" in result.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["dashboard", CHINA_BAN, "--port", str(port)])
    assert result.exit_code == 2 and "choose another --host or --port" in result.output
