"""``tickwise bench``: the side-by-side benchmark of ``bench/`` (a source checkout only).

Every option after ``bench`` goes unchanged to ``python -m bench.flow_throughput`` (see its
``--help``): ``tickwise bench --limit 200000 --processes 1``. The benchmark starts its own
embedded stack, so it needs no running ``tickwise stack``.
"""

from __future__ import annotations

import subprocess
import sys

import typer

from dataflows.cli.common import REPO_ROOT, fail

CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


def bench(ctx: typer.Context) -> None:
    """Benchmark tickwise side by side with Kafka, the model and a naive design; options as bench.flow_throughput."""
    if not (REPO_ROOT / "bench" / "flow_throughput.py").is_file():
        fail(f"tickwise bench needs a source checkout; {REPO_ROOT / 'bench'} is missing")
    # A child interpreter in the checkout: bench/ is not an installed package.
    completed = subprocess.run([sys.executable, "-m", "bench.flow_throughput", *ctx.args], cwd=REPO_ROOT)
    raise typer.Exit(completed.returncode)
