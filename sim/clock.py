"""How long this process has run, so that a command's printed total includes the interpreter's start-up and
its imports, not only the work the library timed itself."""

from __future__ import annotations

import os
import time

IMPORTED = time.perf_counter()  # the fallback origin: when sim's command line first imported this module


def process_age_s() -> float:
    """Wall seconds since this process started.

    On Linux, the kernel's start time of the process (/proc/self/stat, field 22: clock ticks since boot,
    10 ms steps) against CLOCK_BOOTTIME, the same clock: the interpreter's start-up and every import count.
    Elsewhere, the seconds since this module was first imported (sim.cli imports it first), which leave out
    only the interpreter's own start-up."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # fields[0] is field 3 (state)
        return max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - started)
    except (OSError, ValueError, IndexError, AttributeError):
        return time.perf_counter() - IMPORTED
