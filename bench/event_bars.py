"""Do event features add skill to the bar models? The same tasks, folds and held-out rows, with and without.

    .venv/bin/python -m bench.event_bars            # AAPL and SPY, 1999-01-01 .. 2019-06-19 (about 30 s)
    .venv/bin/python -m bench.event_bars --small    # 2015 on, 2 folds, 50 bootstrap samples

Steps, all seeded and deterministic (closed-form ridge, lbfgs logistic, fixed bootstrap seed):

1. the session feature frames of AAPL and SPY from the hourly and the daily bars
   (:func:`models.bars.history.feature_frame`, the live bar operator driven bar by bar);
2. the event features of each row as known at its close (:func:`dataflows.point_in_time.event_features_at`
   over the Fed calendar, Apple's earnings releases and the Estimize estimates), then
   :func:`check_point_in_time` recomputes the rows on either side of every high-importance report
   from the events public by then only and refuses any difference;
3. ``EVENT_INPUTS``, finite model inputs derived from them (below);
4. per task (:class:`~models.bars.volatility.VolatilityTask`, :class:`~models.bars.trend.TrendTask` over 1
   and 5 sessions), the task's candidate selected by walk-forward inside the development years
   (:func:`models.bars.train.select`) without the events, then fitted without and with ``EVENT_INPUTS``,
   so the inputs are the only difference (``--separate-selection``: the model with events selects its own
   candidate too, as a shipped model would), each scored on every walk-forward fold and once on the
   held-out rows, beside the task's baselines.

The table gives, per task, symbol and metric, the held-out value without and with the events, the best
baseline, the held-out difference with its 95% interval from a paired bootstrap over calendar months
(:func:`models.skill.skill_row`, the without-events model as the reference), and the folds where the
events did better (of those where the two differ) with the two-sided sign-test p-value. A difference is
**beyond noise** only when the held-out interval excludes zero *and* the folds agree (p < 0.05) on the
same side.

**Event inputs** (every one finite; NaN, no event known, becomes 0). The features are queried 1 ns
before each session's close, never later: ``EventFeatures`` drops an event from the upcoming ones at its
scheduled time, before its report is public, so Apple's 16:00 report would otherwise vanish from the
16:00 row that precedes the reaction session.

- ``own_event_next`` / ``market_event_next``: a high-importance event of the symbol (earnings) / of the
  US market (FOMC minutes and projections, some speeches) is scheduled from this close up to before the
  next session's close (the exchange calendar: the next row's close, known in advance);
- ``own_event_last`` / ``market_event_last``: a reported one was scheduled from the previous close on;
- ``earnings_surprise`` (clipped to +-0.5) and ``estimate_dispersion`` (clipped to 0..1): the last known
  values. ``us_last_surprise_z`` is left out: the calendar's only reports with both an actual and a forecast
  are the rate decisions, whose actual always equals the forecast, so it is 0 or NaN on every row.

Coverage limits the test: Apple's releases have real times from July 2008 on (earlier rows are the
vendor's month stubs, refused by the reader), estimates start in 2010 and the Fed calendar covers
2013-05-01 .. 2019-06-19; before that every event input is 0. ``--since`` moves the first row.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from dataflows.eventfiles import read_event_file
from dataflows.point_in_time import event_features_at
from models import skill
from models.bars.history import feature_frame
from models.bars.linear import LinearModel, fit_logistic
from models.bars.splits import held_out_mask, month_blocks, year_folds
from models.bars.tasks import BarTask, Scored
from models.bars.train import development_rows, parse_day, select
from models.bars.trend import TrendTask
from models.bars.volatility import VOLATILITY_FEATURES, LogVarianceModel, VolatilityTask, fit_log_variance
from operators.events import EventMessage
from operators.features.long_horizon import DAY_FEATURES

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BARS = SHARED / "market" / "bars"
HOURLY = BARS / "bars_hourly_us_equities_1998_2021.csv.gz"
DAILY = BARS / "bars_daily_us_equities_1998_2021.csv.gz"
ALT = SHARED / "alt" / "lean"
EVENT_FILES = (ALT / "trading-economics" / "fdtr_calendar.zip", ALT / "estimize" / "release" / "aapl.zip",
               ALT / "estimize" / "estimate" / "aapl.zip")
SYMBOLS = ("AAPL", "SPY")
MARKET = "US"
EVENT_INPUTS = ("own_event_next", "market_event_next", "own_event_last", "market_event_last",
                "earnings_surprise", "estimate_dispersion")
HIGH_IMPORTANCE = 3
DAY_NS = 86_400 * 10**9
ALL = "ALL"
SIGN_TEST_LEVEL = 0.05


@dataclass(frozen=True)
class Setting:
    """One evaluation: which rows, which folds, how many bootstrap samples."""

    since: str
    until: str
    held_out_from: str
    first_test_year: int
    samples: int
    separate_selection: bool = False


FULL = Setting("1999-01-01", "2019-06-19", "2018-01-01", 2008, skill.BOOTSTRAP_SAMPLES)
SMALL = Setting("2015-01-01", "2019-06-19", "2018-01-01", 2016, 50)


def read_events(paths: tuple[Path, ...] = EVENT_FILES) -> list[EventMessage]:
    """Every event of ``paths``, in publication order (bad rows are the readers' to count and skip)."""
    events = [event for path in paths for event in read_event_file(path).events]
    return sorted(events, key=lambda event: (event.public_ts_ns, event.event_id))


def event_columns(frame: pd.DataFrame, events: list[EventMessage]) -> pd.DataFrame:
    """The raw event features (``EVENT_FEATURES`` and ``us_<feature>``) of each row, as of 1 ns before its
    ``end_ns``; rows in ``frame``'s order."""
    keys = pd.DataFrame({"symbol": frame["symbol"].to_numpy(), "ts": frame["end_ns"].to_numpy(np.int64) - 1})
    return event_features_at(events, keys, markets=(MARKET,)).drop(columns=["symbol", "ts"])


def check_point_in_time(frame: pd.DataFrame, raw: pd.DataFrame, events: list[EventMessage]) -> int:
    """Recompute the rows on either side of every high-importance report's public time from the events
    public by each row's query time only; raise ``AssertionError`` on any difference. Returns the rows checked.

    A leak shows exactly there: the last row before a report must not know it, the first row after must."""
    query = frame["end_ns"].to_numpy(np.int64) - 1
    symbols = frame["symbol"].to_numpy()
    reports = [event for event in events
               if event.importance >= HIGH_IMPORTANCE and event.public_ts_ns >= event.scheduled_ts_ns]
    checked: set[int] = set()
    for event in reports:
        for symbol in SYMBOLS:
            rows = np.flatnonzero(symbols == symbol)
            position = np.searchsorted(query[rows], event.public_ts_ns)
            checked.update(int(rows[p]) for p in (position - 1, position) if 0 <= p < len(rows))
    for row in sorted(checked):
        known = [event for event in events if event.public_ts_ns <= query[row]]
        keys = pd.DataFrame({"symbol": [symbols[row]], "ts": [query[row]]})
        expected = event_features_at(known, keys, markets=(MARKET,)).drop(columns=["symbol", "ts"]).iloc[0]
        got = raw.iloc[row]
        same = np.isclose(got.to_numpy(np.float64), expected.to_numpy(np.float64), rtol=0.0, atol=1e-9, equal_nan=True)
        if not same.all():
            names = list(raw.columns[~same])
            raise AssertionError(f"row {row} ({symbols[row]}, end_ns {query[row] + 1}) knows more than the events "
                                 f"public by then: {names}")
    return len(checked)


def event_inputs(frame: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """``EVENT_INPUTS`` of each row (module docstring); ``frame`` sorted by symbol then day."""
    end = frame["end_ns"].to_numpy(np.int64)
    by_symbol = frame.groupby("symbol", sort=False)["end_ns"]
    to_next_close = (by_symbol.shift(-1).to_numpy(np.float64) - end) / 1e9
    since_last_close = (end - by_symbol.shift(1).to_numpy(np.float64)) / 1e9
    to_next_close = np.where(np.isfinite(to_next_close), to_next_close, DAY_NS / 1e9)
    since_last_close = np.where(np.isfinite(since_last_close), since_last_close, DAY_NS / 1e9)

    def within(seconds: pd.Series, window: np.ndarray) -> np.ndarray:
        value = seconds.to_numpy(np.float64)
        return (np.nan_to_num(value, nan=np.inf) < window).astype(np.float64)

    def last(series: pd.Series, low: float, high: float) -> np.ndarray:
        return np.clip(np.nan_to_num(series.to_numpy(np.float64), nan=0.0), low, high)

    return pd.DataFrame({
        "own_event_next": within(raw["seconds_to_next_high_importance"], to_next_close),
        "market_event_next": within(raw["us_seconds_to_next_high_importance"], to_next_close),
        "own_event_last": within(raw["seconds_since_last_high_importance"], since_last_close),
        "market_event_last": within(raw["us_seconds_since_last_high_importance"], since_last_close),
        "earnings_surprise": last(raw["earnings_surprise"], -0.5, 0.5),
        "estimate_dispersion": last(raw["estimate_dispersion"], 0.0, 1.0),
    })


class EventVolatilityTask(VolatilityTask):
    """The volatility task, its model given ``EVENT_INPUTS`` as well (same rows, candidates and baseline)."""

    name: ClassVar[str] = "volatility+events"

    def fit(self, train: pd.DataFrame, candidate: dict[str, Any]) -> LogVarianceModel:
        return fit_log_variance(train, (*VOLATILITY_FEATURES, *EVENT_INPUTS), candidate["alpha"], candidate["pooled"])


class EventTrendTask(TrendTask):
    """The trend task, its model given ``EVENT_INPUTS`` as well (same rows, candidates and baselines)."""

    def __init__(self, horizon: int) -> None:
        super().__init__(horizon)
        self.name = f"trend_{horizon}d+events"

    def fit(self, train: pd.DataFrame, candidate: dict[str, Any]) -> LinearModel:
        features = (*DAY_FEATURES, *EVENT_INPUTS)
        return fit_logistic(features, train[list(features)].to_numpy(np.float64),
                            train["target"].to_numpy(np.int64), candidate["C"])


def task_pairs() -> list[tuple[BarTask, BarTask]]:
    return [(VolatilityTask(), EventVolatilityTask()), (TrendTask(1), EventTrendTask(1)),
            (TrendTask(5), EventTrendTask(5))]


@dataclass(frozen=True)
class Comparison:
    """One line of the table: a task's metric on one symbol (or ``ALL``), without and with the events."""

    task: str
    symbol: str
    metric: str
    lower_is_better: bool
    without: float
    with_events: float
    baseline: str
    baseline_value: float
    difference: skill.Interval  # with minus without, held out, paired month-block bootstrap
    folds_better: int
    folds: int
    sign_p: float

    @property
    def beyond_noise(self) -> bool:
        """The held-out interval excludes zero and the folds agree, both on the same side."""
        low, high = self.difference.low, self.difference.high
        held_out_better = high < 0.0 if self.lower_is_better else low > 0.0
        held_out_worse = low > 0.0 if self.lower_is_better else high < 0.0
        if self.sign_p >= SIGN_TEST_LEVEL:
            return False
        folds_better = self.folds_better * 2 > self.folds
        return (held_out_better and folds_better) or (held_out_worse and not folds_better)


def sign_test(successes: int, trials: int) -> float:
    """Two-sided exact binomial p-value of ``successes`` out of ``trials`` at one half (1.0 for no trial)."""
    if trials == 0:
        return 1.0
    tail = min(successes, trials - successes)
    p = sum(math.comb(trials, k) for k in range(tail + 1)) / 2.0**trials
    return min(1.0, 2.0 * p)


def _symbol_rows(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    symbols = frame["symbol"].to_numpy()
    return {**{s: symbols == s for s in sorted(set(symbols.tolist()))}, ALL: np.ones(len(frame), dtype=bool)}


def compare(plain: BarTask, with_events: BarTask, rows: pd.DataFrame,
            setting: Setting) -> tuple[list[Comparison], list[dict[str, Any]]]:
    """Select, fold-score and held-out-score ``plain`` and ``with_events`` on the same rows (see the module);
    also the candidate each one selected."""
    start = parse_day(setting.held_out_from)
    development = development_rows(rows, start)
    held_out = rows[held_out_mask(rows, start)].reset_index(drop=True)
    chosen = [select(plain, development, setting.first_test_year)[0]]
    chosen.append(select(with_events, development, setting.first_test_year)[0] if setting.separate_selection
                  else chosen[0])
    folds = year_folds(development, np.ones(len(development), dtype=bool), setting.first_test_year)
    pair = (plain, with_events)
    fold_wins: dict[tuple[str, str], list[bool]] = {}
    for fold in folds:
        train, test = development.iloc[fold.train], development.iloc[fold.test]
        scored = [task.score(task.fit(train, candidate), train, test) for task, candidate in zip(pair, chosen)]
        for metric in plain.metrics:
            function, lower = skill.METRICS[metric]
            for symbol, mask in _symbol_rows(test).items():
                a, b = (function(s[metric].actual[mask], s[metric].model[mask]) for s in scored)
                if np.isfinite(a) and np.isfinite(b) and a != b:
                    fold_wins.setdefault((metric, symbol), []).append(b < a if lower else b > a)
    held = [task.score(task.fit(development, candidate), development, held_out)
            for task, candidate in zip(pair, chosen)]
    blocks = month_blocks(held_out)
    out = []
    for metric in plain.metrics:
        without, evented = held[0][metric], held[1][metric]
        for symbol, mask in _symbol_rows(held_out).items():
            row = skill.skill_row(with_events.name, symbol, metric, evented.actual[mask], evented.model[mask],
                                  {"without": without.model[mask]}, blocks[mask], samples=setting.samples)
            best = _best_baseline(metric, without, mask)
            wins = fold_wins.get((metric, symbol), [])
            out.append(Comparison(plain.name, symbol, metric, row.lower_is_better, row.baselines["without"],
                                  row.value.value, best[0], best[1], row.difference, sum(wins), len(wins),
                                  sign_test(sum(wins), len(wins))))
    return out, chosen


def _best_baseline(metric: str, scored: Scored, mask: np.ndarray) -> tuple[str, float]:
    function, lower = skill.METRICS[metric]
    values = {name: function(scored.actual[mask], value[mask]) for name, value in scored.baselines.items()}
    name = (min if lower else max)(values, key=values.get)
    return name, values[name]


def frames(setting: Setting, events: list[EventMessage], hourly: Path,
           daily: Path) -> tuple[dict[str, pd.DataFrame], int]:
    """The hour and day session frames of ``SYMBOLS`` with ``EVENT_INPUTS``, cut to ``since``..``until``,
    and how many rows the point-in-time check recomputed."""
    since, until = parse_day(setting.since), parse_day(setting.until)
    out, checked = {}, 0
    for source, path in (("hour", hourly), ("day", daily)):
        frame = feature_frame(path, source, symbols=frozenset(SYMBOLS))
        frame = frame[(frame["day"] >= since) & (frame["day"] <= until)].reset_index(drop=True)
        raw = event_columns(frame, events)
        checked += check_point_in_time(frame, raw, events)
        out[source] = pd.concat([frame, event_inputs(frame, raw)], axis=1)
    return out, checked


def evaluate(setting: Setting, events: list[EventMessage], hourly: Path = HOURLY,
             daily: Path = DAILY) -> tuple[list[Comparison], dict[str, Any]]:
    """Every task pair's comparisons, and facts for the report: the rows checked point in time, and per
    task its rows, the candidates selected and how many rows have each input nonzero."""
    built, checked = frames(setting, events, hourly, daily)
    comparisons, facts = [], {"checked_rows": checked}
    for plain, with_events in task_pairs():
        rows = plain.rows(built[plain.source])
        lines, chosen = compare(plain, with_events, rows, setting)
        comparisons += lines
        facts[plain.name] = {"rows": len(rows), "selected": chosen,
                             "event_rows": {name: int(rows[name].ne(0).sum()) for name in EVENT_INPUTS}}
    return comparisons, facts


def table(comparisons: list[Comparison]) -> str:
    """The comparisons as a markdown table."""
    lines = ["| task | symbol | metric | without events | with events | best baseline | with - without [95% CI] "
             "| folds better | sign p | beyond noise |", "|---|---|---|---|---|---|---|---|---|---|"]
    for c in comparisons:
        lines.append(f"| {c.task} | {c.symbol} | {c.metric} ({'lower' if c.lower_is_better else 'higher'} better) "
                     f"| {c.without:.4f} | {c.with_events:.4f} | {c.baseline} {c.baseline_value:.4f} | "
                     f"{c.difference.value:+.4f} [{c.difference.low:+.4f}, {c.difference.high:+.4f}] | "
                     f"{c.folds_better}/{c.folds} | {c.sign_p:.3f} | {'**yes**' if c.beyond_noise else 'no'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:5]))
    parser.add_argument("--small", action="store_true", help=f"fast: rows from {SMALL.since}, folds from "
                        f"{SMALL.first_test_year}, {SMALL.samples} bootstrap samples")
    parser.add_argument("--since", help=f"first row's day (default {FULL.since})")
    parser.add_argument("--held-out-from", help=f"first held-out day (default {FULL.held_out_from})")
    parser.add_argument("--separate-selection", action="store_true",
                        help="let the model with events choose its own candidate by walk-forward (default: the "
                        "candidate chosen without events, so the inputs are the only difference)")
    parser.add_argument("--hourly", type=Path, default=HOURLY, help="hourly bar file (default: the shared one)")
    parser.add_argument("--daily", type=Path, default=DAILY, help="daily bar file (default: the shared one)")
    args = parser.parse_args(argv)
    base = SMALL if args.small else FULL
    setting = Setting(args.since or base.since, base.until, args.held_out_from or base.held_out_from,
                      base.first_test_year, base.samples, args.separate_selection)
    for path in (args.hourly, args.daily, *EVENT_FILES):
        if not path.is_file():
            print(f"input file {path} does not exist", file=sys.stderr)
            return 2
    started = time.perf_counter()
    try:
        comparisons, facts = evaluate(setting, read_events(), args.hourly, args.daily)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"rows {setting.since} .. {setting.until}, held out from {setting.held_out_from}, folds from "
          f"{setting.first_test_year}, {setting.samples} bootstrap samples; symbols {', '.join(SYMBOLS)}")
    print(f"point-in-time check: {facts.pop('checked_rows')} rows around the high-importance reports recomputed "
          "from the events public by then: identical")
    for name, fact in facts.items():
        print(f"{name}: {fact['rows']:,} rows; selected {fact['selected'][0]} without, {fact['selected'][1]} with "
              "events; rows with a nonzero input: " + ", ".join(f"{k} {v:,}" for k, v in fact["event_rows"].items()))
    print(table(comparisons))
    beyond = [c for c in comparisons if c.beyond_noise]
    print(f"beyond noise: {len(beyond)} of {len(comparisons)} lines"
          + "".join(f"; {c.task} {c.symbol} {c.metric} {c.difference.value:+.4f}" for c in beyond))
    print(f"wall time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
