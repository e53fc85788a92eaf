"""Labels from later sessions, and the walk-forward / held-out split of the bar history.

Every row is a symbol's completed session ``day`` (a date ordinal). A label reads a value of
the row ``steps`` sessions later of the same symbol, and remembers that row's day as
``label_day``: the last day of data the label depends on. Nothing else in a row looks ahead.

The split is by dates, with an embargo of ``embargo_days`` calendar days:

* **held out**: rows whose own day is on or after ``held_out_from``; scored once, at the end;
* **development**: rows whose *label* ends before ``held_out_from - embargo_days``; only these
  are ever fitted on or used to choose anything;
* **walk-forward fold for year Y** (inside development): test on the development rows of year
  Y, train on the rows whose label ends before 1 January of Y minus the embargo.

The embargo (14 days by default) exceeds every label horizon used here (at most 5 sessions,
7 calendar days with a holiday weekend), so no training label overlaps a test period.

>>> import datetime as dt
>>> frame = pd.DataFrame({"symbol": "X", "day": [dt.date(2018, 12, d).toordinal() for d in (26, 27, 28, 31)]})
>>> frame["label_day"] = label_days(frame, 1)
>>> development_mask(frame, dt.date(2019, 1, 1).toordinal(), embargo_days=3).tolist()
[True, True, False, False]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

EMBARGO_DAYS = 14


def future(frame: pd.DataFrame, column: str, steps: int) -> np.ndarray:
    """``column`` of the row ``steps`` sessions later of the same symbol (NaN past the end).
    ``frame`` is sorted by symbol then day."""
    return frame.groupby("symbol", sort=False)[column].shift(-steps).to_numpy(np.float64)


def label_days(frame: pd.DataFrame, steps: int) -> np.ndarray:
    """The day of the row ``steps`` sessions later (a large sentinel past the end of the data, so
    such rows are never development rows)."""
    later = frame.groupby("symbol", sort=False)["day"].shift(-steps)
    return later.fillna(np.iinfo(np.int64).max // 2).to_numpy(np.int64)


def development_mask(frame: pd.DataFrame, held_out_from: int, embargo_days: int = EMBARGO_DAYS) -> np.ndarray:
    """Rows that may be fitted on or used for selection: their label ends before the embargo."""
    return frame["label_day"].to_numpy(np.int64) < held_out_from - embargo_days


def held_out_mask(frame: pd.DataFrame, held_out_from: int) -> np.ndarray:
    return frame["day"].to_numpy(np.int64) >= held_out_from


@dataclass(frozen=True)
class YearFold:
    year: int
    train: np.ndarray  # row indices
    test: np.ndarray


def year_folds(frame: pd.DataFrame, development: np.ndarray, first_test_year: int,
               embargo_days: int = EMBARGO_DAYS) -> list[YearFold]:
    """Expanding walk-forward folds, one per development year from ``first_test_year`` on."""
    days = frame["day"].to_numpy(np.int64)
    labels = frame["label_day"].to_numpy(np.int64)
    years = np.array([dt.date.fromordinal(int(d)).year for d in days]) if len(days) else np.array([], np.int64)
    folds = []
    for year in range(first_test_year, int(years[development].max()) + 1):
        start = dt.date(year, 1, 1).toordinal()
        train = np.flatnonzero(development & (labels < start - embargo_days))
        test = np.flatnonzero(development & (years == year))
        if len(train) and len(test):
            folds.append(YearFold(year, train, test))
    if not folds:
        raise ValueError(f"no walk-forward fold: the development rows have no year from {first_test_year} on "
                         "with earlier rows to train on")
    return folds


def month_blocks(frame: pd.DataFrame) -> np.ndarray:
    """Calendar month (year * 12 + month) of each row: the bootstrap's blocks."""
    dates = [dt.date.fromordinal(int(d)) for d in frame["day"].to_numpy(np.int64)]
    return np.array([d.year * 12 + d.month for d in dates], dtype=np.int64)
