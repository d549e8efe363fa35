"""critical-minerals-sim: agent-based scenario simulator of US critical-mineral supply chains.

`sim.run("scenarios/china_ban.yaml", seed=1)` runs a scenario and returns a RunResult.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_scenario", "run", "simulate"]


def __getattr__(name: str) -> Any:  # lazy: keep `sim --help` fast
    if name in {"run", "simulate"}:
        from sim import api

        return getattr(api, name)
    if name == "load_scenario":
        from sim.scenario.load import load_scenario

        return load_scenario
    raise AttributeError(name)
