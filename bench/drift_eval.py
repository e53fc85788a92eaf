"""Drift monitor evaluation on real held-out days: false alarms, planted shifts, detection delay.

Run with ``.venv/bin/python -m bench.drift_eval``. For every quoted symbol (AIG, BAC, IBM, SPY)
on 2013-10-08 and 2013-10-09 by default (``--days``; 2013-10-09 is the shipped model's held-out
day, 2013-10-07 was used by nothing here when the defaults were chosen) the live feature step
(``SymbolFeatures``, default settings, one row per second) runs over the real ticks from the
pre-market to the close, and the monitors see the regular-session rows:

- **unmodified day**: every alarm is a false alarm (counted per symbol and day);
- **planted shifts from noon New York**: the monitors' state at noon is copied (``copy.deepcopy``,
  through the same ``__getstate__``/``__setstate__`` as a snapshot) and each trial
  replays the next ``--window`` minutes (30) from it with one change: a watched feature shifted
  by one standard deviation (its standard deviation over the morning, 10:00-12:00), the same
  feature's deviations from its morning mean scaled so that its variance doubles
  (``--variance-factor``), or a feed fault replayed through the feature step itself from the
  noon snapshot of ``SymbolFeatures`` (quotes dropped for 5 minutes, spreads tripled around the mid,
  every price x100); features are drawn per group with a fixed seed;
- **inverted model**: a simulated predictor with skill (a calibrated noisy oracle of the realised
  5-minute direction, confidence drawn in [0.6, 0.9]) whose ``p_up`` becomes ``1 - p_up`` from
  noon, through ``OutcomeTracker`` (the live outcome path).

A trial is detected when an alarm of the right kind (the shifted feature's group for a feature
shift, any feature group for a feed fault, a model event for the inverted model) opens within the
window; its delay is event-time minutes from noon. Precision counts the alarms in the trial
windows that point at the planted change. River's ADWIN and PageHinkley with default settings,
one per watched feature on its raw value (what the monitor shipped before), run on the same
streams; on the model they watch the 0/1 error stream. Writes ``bench/results/drift_eval.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import copy
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from river.drift import ADWIN, PageHinkley

from bench.features import MARKET
from bench.machine import cpu_model
from dataflows.tickfiles import read_tick_frame
from operators.features.symbol import FeatureConfig, SymbolFeatures, feature_layout, register_config
from operators.messages import DriftEvent, FeatureRow, Prediction, Quote, Trade, ValidTick
from operators.monitoring.feature_groups import UNWATCHED, group_of
from operators.monitoring.outcomes import OutcomeConfig, OutcomeTracker
from operators.monitoring.standardised import OPENED, StandardisedDriftConfig, StandardisedDriftMonitor

SYMBOLS = ("AIG", "BAC", "IBM", "SPY")
DAYS = ("2013-10-08", "2013-10-09")
MINUTE_NS = 60 * 1_000_000_000
HORIZON_NS = 5 * MINUTE_NS
MODEL_KINDS = ("retrain", "model_review")


@dataclass
class SymbolDay:
    """The regular-session feature rows of one symbol-day, the feature state at noon and the ticks after."""

    symbol: str
    day: str
    rows: list[FeatureRow]
    noon_index: int  # first row at or after noon
    noon_ns: int
    features_at_noon: object
    ticks_after_noon: list[ValidTick] = field(repr=False)


def _utc(day: str, clock: str) -> int:
    return pd.Timestamp(f"{day} {clock}", tz="America/New_York").tz_convert("UTC").value


def read_days(days: tuple[str, ...], symbols: tuple[str, ...]) -> pd.DataFrame:
    """Every tick of ``symbols`` from 04:00 on the first day to 16:00 New York on the last, in time order."""
    return read_tick_frame([MARKET / "trades.csv.gz", MARKET / "quotes.csv.gz"], list(symbols),
                           _utc(min(days), "04:00"), _utc(max(days), "16:00"))


def load_symbol_day(ticks: pd.DataFrame, symbol: str, day: str, window_ns: int) -> SymbolDay:
    """Run the live feature step over one symbol-day of ``ticks``; keep the regular-session rows."""
    in_day = ticks["ts_ns"].between(_utc(day, "04:00"), _utc(day, "16:00"), inclusive="left")
    frame = ticks[in_day & (ticks["symbol"] == symbol)]
    opens, noon = _utc(day, "09:30"), _utc(day, "12:00")
    features = SymbolFeatures(symbol, FeatureConfig())
    rows: list[FeatureRow] = []
    snapshot, after = None, []
    for offset, tick in enumerate(frame.itertuples(index=False)):
        message = (Trade(symbol, int(tick.ts_ns), float(tick.price), float(tick.size)) if tick.type == "trade" else
                   Quote(symbol, int(tick.ts_ns), float(tick.bid), float(tick.ask), float(tick.bid_size),
                         float(tick.ask_size)))
        valid = ValidTick(message, "ticks", 0, offset)
        if message.ts_ns >= noon:
            if snapshot is None:
                snapshot = copy.deepcopy(features)
            if message.ts_ns < noon + window_ns:
                after.append(valid)
        rows += [row for row in features.update(valid) if row.ts_ns >= opens]
        features.drain_returns()
    noon_index = next(i for i, row in enumerate(rows) if row.ts_ns >= noon)
    return SymbolDay(symbol, day, rows, noon_index, noon, snapshot, after)


# -- planted changes -------------------------------------------------------------------------------

def shifted_rows(day: SymbolDay, feature: str, window_ns: int, kind: str, variance_factor: float,
                 shift: float = 1.0) -> list[FeatureRow]:
    """The rows after noon with ``feature`` shifted by ``shift`` morning standard deviations, or spread out."""
    position = day.rows[0].names.index(feature)
    morning = np.array([row.values[position] for row in day.rows[:day.noon_index]
                        if row.ts_ns >= day.noon_ns - 2 * 60 * MINUTE_NS], dtype=float)
    morning = morning[np.isfinite(morning)]
    mean, std = float(morning.mean()), float(morning.std())
    out = []
    for row in _window(day, window_ns):
        values = list(row.values)
        value = values[position]
        values[position] = value + shift * std if kind == "shift" else mean + (value - mean) * math.sqrt(variance_factor)
        out.append(FeatureRow(row.symbol, row.ts_ns, row.partition, row.offset, row.price, row.names,
                              tuple(values), row.feature_set, row.quality))
    return out


def _window(day: SymbolDay, window_ns: int) -> list[FeatureRow]:
    return [row for row in day.rows[day.noon_index:] if row.ts_ns < day.noon_ns + window_ns]


def _frozen(tick: ValidTick, noon_ns: int) -> ValidTick | None:
    quote = tick.tick
    return None if isinstance(quote, Quote) and quote.ts_ns < noon_ns + 5 * MINUTE_NS else tick


def _wide(tick: ValidTick, noon_ns: int) -> ValidTick | None:
    quote = tick.tick
    if not isinstance(quote, Quote):
        return tick
    mid, half = (quote.bid + quote.ask) / 2, (quote.ask - quote.bid) / 2
    return ValidTick(Quote(quote.symbol, quote.ts_ns, mid - 3 * half, mid + 3 * half, quote.bid_size,
                           quote.ask_size), tick.topic, tick.partition, tick.offset)


def _scaled(tick: ValidTick, noon_ns: int) -> ValidTick | None:
    t = tick.tick
    message = (Trade(t.symbol, t.ts_ns, t.price * 100, t.size) if isinstance(t, Trade) else
               Quote(t.symbol, t.ts_ns, t.bid * 100, t.ask * 100, t.bid_size, t.ask_size))
    return ValidTick(message, tick.topic, tick.partition, tick.offset)


FEED_FAULTS: dict[str, Callable[[ValidTick, int], ValidTick | None]] = {
    "quotes_frozen_5m": _frozen, "spread_x3": _wide, "prices_x100": _scaled}


def faulted_rows(day: SymbolDay, fault: str) -> list[FeatureRow]:
    """The rows the live feature step computes after noon when the feed has ``fault``."""
    register_config(FeatureConfig())  # the noon snapshot names its feature set by version
    features: SymbolFeatures = copy.deepcopy(day.features_at_noon)
    rows = []
    for tick in day.ticks_after_noon:
        changed = FEED_FAULTS[fault](tick, day.noon_ns)
        if changed is not None:
            rows += features.update(changed)
            features.drain_returns()
    return rows


# -- monitors under test ---------------------------------------------------------------------------

class RiverPerFeature:
    """A River detector with default settings per watched feature, on the raw values (the old monitor)."""

    def __init__(self, make: Callable[[], ADWIN | PageHinkley], name: str) -> None:
        self._make = make
        self._detectors: dict[str, ADWIN | PageHinkley] = {}
        self.name = name

    def update(self, row: FeatureRow) -> list[DriftEvent]:
        events = []
        for name, value in zip(row.names, row.values):
            if name in UNWATCHED or not math.isfinite(value):
                continue
            detector = self._detectors.get(name)
            if detector is None:
                detector = self._detectors[name] = self._make()
            detector.update(value)
            if detector.drift_detected:
                events.append(DriftEvent("", row.symbol, row.ts_ns, f"{group_of(name)}/{name}", self.name, 0.0,
                                         OPENED))
        return events


def feature_monitors(config: StandardisedDriftConfig) -> dict[str, Callable[[], object]]:
    return {"standardised": lambda: StandardisedDriftMonitor(config),
            "adwin_default": lambda: RiverPerFeature(ADWIN, "adwin"),
            "page_hinkley_default": lambda: RiverPerFeature(PageHinkley, "page_hinkley")}


def opened(events: list[DriftEvent]) -> list[DriftEvent]:
    return [event for event in events if event.kind == OPENED]


@dataclass
class Trial:
    """One planted change on one symbol-day: its rows after noon and what counts as pointing at it."""

    kind: str
    symbol: str
    day: str
    rows: list[FeatureRow]
    group: str | None  # the group an alarm must name; None: any feature group


def trials(day: SymbolDay, window_ns: int, features_per_group: int, variance_factor: float,
           rng: np.random.Generator, shifts: tuple[float, ...] = (1.0,)) -> Iterator[Trial]:
    names = day.rows[0].names
    by_group: dict[str, list[str]] = {}
    for name in names:
        if name not in UNWATCHED and any(math.isfinite(row.values[names.index(name)]) for row in day.rows[-10:]):
            by_group.setdefault(group_of(name), []).append(name)
    for group, members in sorted(by_group.items()):
        for feature in rng.choice(members, size=min(features_per_group, len(members)), replace=False):
            for shift in shifts:
                rows = shifted_rows(day, str(feature), window_ns, "shift", variance_factor, shift)
                yield Trial(f"feature_shift_{shift:g}sd", day.symbol, day.day, rows, group)
            rows = shifted_rows(day, str(feature), window_ns, "variance", variance_factor)
            yield Trial(f"feature_variance_x{variance_factor:g}", day.symbol, day.day, rows, group)
    quoted = any(isinstance(tick.tick, Quote) for tick in day.ticks_after_noon)
    for fault in FEED_FAULTS:
        if quoted or fault == "prices_x100":
            yield Trial(f"feed_{fault}", day.symbol, day.day, faulted_rows(day, fault), None)


@dataclass
class Score:
    """What one monitor did on one kind of planted change."""

    trials: int = 0
    detected: list[float] = field(default_factory=list)  # delays in minutes
    alarms: int = 0
    pointing: int = 0

    def row(self) -> dict[str, float | int | None]:
        return {"trials": self.trials, "recall": len(self.detected) / self.trials if self.trials else None,
                "precision": self.pointing / self.alarms if self.alarms else None,
                "median_delay_min": statistics.median(self.detected) if self.detected else None}


def run_trial(monitor_at_noon: object, trial: Trial, noon_ns: int, score: Score) -> None:
    monitor = copy.deepcopy(monitor_at_noon)
    first = None
    for row in trial.rows:
        for event in opened(monitor.update(row)):
            score.alarms += 1
            if trial.group is None or event.feature.split("/", 1)[0] == trial.group:
                score.pointing += 1
                first = first if first is not None else (event.ts_ns - noon_ns) / MINUTE_NS
    score.trials += 1
    if first is not None:
        score.detected.append(first)


def evaluate_features(days: list[SymbolDay], make: Callable[[], object], window_ns: int, features_per_group: int,
                      variance_factor: float, seed: int,
                      shifts: tuple[float, ...] = (1.0,)) -> tuple[dict[str, int], dict[str, Score], float]:
    """False alarms per symbol-day, a score per planted kind, and CPU µs per row of the clean days."""
    false_alarms: dict[str, int] = {}
    scores: dict[str, Score] = {}
    rng = np.random.default_rng(seed)
    cpu, rows = 0.0, 0
    for day in days:
        monitor = make()
        events: list[DriftEvent] = []
        started = time.process_time()
        for index, row in enumerate(day.rows):
            if index == day.noon_index:
                at_noon = copy.deepcopy(monitor)
            events += monitor.update(row)
        cpu += time.process_time() - started
        rows += len(day.rows)
        false_alarms[f"{day.symbol} {day.day}"] = len(opened(events))
        for trial in trials(day, window_ns, features_per_group, variance_factor, rng, shifts):
            run_trial(at_noon, trial, day.noon_ns, scores.setdefault(trial.kind, Score()))
    return false_alarms, scores, cpu / rows * 1e6


def natural_moves(days: list[SymbolDay], after_min: int = 10, before_min: int = 30) -> dict[str, float]:
    """How often watched features move by themselves as much as the planted shifts do.

    For each watched feature of each unmodified symbol-day, once a minute from 10:00: the
    distance between the mean of the next ``after_min`` minutes and that of the previous
    ``before_min`` minutes, in the feature's morning standard deviation (the unit of the planted
    shifts). A shift a detector must tell apart from these moves within 10 minutes.
    """
    medians, over_one = [], []
    for day in days:
        stamps = np.array([row.ts_ns for row in day.rows])
        values = np.array([row.values for row in day.rows], dtype=float)
        morning = (stamps >= day.noon_ns - 120 * MINUTE_NS) & (stamps < day.noon_ns)
        grid = np.arange(day.noon_ns - 120 * MINUTE_NS, stamps[-1] - after_min * MINUTE_NS, MINUTE_NS)
        for index, name in enumerate(day.rows[0].names):
            column = values[:, index]
            finite = np.isfinite(column)
            std = column[morning & finite].std() if (morning & finite).sum() > 100 else 0.0
            if name in UNWATCHED or not std > 0:
                continue
            stamp, value = stamps[finite], column[finite]
            sums = np.concatenate(([0.0], np.cumsum(value)))
            cut = np.searchsorted(stamp, grid)
            start = np.searchsorted(stamp, grid - before_min * MINUTE_NS)
            end = np.searchsorted(stamp, grid + after_min * MINUTE_NS)
            usable = (cut - start > 10) & (end - cut > 10)
            before = (sums[cut] - sums[start])[usable] / (cut - start)[usable]
            after = (sums[end] - sums[cut])[usable] / (end - cut)[usable]
            moves = np.abs(after - before) / std
            if moves.size:
                medians.append(float(np.median(moves)))
                over_one.append(float(np.mean(moves >= 1.0)))
    return {"feature_days": len(medians), "median_move_sd": float(np.median(medians)),
            "share_moving_1sd_daily": float(np.mean(np.array(over_one) * 390 >= 1.0)),
            "minutes_per_day_moving_1sd": float(np.median(over_one) * 390)}


# -- the model: a simulated predictor with skill, inverted at noon ---------------------------------

def labels(day: SymbolDay) -> list[bool | None]:
    """The realised direction of each row over the horizon (None when flat or past the close)."""
    stamps = np.array([row.ts_ns for row in day.rows])
    prices = np.array([row.price for row in day.rows])
    ahead = np.searchsorted(stamps, stamps + HORIZON_NS)
    return [None if j >= len(prices) or prices[j] == prices[i] else bool(prices[j] > prices[i])
            for i, j in enumerate(ahead)]


def predictions(day: SymbolDay, invert_from_ns: int | None, seed: int) -> list[Prediction]:
    """A calibrated noisy oracle: confidence c in [0.6, 0.9], right with probability c."""
    rng = np.random.default_rng(seed)
    out = []
    for row, label in zip(day.rows, labels(day)):
        c = rng.uniform(0.6, 0.9)
        right = rng.random() < c
        up = label if label is not None else bool(rng.random() < 0.5)
        p_up = c if up == right else 1.0 - c
        if invert_from_ns is not None and row.ts_ns >= invert_from_ns:
            p_up = 1.0 - p_up
        out.append(Prediction(f"{row.symbol}-{row.ts_ns}", row.symbol, row.ts_ns, 0, row.offset, row.price, "sim",
                              p_up, 1 if p_up > 0.5 else -1, max(p_up, 1 - p_up), 0.0, "calm", 0.0, {}))
    return out


class RiverOnErrors:
    """A River detector with default settings on the 0/1 error stream of the outcomes (the old ``model_decay``)."""

    def __init__(self, make: Callable[[], ADWIN | PageHinkley]) -> None:
        self._detector = make()

    def update(self, errors: list[tuple[int, bool]]) -> list[int]:
        fired = []
        for ts_ns, correct in errors:
            self._detector.update(0.0 if correct else 1.0)
            if self._detector.drift_detected:
                fired.append(ts_ns)
        return fired


def model_alarms(day: SymbolDay, invert_from_ns: int | None, seed: int) -> dict[str, list[int]]:
    """Event times of the model alarms of each monitor over the session."""
    tracker = OutcomeTracker(OutcomeConfig(horizon_ns=HORIZON_NS))
    river = {"adwin_default": RiverOnErrors(ADWIN), "page_hinkley_default": RiverOnErrors(PageHinkley)}
    fired: dict[str, list[int]] = {"outcome_tracker": [], **{name: [] for name in river}}
    for row, prediction in zip(day.rows, predictions(day, invert_from_ns, seed)):
        outcomes, events = tracker.on_row(row)
        more, more_events = tracker.on_prediction(prediction)
        outcomes, events = outcomes + more, events + more_events
        fired["outcome_tracker"] += [event.ts_ns for event in events if event.kind in MODEL_KINDS]
        for name, detector in river.items():
            fired[name] += detector.update([(outcome.resolved_ts_ns, outcome.correct) for outcome in outcomes])
    return fired


def evaluate_model(days: list[SymbolDay], window_ns: int, seed: int) -> tuple[dict[str, int], dict[str, Score]]:
    false_alarms: dict[str, int] = {}
    scores: dict[str, Score] = {}
    for number, day in enumerate(days):
        for name, stamps in model_alarms(day, None, seed + number).items():
            false_alarms[name] = false_alarms.get(name, 0) + len(stamps)
        for name, stamps in model_alarms(day, day.noon_ns, seed + number).items():
            score = scores.setdefault(name, Score())
            score.trials += 1
            after = [ts for ts in stamps if day.noon_ns <= ts < day.noon_ns + window_ns]
            score.alarms += len(after) + sum(1 for ts in stamps if ts < day.noon_ns)  # the morning's are false
            score.pointing += len(after)
            if after:
                score.detected.append((after[0] - day.noon_ns) / MINUTE_NS)
    return false_alarms, scores


# -- the table -------------------------------------------------------------------------------------

def _cell(value: float | int | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(results: dict[str, dict[str, object]], days: int) -> None:
    print(f"\n{'monitor':<22}{'planted change':<26}{'trials':>7}{'recall':>8}{'precision':>10}{'median min':>11}")
    for monitor, result in results.items():
        for kind, row in result["planted"].items():  # type: ignore[union-attr]
            print(f"{monitor:<22}{kind:<26}{row['trials']:>7}{_cell(row['recall'], '.0%'):>8}"
                  f"{_cell(row['precision'], '.0%'):>10}{_cell(row['median_delay_min'], '.1f'):>11}")
    print(f"\n{'monitor':<22}{'false alarms / symbol-day':>26}{'max':>6}{'us/row':>9}")
    for monitor, result in results.items():
        counts = list(result["false_alarms"].values())  # type: ignore[union-attr]
        if counts:
            print(f"{monitor:<22}{sum(counts) / days:>26.2f}{max(counts):>6}"
                  f"{_cell(result.get('us_per_row'), '.1f'):>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", default=",".join(DAYS))
    parser.add_argument("--symbols", default=",".join(SYMBOLS))
    parser.add_argument("--window", type=int, default=30, help="minutes after noon a planted change is watched")
    parser.add_argument("--features-per-group", type=int, default=2)
    parser.add_argument("--variance-factor", type=float, default=2.0, help="variance multiplier of the spread trial")
    parser.add_argument("--shifts", default="1,3", help="planted level shifts, in morning standard deviations")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a StandardisedDriftConfig setting, e.g. --set open_level=6")
    parser.add_argument("--skip-river", action="store_true", help="leave the River baselines out (faster)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/drift_eval.json"))
    args = parser.parse_args()
    window_ns = args.window * MINUTE_NS
    shifts = tuple(float(shift) for shift in args.shifts.split(","))
    days_arg, symbols = tuple(args.days.split(",")), tuple(args.symbols.split(","))
    started = time.perf_counter()
    ticks = read_days(days_arg, symbols)
    days = [load_symbol_day(ticks, symbol, day, window_ns) for day in days_arg for symbol in symbols]
    print(f"{len(days)} symbol-days, {sum(len(day.rows) for day in days):,} regular-session rows, "
          f"features computed in {time.perf_counter() - started:.0f} s")
    config = StandardisedDriftConfig(**{name: float(value) for name, value in
                                        (setting.split("=", 1) for setting in args.set)})
    monitors = feature_monitors(config)
    if args.skip_river:
        monitors = {"standardised": monitors["standardised"]}
    results: dict[str, dict[str, object]] = {}
    for name, make in monitors.items():
        false_alarms, scores, us_per_row = evaluate_features(days, make, window_ns, args.features_per_group,
                                                             args.variance_factor, args.seed, shifts)
        results[name] = {"false_alarms": false_alarms, "us_per_row": us_per_row,
                         "planted": {kind: score.row() for kind, score in scores.items()}}
    model_false, model_scores = evaluate_model(days, window_ns, args.seed)
    for name, score in model_scores.items():
        entry = results.setdefault(name, {"false_alarms": {}, "planted": {}})
        entry["planted"]["model_inverted"] = score.row()  # type: ignore[index]
        entry.setdefault("model_false_alarms_per_day", model_false[name] / len(days))
    print_table(results, len(days))
    moves = natural_moves(days)
    print(f"\nnatural moves of the watched features ({moves['feature_days']} feature-days): the mean of the next 10 "
          f"minutes differs from that of the previous 30 by a median {moves['median_move_sd']:.2f} morning sd; "
          f"{moves['share_moving_1sd_daily']:.0%} of feature-days move by >= 1 sd on their own at least once a day "
          f"(median {moves['minutes_per_day_moving_1sd']:.0f} minutes a day)")
    print("\nmodel alarms on unmodified days (simulated calibrated predictor), per symbol-day: " + ", ".join(
        f"{name} {count / len(days):.2f}" for name, count in model_false.items()))
    print(f"total {time.perf_counter() - started:.0f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": {"cpu": cpu_model()}, "days": list(days_arg), "symbols": list(symbols),
                                    "window_min": args.window, "standardised_config": repr(config),
                                    "natural_moves": moves, "results": results}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
