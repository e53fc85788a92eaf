"""The naive reference: a per-tick design (pandas rolling windows, one predict per tick), on a sample of the same ticks.

Per tick: ``json.loads`` the message, append it to the symbol's window of the last
``--window`` ticks, build a pandas ``DataFrame`` of that window and recompute a dozen of the
model's features with pandas rolling windows (last price, mid, spread, microprice, quote
imbalance, log return, rolling volatility, VWAP and its deviation, volume, trade count,
RSI 14, Bollinger %B 20, all over ticks rather than time bars), then score that one row with
the shipped ensemble: one ``inplace_predict`` call per model per tick (five). Features the
reference does not compute are passed as missing (NaN), which XGBoost handles.

The windows are first filled (untimed) with the ``--warmup`` ticks before the sample, so
every timed tick sees a full window; the ``--sample`` ticks that follow are timed and the
cost per tick is extrapolated to the whole run by the orchestrator.

    python -m bench.naive --messages sample.pkl --warmup 5000 --out naive.json
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import defaultdict, deque
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from bench.child import read_messages, write_result
from bench.machine import own_memory_mb

WINDOW = 500


def window_features(frame: pd.DataFrame) -> dict[str, float]:
    """A dozen features of the last row, recomputed from the whole window (the naive way)."""
    values: dict[str, float] = {}
    trades = frame[frame["type"] == "trade"]
    quotes = frame[frame["type"] == "quote"]
    if len(quotes):
        bid, ask = quotes["bid"], quotes["ask"]
        bid_size, ask_size = quotes["bid_size"], quotes["ask_size"]
        mid = (bid + ask) / 2.0
        microprice = (bid * ask_size + ask * bid_size) / (bid_size + ask_size)
        values["mid"] = float(mid.iloc[-1])
        values["spread"] = float((ask - bid).iloc[-1])
        values["spread_bps"] = float(((ask - bid) / mid * 1e4).iloc[-1])
        values["microprice"] = float(microprice.iloc[-1])
        values["microprice_deviation_bps"] = float(((microprice - mid) / mid * 1e4).iloc[-1])
        values["quote_imbalance"] = float(((bid_size - ask_size) / (bid_size + ask_size)).iloc[-1])
    if len(trades):
        price, size = trades["price"], trades["size"]
        returns = np.log(price).diff()
        notional = (price * size).rolling(len(trades), min_periods=1).sum()
        volume = size.rolling(len(trades), min_periods=1).sum()
        vwap = notional / volume
        delta = price.diff()
        gain = delta.clip(lower=0).rolling(14).mean()
        loss = (-delta.clip(upper=0)).rolling(14).mean()
        rsi = 100.0 - 100.0 / (1.0 + gain / loss)
        mean20, std20 = price.rolling(20).mean(), price.rolling(20).std()
        lower, upper = mean20 - 2 * std20, mean20 + 2 * std20
        values["last_price"] = float(price.iloc[-1])
        values["log_return_1s"] = float(returns.iloc[-1])
        values["ewma_volatility_1s"] = float(returns.rolling(50, min_periods=2).std().iloc[-1])
        values["vwap_1m"] = float(vwap.iloc[-1])
        values["vwap_deviation_1m"] = float(np.log(price / vwap).iloc[-1])
        values["volume_1m"] = float(volume.iloc[-1])
        values["trade_count_1m"] = float(len(trades))
        values["rsi_1m"] = float(rsi.iloc[-1])
        values["bollinger_percent_b_1m"] = float(((price - lower) / (upper - lower)).iloc[-1])
    return values


class NaiveEngine:
    """Per-tick windows, per-tick pandas, per-tick predict calls."""

    def __init__(self, ensemble: object, window: int) -> None:
        self._ensemble = ensemble
        self._names = list(ensemble.feature_names)  # type: ignore[attr-defined]
        self._windows: dict[str, deque[dict[str, object]]] = defaultdict(lambda: deque(maxlen=window))

    def remember(self, value: bytes) -> None:
        tick = json.loads(value)
        self._windows[tick["symbol"]].append(tick)

    def on_tick(self, value: bytes) -> float:
        tick = json.loads(value)
        window = self._windows[tick["symbol"]]
        window.append(tick)
        features = window_features(pd.DataFrame(list(window)))
        row = np.array([[features.get(name, math.nan) for name in self._names]], dtype=np.float64)
        return float(self._ensemble.predict(row).p_up[0])  # type: ignore[attr-defined]


def run(messages: list[tuple[bytes, bytes]], warmup: int, window: int) -> dict[str, object]:
    from bench.inference import load_default_ensemble

    engine = NaiveEngine(load_default_ensemble(), window)
    for _key, value in messages[:warmup]:
        engine.remember(value)
    sample = messages[warmup:]
    engine.on_tick(sample[0][1])  # warm-up of pandas / XGBoost code paths, untimed
    sample = sample[1:]
    cpu0, started = time.process_time(), time.perf_counter()
    for _key, value in sample:
        engine.on_tick(value)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu0
    ticks = len(sample)
    return {"sample_ticks": ticks, "warmup_ticks": warmup, "window_ticks": window, "elapsed_s": round(elapsed, 3),
            "cpu_s_sample": round(cpu, 3), "us_per_tick": round(elapsed / ticks * 1e6, 1) if ticks else None,
            "ticks_per_s": round(ticks / elapsed, 1) if elapsed > 0 else None, **own_memory_mb()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.naive", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=Path, required=True, help="pickled (key, value): warm-up then sample")
    parser.add_argument("--warmup", type=int, default=0, help="leading messages that only fill the windows")
    parser.add_argument("--window", type=int, default=WINDOW)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    messages = read_messages(args.messages)
    if len(messages) - args.warmup < 2:
        parser.error(f"{len(messages)} messages leave no sample after --warmup {args.warmup}")
    result = run(messages, args.warmup, args.window)
    write_result(args.out, result)
    print(orjson.dumps(result).decode())


if __name__ == "__main__":
    main()
