"""`sim hindcast`: the model against China's 2023-2025 export controls, scored."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from sim.cli.console import out, refusals
from sim.cli.options import OutOption, SetOption, results_dir

if TYPE_CHECKING:
    from sim.hindcast import Hindcast


def hindcast(
    scenario: Annotated[
        Path | None, typer.Argument(help="hindcast scenario (default: scenarios/hindcast_2023_2025.yaml)")
    ] = None,
    overrides: SetOption = None,
    cross_validated: Annotated[
        bool,
        typer.Option(
            "--cross-validate",
            help="fit price flexibility and contract share leaving one 2023-2024 event out at a time; "
            "print in-sample and out-of-sample scores",
        ),
    ] = False,
    out_dir: OutOption = "results",
) -> None:
    """Replay China's 2023-2024 export controls and score simulated price moves against observed ones."""
    out_dir = results_dir(out_dir)
    from sim.hindcast import hindcast as run_hindcast
    from sim.results.studies import save_hindcast

    with refusals():
        result = run_hindcast(scenario, overrides or [], cross_validated)
    out.print(moves_table(result))
    out.print(scores_text(result), highlight=False)
    with refusals():
        saved = save_hindcast(result, out_dir)
    out.print(f"Saved [bold]{saved.folder}[/]", highlight=False)


def moves_table(result: Hindcast) -> Table:
    """Each observed move beside the simulated one (in and out of sample when cross-validated)."""
    title = "hindcast: observed vs simulated change (score = simulated log change / observed; 1 is exact)"
    table = Table(title=title, title_justify="left")
    columns = ["event", "mineral", "what", "from → to", "role", "observed"]
    columns += ["in sample", "score", "out of sample", "score"] if result.cross_validated else ["simulated", "score"]
    for header in columns:
        table.add_column(header, justify="left" if header in columns[:5] else "right")
    for row in result.table.itertuples():
        cells = [row.event, row.mineral, f"{row.market} {row.quantity}", f"{row.month_before} → {row.month_after}"]
        cells += [row.role.replace("_", " "), f"{100 * row.observed_change:+.0f}%"]
        pairs = (
            [(row.in_sample_change, row.in_sample_log_ratio), (row.out_of_sample_change, row.out_of_sample_log_ratio)]
            if result.cross_validated
            else [(row.simulated_change, row.log_ratio)]
        )
        for change, ratio in pairs:
            cells += [f"{100 * change:+.0f}%", "-" if ratio != ratio else f"{ratio:.2f}"]
        table.add_row(*cells)
    return table


def scores_text(result: Hindcast) -> str:
    """How many counted price moves came within a factor of two, in sample and out of sample."""
    from sim.hindcast import hits

    scored = result.scored()
    if not result.cross_validated:
        return (
            f"{hits(scored['log_ratio'])} of {len(scored)} counted price moves within a factor of 2 of the observed "
            f"log change; {int((scored['log_ratio'] > 0).sum())} in the right direction. Volume rows are inputs "
            "(not counted); run with --cross-validate for out-of-sample scores."
        )
    assert result.fitted is not None  # cross-validated
    calibration, held = result.scored("calibration"), result.scored("held_out")
    return (
        f"counted: {len(scored)} price moves ({len(calibration)} from 2023-2024 events, {len(held)} with 2025 "
        f"outcomes, never fitted); volume rows are inputs and mixed-evidence rows are not scored.\n"
        f"in sample (fitted on all 2023-2024 events): {hits(calibration['in_sample_log_ratio'])} of "
        f"{len(calibration)} within a factor of 2 of the observed log change\n"
        f"out of sample (each event left out of the fit): {hits(calibration['out_of_sample_log_ratio'])} of "
        f"{len(calibration)}; 2025 outcomes: {hits(held['out_of_sample_log_ratio'])} of {len(held)}\n"
        f"fitted: {result.fitted['all']}"
    )
