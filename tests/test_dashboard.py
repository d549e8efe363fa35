"""The dashboard in process: the model behind step mode, instant mode's runs and charts, the rendered
page in both modes, and `sim dashboard`'s checks before it serves anything."""

import inspect
import io
import socket
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from matplotlib.text import Text
from typer.testing import CliRunner

pytest.importorskip("solara", reason="the dashboard needs the viz extra")

import ipyvuetify as v
import ipywidgets
import solara

from sim.api import simulate
from sim.cli import app
from sim.scenario.load import load_scenario
from sim.viz import dashboard_charts as charts
from sim.viz.dashboard import DashboardModel, dashboard_page
from sim.viz.instant import (
    AS_WRITTEN,
    BASELINE,
    compare,
    instant_chart,
    reference_file,
    references,
    scenario_catalogue,
)
from sim.viz.levers import Levers, lever_menus
from sim.viz.palette import mineral_colour

from .helpers import SCENARIOS

CHINA_BAN = str(SCENARIOS / "china_ban.yaml")
BAN_ALL = (
    "name: ban_all\nextends: baseline\ndescription: China bans exports to every destination.\n"
    "events:\n  - {type: export_restriction, exporter: China, minerals: [antimony, tungsten, gallium, "
    "germanium, ndpr, dytb, ndfeb_magnets], destinations: [all], kind: ban, start: 2026-03, leakage: 0.1}\n"
)


@pytest.fixture(scope="module")
def ban_all(tmp_path_factory):
    """China's ban to every destination, so that every chart has something to draw (a ban on the US
    alone is largely diverted: its shortfall chart stays at zero)."""
    folder = tmp_path_factory.mktemp("scenarios")
    (folder / "baseline.yaml").write_text((SCENARIOS / "baseline.yaml").read_text())
    (folder / "ban_all.yaml").write_text(BAN_ALL)
    return str(folder / "ban_all.yaml")


def test_the_dashboard_model_with_untouched_levers_is_the_scenario():
    defaults = {menu.name: menu.default for menu in lever_menus(load_scenario(CHINA_BAN))}
    model = DashboardModel(CHINA_BAN, **defaults)
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
    """Mesa's controller rebuilds the model from the levers on Reset: each must be an argument with a default."""
    params = inspect.signature(DashboardModel.__init__).parameters
    for menu in lever_menus(load_scenario(CHINA_BAN)):
        assert menu.name in params and params[menu.name].default is not inspect.Parameter.empty
    assert {menu.name for menu in lever_menus(load_scenario(CHINA_BAN))} == {f.name for f in fields(Levers)}


def test_every_shipped_scenario_is_offered_and_a_file_of_ones_own_beside_them(ban_all):
    catalogue = scenario_catalogue(None)
    assert set(catalogue) == {path.stem for path in SCENARIOS.glob("*.yaml")}
    mine = scenario_catalogue(Path(ban_all))
    assert "ban_all" in mine and "china_ban" in mine


def test_the_baseline_is_a_reference_only_over_the_same_months():
    catalogue = scenario_catalogue(None)
    assert references(str(catalogue["china_ban"]), catalogue) == [AS_WRITTEN, BASELINE]
    assert references(str(catalogue["hindcast_2023_2025"]), catalogue) == [AS_WRITTEN]  # 2023-2025
    assert references(str(catalogue["baseline"]), catalogue) == [AS_WRITTEN]


def test_instant_mode_runs_the_whole_horizon_against_the_scenario_as_written():
    comparison = compare(CHINA_BAN, Levers(leakage=0.3), CHINA_BAN)
    shown, reference = comparison.result, comparison.reference
    assert shown.months == reference.months == 120
    i = shown.model.minerals.index("gallium")
    peak = [(run.model.recorder.series["price_us"][:, i] / run.model.price0[i]).max() for run in (shown, reference)]
    assert peak[0] < peak[1]  # more leakage, a lower US gallium price peak
    assert compare(CHINA_BAN, Levers(leakage=0.3), CHINA_BAN).result is shown  # the same levers: not run again


def chart_text_px(chart, data) -> list[float]:
    fig, ax = charts.new_chart()
    chart(ax, data)
    fig.canvas.draw()
    return [t.get_fontsize() * charts.DPI / 72 for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def test_charts_draw_text_of_14_px_a_tick_a_year_and_the_shocks_shaded(ban_all):
    comparison = compare(ban_all, Levers(), ban_all)
    data = charts.ChartData(comparison.result.model.recorder, 120, comparison.reference.model.recorder, "gallium")
    for chart in charts.CHARTS.values():
        assert min(chart_text_px(chart, data)) >= 14
        _, ax = charts.new_chart()
        chart(ax, data)
        assert len(ax.get_xticks()) == 10  # 2026 to 2035
        labels = [label.get_text() for label in ax.get_xticklabels() if label.get_text()]
        assert labels[0] == "2026" and len(labels) >= 5
        (shade,) = [p for p in ax.patches if p.get_alpha() and p.get_alpha() < 0.1]  # the ban, from 2026-03
        assert shade.get_x() == 2


def test_minerals_at_rest_are_left_out_and_each_mineral_keeps_its_colour(ban_all):
    comparison = compare(ban_all, Levers(), ban_all)
    data = charts.ChartData(comparison.result.model.recorder, 120, comparison.reference.model.recorder)
    _, ax = charts.new_chart()
    drawn = charts.draw_shortfall(ax, data)
    names = [label for label, _, _ in drawn.entries]
    assert "gallium" in names and "aluminium" not in names  # aluminium is never short
    assert drawn.folded == f"+{len(data.shown.model.minerals) - len(names)} more at 0"
    assert all(colour == mineral_colour(label) for label, colour, _ in drawn.entries)
    solid = [line for line in ax.get_lines() if line.get_linewidth() > 2]
    assert [line.get_color() for line in solid] == [mineral_colour(name) for name in names]
    assert len(ax.get_lines()) == 2 * len(names) + 1  # each drawn twice (levers, reference) and the zero line

    quiet = compare(str(SCENARIOS / "baseline.yaml"), Levers(), str(SCENARIOS / "baseline.yaml"))
    data = charts.ChartData(quiet.result.model.recorder, 120, quiet.reference.model.recorder)
    _, ax = charts.new_chart()
    drawn = charts.draw_shortfall(ax, data)
    assert drawn.entries == () and [t.get_text() for t in ax.texts] == ["every mineral at 0"]


def render_page(scenario: str):
    @solara.component
    def Page():
        return dashboard_page(scenario)

    return solara.render(Page(), handle_error=False)


def images(rc) -> list[bytes]:
    return [image.value for image in rc.find(ipywidgets.Image).widgets]


def html(rc) -> str:
    return "\n".join(w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets)


def menu(rc, value):
    """The lever menu offering `value`."""
    (select,) = [s for s in rc.find(v.Select).widgets if any(item["value"] == value for item in s.items)]
    return select


def test_instant_mode_redraws_every_chart_when_a_lever_moves(ban_all):
    _, rc = render_page(ban_all)
    try:
        before = images(rc)
        assert len(before) == len(charts.CHARTS) and "no lever moved" in html(rc)  # pictures only when asked
        menu(rc, "China: gallium").v_model = "all"  # lift every restriction
        after = images(rc)
        assert all(a != b for a, b in zip(before, after, strict=True))
        assert "lifted: all" in html(rc)
        assert "<tr data-mineral='gallium'><td>gallium</td><td>0.0% (" in html(rc)  # none short; in brackets, the ban
    finally:
        rc.close()


def test_another_scenario_starts_with_its_own_levers(ban_all):
    _, rc = render_page(ban_all)
    try:
        menu(rc, "China: gallium").v_model = "all"
        menu(rc, "power_price_spike").v_model = "power_price_spike"
        assert "<b>power_price_spike</b>" in html(rc) and "no lever moved" in html(rc)
        assert "shaded: power price x1.8 2026-06 to 2027-05" in html(rc)
    finally:
        rc.close()


def test_step_mode_steps_and_applies_levers_at_reset(ban_all):
    _, rc = render_page(ban_all)
    try:
        rc.find(v.BtnToggle).widget.v_model = 1  # Step by step
        step = rc.find(v.Btn, children=["Step"])
        step.assert_single()
        before = images(rc)
        for _ in range(8):
            step.widget.click()
        assert "2026-08, month 8 of 120" in html(rc)
        assert all(a != b for a, b in zip(before, images(rc), strict=True))  # each chart drew the months stepped
        assert "not yet applied" not in html(rc)
        menu(rc, 0.3).v_model = 0.3  # leakage
        assert "Levers changed, not yet applied" in html(rc) and "month 8 of 120" in html(rc)
        rc.find(v.Btn, children=["Reset"]).widget.click()
        assert "not yet applied" not in html(rc)
        assert "month 0 of 120" in html(rc) and "leakage 0.30" in html(rc)
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
        result = runner.invoke(app, ["dashboard", "--port", str(port)])  # the scenario is optional
    assert result.exit_code == 2 and "choose another --host or --port" in result.output


def test_a_chart_drawn_again_on_its_figure_is_the_same_as_on_a_new_one(ban_all):
    """render_png keeps a figure per chart and draws on it again: nothing of the last picture may stay."""

    def fresh(chart, data) -> bytes:
        fig, ax = charts.new_chart()
        chart(ax, data)
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=charts.DPI, pil_kwargs={"compress_level": 1})
        return out.getvalue()

    banned, lifted = compare(ban_all, Levers(), ban_all), compare(ban_all, Levers(lift="all"), ban_all)
    quiet = compare(str(SCENARIOS / "baseline.yaml"), Levers(), str(SCENARIOS / "baseline.yaml"))
    views = [
        charts.ChartData(banned.result.model.recorder, 120, banned.reference.model.recorder, "gallium"),
        charts.ChartData(quiet.result.model.recorder, 8, None, "antimony"),  # step mode, 8 months, nothing short
        charts.ChartData(lifted.result.model.recorder, 120, lifted.reference.model.recorder, "tungsten"),
    ]
    for chart in charts.CHARTS.values():
        for data in views:
            assert charts.render_png(chart, data)[0] == fresh(chart, data)


def test_every_shipped_scenario_draws_in_instant_mode():
    """Any scenario can be chosen in the page: each has its levers, its runs and its four charts."""
    catalogue = scenario_catalogue(None)
    for name, path in catalogue.items():
        resolved = load_scenario(path)
        assert all(menu.default in menu.values for menu in lever_menus(resolved) if menu.values), name
        for reference in references(str(path), catalogue):
            comparison = compare(str(path), Levers(), reference_file(str(path), reference, catalogue))
            first = next(iter(resolved.world.minerals))
            shown, other = comparison.result, comparison.reference.model.recorder
            data = charts.ChartData(shown.model.recorder, shown.months, other, first)
            for chart in charts.CHARTS.values():
                png, drawn = charts.render_png(chart, data)
                assert png.startswith(b"\x89PNG") and drawn.title, name


def test_an_instant_chart_can_be_drawn_from_the_runresult(monkeypatch):
    """A picture drawn from a sim.api.RunResult (sim.viz.pictures) joins instant mode as one more chart."""
    seen = []

    def from_result(ax, data):
        seen.append(data.result)
        ax.plot(data.result.series("price_us")["gallium"].to_numpy())
        return charts.Drawn("US gallium price, USD/t")

    monkeypatch.setitem(charts.CHARTS, "from_result", from_result)
    png, drawn = instant_chart("from_result", CHINA_BAN, Levers(leakage=0.2), CHINA_BAN, "")
    (result,) = seen
    assert result is compare(CHINA_BAN, Levers(leakage=0.2), CHINA_BAN).result and drawn.title.startswith("US gallium")
    assert png.startswith(b"\x89PNG")


def test_instant_mode_shows_the_run_reports_pictures_of_the_mineral_chosen(ban_all):
    """Capacity against need, shortfall by sector, plant utilisation and the import Sankey, drawn from the run
    with the levers (sim.viz.pictures), as in the run report, once "Pictures" is ticked."""
    from sim.viz.dashboard_charts import PICTURES

    _, rc = render_page(ban_all)
    try:
        (tick,) = [box for box in rc.find(v.Checkbox).widgets if box.label == "Pictures"]
        tick.v_model = True
        assert len(images(rc)) == len(charts.CHARTS) + len(PICTURES)
    finally:
        rc.close()
    for picture in PICTURES:
        png, drawn = instant_chart(picture, CHINA_BAN, Levers(leakage=0.2), CHINA_BAN, "gallium")
        assert png.startswith(b"\x89PNG") and drawn.title
        if picture != "utilisation":
            assert "gallium" in drawn.title
