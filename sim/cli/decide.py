"""`sim discover` (where a target outcome happens, by PRIM) and `sim robust` (policies over the same futures)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from sim.cli.console import fail, out, progress_bar, refusals
from sim.cli.options import (
    AddressOption,
    ExecutorOption,
    InputsOption,
    MonthsOption,
    OutOption,
    SeedOption,
    SetOption,
    WorkersOption,
    check_executor,
    results_dir,
)

if TYPE_CHECKING:
    from sim.discover import DiscoveryStudy
    from sim.robust import RobustStudy


def discover(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    target: Annotated[
        str,
        typer.Option(
            "--target",
            help="condition on a run's summary, e.g. 'antimony.cumulative_shortfall_share>0.02' "
            "(mineral, any or all; and/or)",
        ),
    ],
    runs: Annotated[int, typer.Option("--runs", min=1, help="futures to sample (Latin hypercube)")] = 500,
    density: Annotated[
        float, typer.Option("--density", min=0.0, max=1.0, help="least share of a box's futures on target")
    ] = 0.8,
    boxes: Annotated[int, typer.Option("--boxes", min=1, max=10, help="boxes to find at most")] = 3,
    inputs: InputsOption = None,
    seed: SeedOption = None,
    months: MonthsOption = None,
    overrides: SetOption = None,
    out_dir: OutOption = "results",
    executor: ExecutorOption = "local",
    workers: WorkersOption = None,
    address: AddressOption = None,
) -> None:
    """Find with PRIM the combinations of uncertain inputs (world ranges and the scenario's distributions)
    under which a target outcome happens."""
    out_dir = results_dir(out_dir)
    from sim.discover import discover_file
    from sim.results.studies import save_discovery

    check_executor(executor, address)
    with refusals(), progress_bar() as progress:
        study = discover_file(
            scenario,
            target,
            runs,
            seed=seed,
            months=months,
            overrides=overrides or [],
            density=density,
            max_boxes=boxes,
            only=inputs,
            executor=executor,
            workers=workers,
            address=address,
            progress=progress,
        )
    found = study.found
    held = int(found.design["target"].sum())
    out.print(
        f"{found.target.text}: held in {held} of {runs} futures ({100 * found.base_rate:.1f}%), "
        f"over {len(found.inputs)} uncertain input{'s' if len(found.inputs) != 1 else ''}",
        highlight=False,
    )
    if len(found.boxes):
        out.print(boxes_table(study))
    out.print(study.note, highlight=False)
    with refusals():
        saved = save_discovery(study, out_dir)
    out.print(f"Saved [bold]{saved.folder}[/] ({', '.join(saved.files)})", highlight=False)


def boxes_table(study: DiscoveryStudy) -> Table:
    from sim.discover import BOX_COLUMNS, box_cells

    table = Table(title="PRIM boxes: where the target holds", title_justify="left")
    for header in BOX_COLUMNS:
        table.add_column(header, justify="left" if header == "input" else "right")
    for row in study.found.boxes.itertuples():
        table.add_row(*box_cells(row))
    return table


def robust(
    policies: Annotated[
        list[Path] | None, typer.Argument(help="policy scenario files (each usually extends the same one)")
    ] = None,
    futures: Annotated[int, typer.Option("--futures", min=1, help="futures every policy meets")] = 200,
    threshold: Annotated[
        str, typer.Option("--threshold", help="what a future must meet (same syntax as discover's --target)")
    ] = "all.cumulative_shortfall_share<=0.01",
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            help="summary indicator (lower is better) for regret: INDICATOR at the worst mineral, or MINERAL.INDICATOR",
        ),
    ] = "cumulative_shortfall_share",
    inputs: InputsOption = None,
    seed: SeedOption = None,
    months: MonthsOption = None,
    overrides: SetOption = None,
    out_dir: OutOption = "results",
    executor: ExecutorOption = "local",
    workers: WorkersOption = None,
    address: AddressOption = None,
) -> None:
    """Run every policy over the same sampled futures; share meeting a threshold, regret, cost, and the
    policy with the least maximum regret."""
    out_dir = results_dir(out_dir)
    from sim.results.studies import save_robust
    from sim.robust import robust_files

    check_executor(executor, address)
    if not policies or len(policies) < 2:
        fail("robust needs at least two policy scenario files to compare")
    with refusals(), progress_bar() as progress:
        study = robust_files(
            list(policies),
            futures,
            threshold,
            metric,
            seed=seed,
            months=months,
            overrides=overrides or [],
            only=inputs,
            executor=executor,
            workers=workers,
            address=address,
            progress=progress,
        )
    out.print(regret_table(study))
    result = study.result
    tied, gap_unit = result.tied_minimax, "pp" if result.metric.is_share else result.metric.unit
    out.print(
        f"* least maximum regret: {' = '.join(tied) if len(tied) > 1 else result.minimax_policy}"
        f"{' (a tie: they differ by no more than 1e-12 in every future)' if len(tied) > 1 else ''}. "
        f"Regret{f' in {gap_unit}' if gap_unit else ''} against the best policy in the same future; funding: "
        "median committed over the horizon.",
        highlight=False,
    )
    with refusals():
        saved = save_robust(study, out_dir)
    out.print(f"Saved [bold]{saved.folder}[/] ({', '.join(saved.files)})", highlight=False)


def regret_table(study: RobustStudy) -> Table:
    """One row per policy; the policies with the least maximum regret starred."""
    result = study.result
    outcome, tied = result.metric, result.tied_minimax
    unit, scale = outcome.unit, outcome.scale
    table = Table(
        title=f"{study.futures} futures per policy; outcome: {outcome.words}"
        f"{f', {unit}' if unit else ''}; threshold {result.threshold.text}",
        title_justify="left",
    )
    for header in (
        "policy",
        "meets\nthreshold",
        "outcome\nmedian",
        "regret\nmedian",
        "regret\np90",
        "regret\nmax",
        "best\nin",
        "funding\nUSD m",
    ):
        table.add_column(header, justify="left" if header == "policy" else "right")
    for r in result.table.itertuples():
        table.add_row(
            f"{r.policy}{' *' if r.policy in tied else ''}",
            f"{100 * r.meets_share:.0f}%",
            f"{scale * r.metric_median:.4g}",
            f"{scale * r.regret_median:.4g}",
            f"{scale * r.regret_p90:.4g}",
            f"{scale * r.regret_max:.4g}",
            f"{100 * r.best_share:.0f}%",
            f"{r.cost_usd_median / 1e6:,.0f}",
        )
    return table
