"""How much one command may ask for: past these, a clear refusal rather than a process that grows until
the machine gives out. docs/limits.md lists them with the reasons; yaml_lines holds the scenario file's."""

from __future__ import annotations

from sim.scenario.errors import ScenarioError

# Every run's summary and monthly series (about 0.1 MB) stay in the main process until the percentile
# bands or the table are written: 10,000 runs hold about 1 GB, and take about 6 minutes on 2 cores.
MAX_RUNS = 10_000


def check_run_count(count: int | float, what: str, how_to_go_further: str) -> None:
    """Refuse a command that would run more than MAX_RUNS models."""
    if count > MAX_RUNS:
        raise ScenarioError(
            f"{what} means {count:,.0f} runs; one command runs at most {MAX_RUNS:,} "
            f"(each run's results, about 0.1 MB, are held until the end). {how_to_go_further}"
        )
