"""Point-in-time retrieval: for each entity row, the feature values known at that row's time.

A training set built by joining labels to the *latest* features leaks the future; the correct join
takes, per (symbol, ts) entity row, the last feature row of that symbol with feature ts <= entity
ts (a feature stamped at the same nanosecond counts as known). Rows before a symbol's first
feature get NaN. Both engines give the same frame, row for row:

- ``engine="chdb"``: ClickHouse's ``ASOF LEFT JOIN`` in chDB, in process, reading the pandas
  frames in place (``Python(frame)``); the feature store's own SQL, for large joins.
- ``engine="pandas"``: ``pandas.merge_asof``, with no engine at all.

Only the keys (symbol, time, row number) go through the join; the matched feature rows are then
gathered with numpy, so a thousand feature columns cost one ``take``, not a thousand joined columns.

The result keeps the entity frame's rows in their order with all its columns (a label, say), then
the feature columns as float64. When the features hold two rows for one (symbol, ts), the later one
in the frame wins (a recomputed row replaces the first), in both engines. Times are int64
nanoseconds or datetimes (naive ones are taken as UTC); both frames must use the same kind.

>>> import pandas as pd
>>> entities = pd.DataFrame({"symbol": ["AAPL", "AAPL", "SPY"], "ts": [5, 10, 7], "label": [1, 0, 1]})
>>> features = pd.DataFrame({"symbol": ["AAPL", "AAPL"], "ts": [5, 8], "surprise": [0.5, -0.2]})
>>> features_as_of(entities, features, engine="pandas")
  symbol  ts  label  surprise
0   AAPL   5      1       0.5
1   AAPL  10      0      -0.2
2    SPY   7      1       NaN
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from operators.events import EVENT_FEATURES, EventFeatureConfig, EventFeatures, EventMessage

__all__ = ["ENGINES", "ENTITY_TIME_COLUMNS", "LINEAGE", "event_features_at", "features_as_of", "features_history",
           "read_entities", "read_events", "read_feature_file", "stored_features", "training_set", "check_output",
           "write_frame"]

Engine = Literal["chdb", "pandas"]
ENGINES: tuple[Engine, ...] = ("chdb", "pandas")
_ROW = "__row"
_KEY = "__ts_ns"
_FEATURE_ROW = "__feature_row"


def features_as_of(entities: pd.DataFrame, features: pd.DataFrame, *, engine: Engine = "chdb",
                   symbol: str = "symbol", ts: str = "ts", connection: Any = None,
                   carry: Sequence[str] = ()) -> pd.DataFrame:
    """Join ``features`` to ``entities`` as of each entity row's time (see the module docstring).

    ``connection`` is an open chDB connection to use (chDB hosts one engine per process); without
    one an in-memory connection is opened and closed around the join. ``carry`` names columns of
    ``features`` (lineage: the matched row's time, its feature set) returned with their own type,
    null where no row is known, after the feature columns.
    """
    if engine not in ENGINES:
        raise ValueError(f"features_as_of: expected engine in {ENGINES}, got {engine!r}")
    names = _check(entities, features.drop(columns=list(carry)), symbol, ts)
    # Symbols as one string dtype on both sides: an empty object column and a str one are not joinable keys.
    left = pd.DataFrame({_ROW: np.arange(len(entities), dtype=np.int64),
                         symbol: pd.Series(entities[symbol].to_numpy(), dtype=str),
                         _KEY: _nanoseconds(entities[ts], "entities")})
    right = pd.DataFrame({_FEATURE_ROW: np.arange(len(features), dtype=np.int64),
                          symbol: pd.Series(features[symbol].to_numpy(), dtype=str),
                          _KEY: _nanoseconds(features[ts], "features")})
    right = right[~right.duplicated([symbol, _KEY], keep="last")]
    matched = _join_chdb(left, right, symbol, connection) if engine == "chdb" else _join_pandas(left, right, symbol)
    feature_rows = matched.sort_values(_ROW)[_FEATURE_ROW].fillna(-1).to_numpy(dtype=np.int64)
    table = features[names].to_numpy(dtype=np.float64)
    values = (table.take(np.maximum(feature_rows, 0), axis=0) if len(table)
              else np.empty((len(feature_rows), len(names))))
    values[feature_rows < 0] = np.nan
    carried = {name: features[name].convert_dtypes().array.take(feature_rows, allow_fill=True) for name in carry}
    return pd.concat([entities.reset_index(drop=True), pd.DataFrame(values, columns=names), pd.DataFrame(carried)],
                     axis=1)


def _check(entities: pd.DataFrame, features: pd.DataFrame, symbol: str, ts: str) -> list[str]:
    """The feature column names, after checking both frames have what the join needs."""
    for frame_name, frame in (("entities", entities), ("features", features)):
        missing = [column for column in (symbol, ts) if column not in frame.columns]
        if missing:
            raise ValueError(f"features_as_of: expected {frame_name} with columns {symbol!r} and {ts!r}, "
                             f"got columns {list(frame.columns)!r}")
        if frame[ts].isna().any():
            raise ValueError(f"features_as_of: expected a time in every {frame_name} row, got "
                             f"{int(frame[ts].isna().sum())} rows without one")
    names = [column for column in features.columns if column not in (symbol, ts)]
    clashes = sorted(set(names) & set(entities.columns))
    if clashes:
        raise ValueError(f"features_as_of: expected feature columns apart from the entity columns, got both "
                         f"holding {clashes!r}")
    not_numeric = [name for name in names if not pd.api.types.is_numeric_dtype(features[name])]
    if not_numeric:
        raise ValueError(f"features_as_of: expected numeric feature columns, got {not_numeric!r}")
    return names


def _nanoseconds(times: pd.Series, frame_name: str) -> np.ndarray:
    if pd.api.types.is_integer_dtype(times):
        return times.to_numpy(dtype=np.int64)
    if pd.api.types.is_datetime64_any_dtype(times):
        if getattr(times.dt, "tz", None) is not None:
            times = times.dt.tz_convert("UTC").dt.tz_localize(None)
        return times.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    raise ValueError(f"features_as_of: expected {frame_name} times as int64 nanoseconds or datetimes, "
                     f"got dtype {times.dtype}")


def _join_pandas(left: pd.DataFrame, right: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """``(entity row, feature row)`` pairs by ``merge_asof``; the feature row is NaN when none is known."""
    return pd.merge_asof(left.sort_values(_KEY, kind="stable"), right.sort_values(_KEY, kind="stable"),
                         on=_KEY, by=symbol, direction="backward", allow_exact_matches=True)


def _join_chdb(left: pd.DataFrame, right: pd.DataFrame, symbol: str, connection: Any) -> pd.DataFrame:
    """``(entity row, feature row)`` pairs by ClickHouse's ASOF LEFT JOIN; the feature row is null when none is
    known."""
    import chdb  # one engine per process: imported only when this engine is asked for

    sql = (f"SELECT e.{_ROW}, f.{_FEATURE_ROW} FROM Python(left) AS e ASOF LEFT JOIN Python(right) AS f "
           f"ON e.{_quote(symbol)} = f.{_quote(symbol)} AND f.{_KEY} <= e.{_KEY} SETTINGS join_use_nulls = 1")
    own = connection is None
    if own:
        try:
            connection = chdb.connect(":memory:")
        except RuntimeError as error:
            raise RuntimeError(f"features_as_of: this process already hosts a chDB engine ({error}); pass its "
                               "connection=, or use engine='pandas'") from error
    try:
        return connection.query(sql, "DataFrame")
    finally:
        if own:
            connection.close()


def _quote(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def event_features_at(events: Iterable[EventMessage], entities: pd.DataFrame, *, markets: Sequence[str] = ("US",),
                      config: EventFeatureConfig | None = None, symbol: str = "symbol",
                      ts: str = "ts") -> pd.DataFrame:
    """The event features of each entity row's symbol, and of each market, as known at the row's time.

    Event features hold durations (seconds to the next event) that move with the clock, so they are
    computed at each row's own time rather than joined from stored rows: per symbol (and per market,
    as ``<market>_<feature>`` columns, ``us_last_surprise_z`` say), an ``EventFeatures`` is fed the
    entity's events and queried at the rows' times in increasing order. Only events public at or before
    a row's time count. Returns the entity frame, rows in their order, with the feature columns added.
    """
    config = config or EventFeatureConfig()
    _check(entities, pd.DataFrame(columns=[symbol, ts]), symbol, ts)
    by_entity: dict[str, list[EventMessage]] = {}
    for event in events:
        by_entity.setdefault(event.entity, []).append(event)
    times = _nanoseconds(entities[ts], "entities")
    order = np.argsort(times, kind="stable")
    columns = {name: np.full(len(entities), np.nan) for name in EVENT_FEATURES}
    symbols = entities[symbol].to_numpy()
    for entity in pd.unique(symbols):
        rows = order[symbols[order] == entity]
        _fill(columns, EVENT_FEATURES, rows, times, by_entity.get(entity, []), config)
    for market in markets:
        prefixed = tuple(f"{market.lower()}_{name}" for name in EVENT_FEATURES)
        columns.update({name: np.full(len(entities), np.nan) for name in prefixed})
        _fill(columns, prefixed, order, times, by_entity.get(market, []), config)
    return pd.concat([entities.reset_index(drop=True), pd.DataFrame(columns)], axis=1)


def _fill(columns: dict[str, np.ndarray], names: tuple[str, ...], rows: np.ndarray, times: np.ndarray,
          events: list[EventMessage], config: EventFeatureConfig) -> None:
    """Query one entity's features at ``times[rows]`` (rows in time order) into ``columns[names]``."""
    features = EventFeatures(config)
    for event in events:
        features.update(event)
    for row in rows:
        for name, value in zip(names, features.values(int(times[row])).values(), strict=True):
            columns[name][row] = value


#: Columns naming an entity row's time, looked for in this order.
ENTITY_TIME_COLUMNS = ("timestamp", "ts")
#: Lineage of each joined stored row: the event time of the feature row matched and its feature-set version.
LINEAGE = ("feature_ts", "feature_set")


def read_entities(path: Path, what: str = "entities") -> tuple[pd.DataFrame, str]:
    """The entity frame of ``path`` (Parquet or CSV) and the name of its time column (``what``: the
    frame's name in messages; a feature file is read the same way).

    It needs ``symbol`` and ``timestamp`` (or ``ts``): epoch nanoseconds, datetimes, or ISO 8601 text
    (UTC when it names no zone), parsed here to UTC datetimes. A missing file, a missing column or a time
    that does not parse raises ``ValueError`` with one sentence.
    """
    frame = _read_frame(path, what)
    column = next((name for name in ENTITY_TIME_COLUMNS if name in frame.columns), None)
    if "symbol" not in frame.columns or column is None:
        raise ValueError(f"expected the {what} in {str(path)!r} with columns 'symbol' and 'timestamp' (or 'ts'), "
                         f"got {list(frame.columns)!r}")
    frame[column] = _parse_times(frame[column], f"{column!r} of {str(path)!r}")
    return frame, column


def _parse_times(times: pd.Series, where: str) -> pd.Series:
    if pd.api.types.is_integer_dtype(times) or pd.api.types.is_datetime64_any_dtype(times):
        return times
    parsed = pd.to_datetime(times, utc=True, format="ISO8601", errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"expected ISO 8601 times or epoch nanoseconds in {where}, got {times.iloc[row]!r} "
                         f"in row {row + 1}")
    return parsed


def stored_features(client: Any, symbols: Sequence[str], until_ns: int) -> pd.DataFrame:
    """The rows of ClickHouse's ``features`` table for ``symbols`` up to ``until_ns``, one column per feature.

    Read ``FINAL``, so a row a recovery wrote twice counts once; rows of one (symbol, ts) with different ids
    (a second run over the same ticks) come in insert order, so the latest insert wins the join. Columns:
    ``symbol``, ``ts`` (epoch ns), the features (NaN where a row's feature set lacks one), then ``LINEAGE``.
    The rows come as Arrow and each layout of names is spread with one numpy gather (a DataFrame of arrays
    costs a Python object per row: 15 s instead of 4 s for 200,000 rows of 60 features).
    """
    sql = ("SELECT toString(symbol) AS symbol, ts_ns AS ts, toString(feature_set) AS feature_set, "
           "arrayStringConcat(names, '\\n') AS layout, values FROM features FINAL "
           "WHERE symbol IN %(symbols)s AND ts_ns <= %(until)s ORDER BY symbol, ts_ns, inserted_at, id")
    rows = client.query_arrow(sql, parameters={"symbols": list(symbols), "until": until_ns})
    base = {"symbol": rows["symbol"].to_numpy(zero_copy_only=False).astype(object),
            "ts": rows["ts"].to_numpy().astype(np.int64)}
    return pd.DataFrame({**base, **_spread(rows["layout"], rows["values"]), "feature_ts": base["ts"],
                         "feature_set": rows["feature_set"].to_numpy(zero_copy_only=False).astype(object)})


def _spread(layouts: Any, values: Any) -> dict[str, np.ndarray]:
    """One float column per feature name from Arrow chunked ``layout`` strings (a row's names joined by
    newlines) and ``values`` lists; NaN where a row's layout lacks the name. Columns in the order the
    layouts first name them."""
    encoded = layouts.combine_chunks().dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    values = values.combine_chunks()
    flat = values.flatten().to_numpy(zero_copy_only=False).astype(np.float64)
    starts = values.offsets.to_numpy()[:-1]
    columns: dict[str, np.ndarray] = {}
    for code, layout in enumerate(encoded.dictionary.to_pylist()):
        names = layout.split("\n") if layout else []
        rows = np.flatnonzero(codes == code)
        gathered = flat[starts[rows, None] + np.arange(len(names))]
        for position, name in enumerate(names):
            columns.setdefault(name, np.full(len(codes), np.nan))[rows] = gathered[:, position]
    return columns


def training_set(entities: pd.DataFrame, time_column: str, *, features: pd.DataFrame | None = None,
                 client: Any = None, events: Sequence[EventMessage] = (), engine: Engine = "pandas") -> pd.DataFrame:
    """Each entity row with the features known at its time: from ``features`` (a frame with ``symbol``,
    ``ts`` and feature columns) or else, with a ClickHouse ``client``, the stored ``features`` table (plus
    ``LINEAGE``, ``feature_ts`` as a UTC datetime); then the event features of ``events``.

    The entity frame is returned as it is, rows in their order, the new columns after its own.
    """
    keys = pd.DataFrame({"symbol": entities["symbol"].to_numpy(),
                         "ts": _nanoseconds(entities[time_column].reset_index(drop=True), "entities")})
    parts = [entities.reset_index(drop=True)]
    if features is not None:
        features = features.assign(ts=_nanoseconds(features["ts"], "features"))
        parts.append(features_as_of(keys, features, engine=engine).drop(columns=["symbol", "ts"]))
    elif client is not None:
        stored = stored_features(client, pd.unique(keys["symbol"]).tolist(), int(keys["ts"].max()))
        joined = features_as_of(keys, stored, engine=engine, carry=LINEAGE).drop(columns=["symbol", "ts"])
        parts.append(joined.assign(feature_ts=pd.to_datetime(joined["feature_ts"], unit="ns", utc=True)))
    if events:
        parts.append(event_features_at(events, keys).drop(columns=["symbol", "ts"]))
    clashes = sorted(set.intersection(*(set(part.columns) for part in parts))) if len(parts) > 1 else []
    if clashes:
        raise ValueError(f"expected each column from one source, got {clashes!r} from more than one; drop one source")
    return pd.concat(parts, axis=1)


def features_history(entities_path: Path, output_path: Path, *, features_path: Path | None = None,
                     event_paths: Sequence[Path] = (), engine: Engine = "chdb", client: Any = None) -> int:
    """A point-in-time training set from files to a file; returns its row count.

    Reads the entity frame (``read_entities``) and, when given, a feature frame (``symbol``, ``ts``,
    features) as Parquet or CSV by suffix, or else reads the stored features through ``client``; joins
    them and the event features of the event files (``training_set``); writes Parquet or CSV by suffix.
    A file that is missing, unreadable or of the wrong shape raises ``ValueError`` with one sentence.
    """
    check_output(output_path)
    entities, time_column = read_entities(entities_path)
    features = read_feature_file(features_path) if features_path is not None else None
    result = training_set(entities, time_column, features=features, client=client, events=read_events(event_paths),
                          engine=engine)
    write_frame(result, output_path)
    return len(result)


def read_feature_file(path: Path) -> pd.DataFrame:
    """A feature file (``symbol``, ``timestamp`` or ``ts``, numeric features) with its time column as ``ts``."""
    frame, column = read_entities(path, "features")
    return frame.rename(columns={column: "ts"})


def read_events(paths: Sequence[Path]) -> list[EventMessage]:
    """The events of the shared event files ``paths`` (``dataflows.eventfiles``)."""
    from dataflows.eventfiles import read_event_file

    return [event for path in paths for event in _read_events(path, read_event_file)]


def _read_events(path: Path, reader: Any) -> list[EventMessage]:
    try:
        return reader(path).events
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise ValueError(f"cannot read events from {str(path)!r}: {error}") from None


def _read_frame(path: Path, what: str) -> pd.DataFrame:
    readers = {".parquet": pd.read_parquet, ".csv": pd.read_csv}
    reader = readers.get(path.suffix)
    if reader is None:
        raise ValueError(f"expected the {what} as a .parquet or .csv file, got {str(path)!r}")
    try:
        return reader(path)
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read the {what} from {str(path)!r}: {error}") from None


def check_output(path: Path) -> None:
    """Refuse an output file ``write_frame`` cannot write, before any work is done."""
    if path.suffix not in (".parquet", ".csv"):
        raise ValueError(f"expected the output as a .parquet or .csv file, got {str(path)!r}")


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as Parquet or CSV by ``path``'s suffix."""
    check_output(path)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
