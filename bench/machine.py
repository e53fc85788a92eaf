"""Machine facts and process measurements for the benchmark: cores, CPU, versions, load, RSS.

Everything is read from ``/proc`` (Linux) with a portable fallback where one exists, so a
report always says what it ran on and how busy the machine was.
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bytewax", "confluent-kafka", "xgboost", "chdb", "clickhouse-connect", "msgspec", "orjson", "numpy",
            "pandas", "river", "prometheus-client", "redis", "hdrhistogram")
POLL_S = 0.1  # how often ProcessWatch.follow samples a child's tree


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total_mb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def git_state() -> dict[str, object]:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                                    capture_output=True, text=True, timeout=10).stdout.strip())
        return {"commit": head or None, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def loadavg() -> list[float] | None:
    """1/5/15-minute load averages: on a 2-core box, anything else running shows up here."""
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except (OSError, ValueError):
        return None


def machine_facts() -> dict[str, object]:
    return {
        "cores": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_total_mb": mem_total_mb(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {name: version(name) for name in PACKAGES},
        "git": git_state(),
        "loadavg_at_start": loadavg(),
    }


def own_memory_mb() -> dict[str, float]:
    """This process's current (VmRSS) and peak (VmHWM) resident memory in MB."""
    found = {"rss_mb": 0.0, "peak_rss_mb": 0.0}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                found["rss_mb"] = round(int(line.split()[1]) / 1024, 1)
            elif line.startswith("VmHWM:"):
                found["peak_rss_mb"] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        import resource

        found["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return found


# --------------------------------------------------------------------------- child processes

def children(pid: int) -> list[int]:
    try:
        import psutil

        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except ImportError:
        pass
    except Exception:  # noqa: BLE001 - the parent has gone
        return []
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def proc_sample(pid: int) -> tuple[int, int, float, str] | None:
    """(VmHWM kB, VmRSS kB, utime+stime s, short command) of ``pid``, or None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    hwm = rss = 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
        elif line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    fields = stat.rsplit(")", 1)[1].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    command = " ".join(part.decode(errors="replace") for part in cmdline[:6] if part)
    return hwm, rss, cpu_s, command


@dataclass
class ProcessWatch:
    """Peak RSS (VmHWM), an RSS time series and CPU seconds of a process tree, by polling /proc."""

    rss_every_s: float = 1.0
    peaks_kb: dict[int, int] = field(default_factory=dict)
    cpu_s: dict[int, float] = field(default_factory=dict)
    commands: dict[int, str] = field(default_factory=dict)
    rss_series: dict[int, list[tuple[float, int]]] = field(default_factory=dict)
    _started: float = field(default_factory=time.monotonic)
    _last_rss: float = -1e9

    def poll(self, root: int) -> None:
        now = time.monotonic()
        take_rss = now - self._last_rss >= self.rss_every_s
        if take_rss:
            self._last_rss = now
        for pid in [root, *children(root)]:
            sample = proc_sample(pid)
            if sample is None:
                continue
            hwm, rss, cpu, command = sample
            self.peaks_kb[pid] = max(self.peaks_kb.get(pid, 0), hwm)
            self.cpu_s[pid] = max(self.cpu_s.get(pid, 0.0), cpu)
            if command:  # empty before exec and once a zombie
                self.commands[pid] = command
            if take_rss and rss:
                self.rss_series.setdefault(pid, []).append((round(now - self._started, 1), rss))

    def follow(self, child: subprocess.Popen, started: float, timeout_s: float, what: str, log: Path) -> None:
        """Poll ``child``'s tree every ``POLL_S`` until it exits; once ``timeout_s`` have passed since
        ``started`` (``time.perf_counter()``), kill it and raise ``TimeoutError`` naming ``what`` and ``log``."""
        try:
            while child.poll() is None:
                self.poll(child.pid)
                if time.perf_counter() - started > timeout_s:
                    raise TimeoutError(f"{what} took over {timeout_s:.0f} s; see {log}")
                time.sleep(POLL_S)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()

    def workers(self, root: int, marker: str = "bytewax.run") -> list[int]:
        return [pid for pid in self.peaks_kb if pid != root and marker in self.commands.get(pid, "")]

    def report(self, root: int) -> dict[str, object]:
        workers = self.workers(root)
        return {
            "peak_rss_mb_workers": [round(self.peaks_kb[pid] / 1024, 1) for pid in workers],
            "peak_rss_mb_workers_sum": round(sum(self.peaks_kb[pid] for pid in workers) / 1024, 1),
            "peak_rss_mb_cli": round(self.peaks_kb.get(root, 0) / 1024, 1),
            "cpu_s_workers": [round(self.cpu_s[pid], 2) for pid in workers],
            "rss_mb_workers_over_time": [rss_profile(self.rss_series.get(pid, [])) for pid in workers],
        }


def rss_profile(series: list[tuple[float, int]]) -> dict[str, object]:
    """RSS at 10/25/50/75/100 % of the run (MB): flat memory shows as equal numbers after warm-up."""
    if not series:
        return {}
    picks = {f"at_{int(q * 100)}pct": round(series[min(len(series) - 1, int(q * (len(series) - 1)))][1] / 1024, 1)
             for q in (0.1, 0.25, 0.5, 0.75, 1.0)}
    return {**picks, "samples": len(series), "max": round(max(rss for _, rss in series) / 1024, 1)}
