"""What the machine was doing while a benchmark ran: numbers on a shared box need their context."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Machine:
    cpus: int
    model: str
    memory_gib: float
    python: str
    load_before: tuple[float, float, float]

    def describe(self) -> str:
        load = ", ".join(f"{x:.2f}" for x in self.load_before)
        return (
            f"{self.cpus} CPU(s) ({self.model}), {self.memory_gib:.0f} GiB, Python {self.python}; "
            f"load average before the run (1, 5, 15 min): {load}"
        )


def machine() -> Machine:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kib = 0
    return Machine(os.cpu_count() or 1, model, mem_kib / 2**20, platform.python_version(), os.getloadavg())


def load() -> float:
    """The 1-minute load average: above the CPU count, others were competing for the cores."""
    return os.getloadavg()[0]


@dataclass
class ProcessUsage:
    """CPU seconds and peak resident memory of a running process, read from /proc."""

    pid: int

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0
