"""A killed `sim` takes its helpers along: no worker, forkserver, resource tracker or dask process outlives
it, and a terminated one leaves no result folder and no traceback.

`sim` is started in a session of its own, so everything it starts shares its process group; the group
is then watched through /proc (Linux, as the executors' pidfd watch)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .helpers import ROOT, SCENARIOS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc"),
]
SIM = str(Path(sys.executable).with_name("sim"))
HANG_GUARD_S = 120  # only against hanging forever: each wait below normally ends within seconds


def group_members(pgid: int) -> list[str]:
    """The live (not zombie) processes of a process group: 'pid command' each."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended while being read
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state not in ("Z", "X"):
            members.append(f"{stat.parent.name} {cmdline[:150]}")
    return members


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + HANG_GUARD_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.2)


def start_working(tmp_path: Path, *options: str, processes: int) -> subprocess.Popen:
    """`sim run china_ban` with many runs, once it and `processes - 1` helpers of its group are up."""
    proc = subprocess.Popen(
        [SIM, "run", str(SCENARIOS / "china_ban.yaml"), "--no-plots", "--out", str(tmp_path / "out"), *options],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, which its helpers inherit
    )

    def working() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"sim ended before it could be killed: {proc.stderr.read().decode()}")
        return len(group_members(proc.pid)) >= processes

    wait_for(working, f"{processes} processes of sim")
    return proc


def assert_all_gone(proc: subprocess.Popen) -> None:
    proc.wait(timeout=HANG_GUARD_S)
    try:
        wait_for(lambda: not group_members(proc.pid), "sim's helpers to end")
    except BaseException:
        leftovers = group_members(proc.pid)
        os.killpg(proc.pid, signal.SIGKILL)  # a failed test leaves nothing behind either
        raise AssertionError(f"still running after sim ended: {leftovers}") from None


# local: sim, the resource tracker, the forkserver and two workers
@pytest.mark.parametrize("executor, processes", [("local", 5), ("dask", 4)])
def test_sigkill_of_sim_run_leaves_no_helper_process(tmp_path, executor, processes):
    proc = start_working(tmp_path, "--runs", "400", "--workers", "2", "--executor", executor, processes=processes)
    proc.kill()
    assert_all_gone(proc)


def test_sigterm_of_sim_run_ends_it_cleanly(tmp_path):
    proc = start_working(tmp_path, "--runs", "400", "--workers", "2", processes=5)
    proc.send_signal(signal.SIGTERM)
    assert_all_gone(proc)
    stderr = proc.stderr.read().decode()
    assert proc.returncode != 0
    assert "Traceback" not in stderr, stderr
    out = tmp_path / "out"
    assert not out.exists() or list(out.iterdir()) == []
