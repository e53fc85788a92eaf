"""tickwise's history as pandas DataFrames, for notebooks and research scripts.

Every frame is indexed by event time: a tz-aware UTC ``DatetimeIndex`` named ``ts`` (from the
rows' ``ts_ns``), sorted, ties in symbol order. ``History`` reads the ClickHouse tables a run wrote
(``docs/tables.md`` describes each column), with ``FINAL`` so rows written twice by a recovery count
once; ``load_backtest`` reads the files ``tickwise backtest --out DIR`` wrote::

    from dataflows.frames import History, load_backtest

    with History.open(".tickwise") as history:               # the state dir `tickwise demo` used
        features = history.features("IBM", start="2013-10-09 13:30")
        signals = history.signals()
    backtest = load_backtest("backtest-out")                  # backtest.equity["net"].plot()

``History.open`` finds the ClickHouse the CLI would use for that state dir: the embedded stack's
when ``tickwise stack up`` runs there, else the chDB directory ``<state dir>/chdb`` (chDB holds one
directory per process, so open one ``History`` at a time); ``url`` names any other, such as a
server's ``http://user:password@host:8123/tickwise``. Times (``start``, ``end``) are anything
``pandas.Timestamp`` reads, UTC when they name no zone; ``end`` is excluded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import orjson
import pandas as pd

from dataflows.stack import read_stack
from sinks.clickhouse import TABLE_DECLARATIONS, ClickHouseSettings, ClickHouseWriter

__all__ = ["BacktestFrames", "History", "load_backtest", "spread_features", "utc_index"]

MINUTE_NS = 60 * 1_000_000_000  # the backtest's equity sampling period (dataflows.backtest)
#: Columns the frames leave out: the uint64 row hash (a row's identity inside ClickHouse) and the
#: arrays ``features`` spreads into one column per feature.
_HIDDEN = frozenset({"id"})
_FEATURE_ARRAYS = ("names", "values", "quality")


def utc_index(frame: pd.DataFrame, column: str = "ts_ns") -> pd.DataFrame:
    """``frame`` indexed by ``column`` (epoch nanoseconds) as a UTC ``DatetimeIndex`` named ``ts``, sorted
    (ties in symbol order).

    >>> utc_index(pd.DataFrame({"ts_ns": [1_381_325_400_000_000_000], "p": [1.0]})).index[0]
    Timestamp('2013-10-09 13:30:00+0000', tz='UTC')
    """
    index = pd.DatetimeIndex(pd.to_datetime(frame[column].astype("Int64"), unit="ns", utc=True), name="ts")
    indexed = frame.drop(columns=[column]).set_index(index)
    return indexed.sort_values(["ts", "symbol"] if "symbol" in indexed.columns else ["ts"], kind="stable")


def _epoch_ns(moment: object) -> int:
    stamp = pd.Timestamp(moment)
    return int((stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).value)


def spread_features(frame: pd.DataFrame) -> pd.DataFrame:
    """The ``names``/``values`` arrays of feature rows as one float column per feature (``quality`` dropped);
    rows of different feature sets leave NaN in the columns they do not have.

    >>> rows = pd.DataFrame({"symbol": ["IBM", "AIG"], "names": [["a", "b"], ["a"]], "values": [[1.0, 2.0], [3.0]],
    ...                      "quality": [[0, 0], [0]]}, index=pd.DatetimeIndex(["2013-10-09"] * 2, name="ts"))
    >>> spread_features(rows).to_dict("list")
    {'symbol': ['IBM', 'AIG'], 'a': [1.0, 3.0], 'b': [2.0, nan]}
    """
    base = frame.drop(columns=[c for c in _FEATURE_ARRAYS if c in frame.columns])
    positions: dict[tuple[str, ...], list[int]] = {}
    for position, names in enumerate(frame["names"]):
        positions.setdefault(tuple(names), []).append(position)
    values = frame["values"].to_numpy()
    parts = [pd.DataFrame(np.array([values[i] for i in rows], dtype=float).reshape(len(rows), len(layout)),
                          index=rows, columns=list(layout)) for layout, rows in positions.items()]
    if not parts:
        return base
    spread = pd.concat(parts).sort_index().set_index(frame.index)
    return pd.concat([base, spread], axis=1)


class History:
    """The ClickHouse tables of a tickwise run as DataFrames (one client, closed by ``close``)."""

    def __init__(self, url: str) -> None:
        self._writer = ClickHouseWriter(ClickHouseSettings(url=url))
        self._client = self._writer.connect()

    @classmethod
    def open(cls, state_dir: str | Path = ".tickwise", url: str | None = None) -> History:
        """The history of ``state_dir`` (see the module docstring), or of the ClickHouse at ``url``."""
        if url is not None:
            return cls(url)
        stack = read_stack(Path(state_dir))
        if stack is not None:
            return cls(stack.clickhouse_url)
        chdb = (Path(state_dir) / "chdb").resolve()
        if not chdb.is_dir():
            raise FileNotFoundError(f"no tickwise history in {state_dir}: neither a running stack nor {chdb}; run "
                                    f"`tickwise demo` or pass the state dir a run used, or url=")
        return cls(f"chdb://{chdb}")

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> pd.DataFrame:
        """Any SELECT as a DataFrame, unindexed (``%(name)s`` placeholders take ``parameters``)."""
        return self._client.query_df(sql, parameters=parameters or {})

    def table(self, name: str, symbols: str | Iterable[str] | None = None, start: object = None,
              end: object = None) -> pd.DataFrame:
        """Rows of table ``name`` (deduplicated) for ``symbols`` in ``[start, end)``, indexed by event time."""
        declaration = TABLE_DECLARATIONS.get(name)
        if declaration is None:
            raise ValueError(f"expected one of the tables {', '.join(TABLE_DECLARATIONS)}, got {name!r}")
        columns = [column for column in declaration.column_names if column not in _HIDDEN]
        where, parameters = ["1"], {}
        if symbols is not None:
            where.append("symbol IN %(symbols)s")
            parameters["symbols"] = [symbols] if isinstance(symbols, str) else list(symbols)
        if start is not None:
            where.append("ts_ns >= %(start)s")
            parameters["start"] = _epoch_ns(start)
        if end is not None:
            where.append("ts_ns < %(end)s")
            parameters["end"] = _epoch_ns(end)
        sql = (f"SELECT {', '.join(f'`{column}`' for column in columns)} FROM {name} FINAL "
               f"WHERE {' AND '.join(where)}")
        frame = self.query(sql, parameters)
        return utc_index(frame if len(frame.columns) else pd.DataFrame({column: [] for column in columns}))

    def ticks(self, symbols: str | Iterable[str] | None = None, start: object = None, end: object = None
              ) -> pd.DataFrame:
        """Admitted trades and quotes (``type``; a trade's quote columns and a quote's trade columns are null)."""
        return self.table("ticks", symbols, start, end)

    def features(self, symbols: str | Iterable[str] | None = None, start: object = None, end: object = None
                 ) -> pd.DataFrame:
        """Feature rows with one float column per feature (NaN while a feature warms up)."""
        return spread_features(self.table("features", symbols, start, end))

    def predictions(self, symbols: str | Iterable[str] | None = None, start: object = None, end: object = None
                    ) -> pd.DataFrame:
        """The model's predictions: ``p_up``, ``direction``, ``confidence``, ``specialists`` (a dict per row)."""
        return self.table("predictions", symbols, start, end)

    def decisions(self, symbols: str | Iterable[str] | None = None, start: object = None, end: object = None
                  ) -> pd.DataFrame:
        """Every risk decision, accepted or denied with its ``reason``, ``level`` and ``detail``."""
        return self.table("risk_decisions", symbols, start, end)

    def signals(self, symbols: str | Iterable[str] | None = None, start: object = None, end: object = None
                ) -> pd.DataFrame:
        """The accepted decisions: what the flow published on the ``signals`` topic."""
        return self.table("signals", symbols, start, end)

    def pnl(self, symbols: str | Iterable[str] | None = None, start: object = None, end: object = None
            ) -> pd.DataFrame:
        """The live paper book per symbol and model: fills and periodic marks."""
        return self.table("pnl", symbols, start, end)


@dataclass(frozen=True)
class BacktestFrames:
    """What ``tickwise backtest --out DIR`` wrote: ``summary.json`` as a dict, the rest as frames.

    ``decisions`` and ``signals`` are indexed by the decision's event time, ``fills`` by the filling
    tick's (``signal_ts`` is the signal's), ``equity`` by the start of each sampled minute (``equity``
    = capital + net P&L, ``gross`` exposure, ``net`` exposure).
    """

    summary: dict[str, Any]
    decisions: pd.DataFrame
    signals: pd.DataFrame
    fills: pd.DataFrame
    equity: pd.DataFrame


def _jsonl(path: Path) -> pd.DataFrame:
    records = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    return utc_index(pd.DataFrame.from_records(records) if records else pd.DataFrame({"ts_ns": []}))


def load_backtest(out_dir: str | Path) -> BacktestFrames:
    """The results of a backtest in ``out_dir`` as DataFrames with UTC ``DatetimeIndex``es."""
    out = Path(out_dir)
    summary_path = out / "summary.json"
    if not summary_path.is_file():
        raise FileNotFoundError(f"no backtest results in {out}: expected summary.json from `tickwise backtest --out`")
    fills = _jsonl(out / "fills.jsonl")
    if "signal_ts_ns" in fills.columns:
        fills["signal_ts"] = pd.to_datetime(fills.pop("signal_ts_ns"), unit="ns", utc=True)
    equity = pd.read_csv(out / "equity.csv")
    equity["ts_ns"] = equity.pop("bucket").astype("int64") * MINUTE_NS
    return BacktestFrames(summary=orjson.loads(summary_path.read_bytes()), decisions=_jsonl(out / "decisions.jsonl"),
                          signals=_jsonl(out / "signals.jsonl"), fills=fills, equity=utc_index(equity))
