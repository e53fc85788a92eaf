"""One full training of the long-horizon bar models: held-out skill table, wall time, peak RSS.

    python -m bench.bar_models --out /tmp/bar_models [--hourly PATH] [--daily PATH]

Writes the model files and ``section.json`` (the manifest section) under ``--out`` and prints
the skill table (``models.skill.markdown_table``), each step's progress, the wall time and the
process's peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

from models.bars.train import train_bar_models
from models.skill import SkillRow, markdown_table

BARS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "market" / "bars"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--hourly", type=Path, default=BARS / "bars_hourly_us_equities_1998_2021.csv.gz")
    parser.add_argument("--daily", type=Path, default=BARS / "bars_daily_us_equities_1998_2021.csv.gz")
    parser.add_argument("--held-out-from", default="2019-01-01")
    args = parser.parse_args(argv)
    for path in (args.hourly, args.daily):
        if not path.is_file():
            print(f"bar file {path} does not exist", file=sys.stderr)
            return 2
    started = time.perf_counter()
    try:
        section = train_bar_models(args.hourly, args.daily, args.out, held_out_from=args.held_out_from,
                                   progress=lambda message: print(f"[{time.perf_counter() - started:6.1f}s] {message}",
                                                                  flush=True))
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    (args.out / "section.json").write_text(json.dumps(section, indent=1) + "\n")
    print(markdown_table([SkillRow.from_dict(row) for row in section["skill"]]))
    for name, model in section["models"].items():
        print(f"{name}: selected {model['selected']}; walk-forward "
              + "; ".join(f"{r['candidate']} {r['mean']:.4f}" for r in model["walk_forward"])
              + f"; baselines {model['walk_forward'][0]['baselines']}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"wall time {seconds:.1f} s, peak RSS {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
