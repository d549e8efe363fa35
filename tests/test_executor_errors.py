"""A dask scheduler that cannot be used: one clear line and exit code 2 from every command that runs on
an executor, never a traceback, never a wait without end, nothing written."""

import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sim.ensemble import run_ensemble
from sim.executors import ExecutorError
from sim.scenario.load import load_scenario

from .helpers import ROOT, SCENARIOS, free_port

SIM = str(Path(sys.executable).with_name("sim"))
HANG_GUARD_S = 180  # only against waiting forever: each command normally ends within seconds
COMMANDS = {
    "run": ["run", str(SCENARIOS / "china_ban.yaml"), "--runs", "2", "--months", "12"],
    "sweep": ["sweep", str(SCENARIOS / "china_ban.yaml"), "--vary", "events[0].leakage=0,0.3", "--months", "12"],
    "sensitivity": [
        "sensitivity", str(SCENARIOS / "china_ban.yaml"), "--n", "2", "--months", "12",
        "--set", "events[0].leakage={uniform: [0.0, 0.4]}",
    ],
}  # fmt: skip


def sim_on_dask(command: str, address: str, out: Path) -> tuple[int, str]:
    args = [SIM, *COMMANDS[command], "--executor", "dask", "--address", address, "--out", str(out)]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=HANG_GUARD_S)
    return done.returncode, done.stderr


def assert_one_error_line(code: int, stderr: str, *expected: str) -> None:
    lines = stderr.strip().splitlines()
    assert code == 2, stderr
    assert len(lines) == 1 and lines[0].startswith("error:"), stderr
    for text in expected:
        assert text in lines[0], stderr


@pytest.mark.parametrize("command", ["run", "sweep", "sensitivity"])
def test_an_address_of_an_unknown_scheme_is_refused_in_one_line(tmp_path, command):
    code, stderr = sim_on_dask(command, "garbage://x", tmp_path / "out")
    assert_one_error_line(code, stderr, "'garbage://x'", "tcp://host:port", "tls://host:port")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


@pytest.mark.parametrize("address", ["", "tcp://", "tcp://127.0.0.1", "tcp://127.0.0.1:99999", "inproc://x"])
def test_an_address_without_a_usable_host_and_port_is_refused(address):
    with pytest.raises(ExecutorError, match="dask scheduler address") as raised:
        run_ensemble(load_scenario(SCENARIOS / "china_ban.yaml"), 2, months=6, executor="dask", address=address)
    assert f"'{address}'" in str(raised.value)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_scheduler_nobody_listens_for_fails_clearly(tmp_path, command):
    address = f"tcp://127.0.0.1:{free_port()}"
    code, stderr = sim_on_dask(command, address, tmp_path / "out")
    assert_one_error_line(code, stderr, f"cannot reach the dask scheduler {address}")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


@pytest.mark.slow
def test_a_server_that_accepts_and_never_answers_fails_clearly(tmp_path):
    """Not a dask scheduler: dask's own connect timeout does not cover the greeting it waits for."""
    accepted = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        code, stderr = sim_on_dask("run", address, tmp_path / "out")
    assert_one_error_line(code, stderr, f"cannot reach the dask scheduler {address}", "is it a dask scheduler?")
    assert accepted
