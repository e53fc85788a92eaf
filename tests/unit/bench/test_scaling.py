"""bench.scaling: the copied symbols carry the real day's ticks, and the table's ratios are against the first run."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO_ROOT))  # bench/ is the repository's folder of scripts, not an installed package
from bench.scaling import copied_messages, parse_args, scaling_rows  # noqa: E402

MARKET = REPO_ROOT.parent / "shared" / "data" / "market"


def test_each_copy_of_a_symbol_replays_its_ticks_in_time_order() -> None:
    if not (MARKET / "trades.csv.gz").exists():
        pytest.fail(f"real market data not found at {MARKET}")
    messages = copied_messages(MARKET, "2013-10-09", limit=2_000, copies=3)
    decoded = [(key.decode(), orjson.loads(value)) for key, value in messages]

    assert len(decoded) == 6_000 and all(key == message["symbol"] for key, message in decoded)
    stamps = [message["ts_ns"] for _, message in decoded]
    assert stamps == sorted(stamps)
    by_symbol: dict[str, list[dict]] = {}
    for key, message in decoded:
        by_symbol.setdefault(key, []).append(message)
    originals = [symbol for symbol in by_symbol if "_" not in symbol]
    assert originals and len(by_symbol) == 3 * len(originals)
    for symbol in originals:
        for copy in (1, 2):
            renamed = [{**message, "symbol": symbol} for message in by_symbol[f"{symbol}_{copy}"]]
            assert renamed == by_symbol[symbol]


def test_speed_up_and_cpu_ratio_are_against_the_first_run() -> None:
    def run(processes: int, corrected: float, cpu_us: float) -> dict[str, object]:
        return {"processes": processes, "ticks": 1_000, "cli_wall_s": 2.0, "startup_s": 1.0, "ticks_per_s": 500.0,
                "corrected_ticks_per_s": corrected, "cpu_us_per_tick_workers": cpu_us, "peak_rss_mb_workers": [1.0]}

    rows = scaling_rows([run(1, 1_000.0, 20.0), run(4, 3_000.0, 30.0)])

    assert [(row["speedup"], row["cpu_ratio"]) for row in rows] == [(1.0, 1.0), (3.0, 1.5)]


def test_process_counts_must_be_positive_integers() -> None:
    assert parse_args(["--processes", "1,2,8"]).processes == [1, 2, 8]
    with pytest.raises(SystemExit):
        parse_args(["--processes", "1,x"])
    with pytest.raises(SystemExit):
        parse_args(["--processes", "0"])
