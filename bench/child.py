"""Run one in-process measurement in a fresh interpreter, so its peak RSS is its own.

Each measured stage (``python -m bench.<stage> ... --out result.json``) loads only what it
needs from files the orchestrator wrote; the orchestrator's own memory (every tick message
of the day) never counts against it. The stage writes its figures as JSON; this adds the
child's peak RSS and CPU seconds from ``/proc``.
"""

from __future__ import annotations

import msgspec
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import orjson

from bench.machine import REPO_ROOT, ProcessWatch, loadavg


def write_messages(path: Path, messages: Sequence[tuple[bytes, bytes]]) -> Path:
    """Hand tick messages to a child stage (MessagePack of ``[key, value]`` pairs; no pickle)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.msgpack.encode([[key, value] for key, value in messages]))
    return path


def read_messages(path: Path) -> list[tuple[bytes, bytes]]:
    pairs = msgspec.msgpack.decode(path.read_bytes(), type=list[tuple[bytes | None, bytes]])
    return [(key, value) for key, value in pairs]


def write_result(path: Path, result: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_INDENT_2))


def run_stage(module: str, args: Sequence[str], work: Path, timeout_s: float = 1800.0,
              env: dict[str, str] | None = None) -> dict[str, object]:
    """``python -m <module> <args> --out <work>/result.json``; its JSON plus peak RSS and CPU."""
    work.mkdir(parents=True, exist_ok=True)
    out = work / "result.json"
    stderr_path = work / "stderr.log"
    watch = ProcessWatch()
    started = time.perf_counter()
    with open(stderr_path, "wb") as err:
        child = subprocess.Popen([sys.executable, "-m", module, *args, "--out", str(out)], cwd=REPO_ROOT,
                                 env=env, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
        watch.follow(child, started, timeout_s, module, stderr_path)
    if child.returncode != 0 or not out.exists():
        raise RuntimeError(f"{module} exited {child.returncode}:\n{stderr_path.read_text()[-3000:]}")
    result = orjson.loads(out.read_bytes())
    result.setdefault("peak_rss_mb", round(watch.peaks_kb.get(child.pid, 0) / 1024, 1))
    result["cpu_s"] = round(watch.cpu_s.get(child.pid, 0.0), 2)
    result["wall_s"] = round(time.perf_counter() - started, 3)
    result["loadavg_after"] = loadavg()
    return result
