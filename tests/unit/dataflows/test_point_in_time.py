"""features_as_of returns, per entity row, the latest feature row known at its time; both engines agree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dataflows.point_in_time import ENGINES, event_features_at, features_as_of, features_history
from operators.events import EventMessage


def _brute_force(entities: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """For every entity row, scan all feature rows: the last one (in frame order) of the latest ts <= its ts."""
    names = [column for column in features.columns if column not in ("symbol", "ts")]
    rows = []
    for symbol, ts in zip(entities["symbol"], entities["ts"], strict=True):
        known = features[(features["symbol"] == symbol) & (features["ts"] <= ts)]
        if known.empty:
            rows.append([np.nan] * len(names))
        else:
            latest = known[known["ts"] == known["ts"].max()].iloc[-1]
            rows.append([float(latest[name]) for name in names])
    return pd.concat([entities.reset_index(drop=True), pd.DataFrame(rows, columns=names, dtype=np.float64)], axis=1)


def _random_frames(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    symbols = np.array(["AAPL", "SPY", "MSFT", "IBM"])
    entities = pd.DataFrame({"symbol": rng.choice(symbols, 150), "ts": rng.integers(0, 1_000, 150),
                             "label": rng.integers(0, 2, 150)})
    features = pd.DataFrame({"symbol": rng.choice(symbols[:3], 200), "ts": rng.integers(50, 1_000, 200),
                             "surprise": rng.normal(size=200), "count": rng.integers(0, 9, 200)})
    return entities, features  # unsorted, with ties, IBM without features, rows before the first feature


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("seed", [1, 2])
def test_features_as_of_equals_brute_force_join(engine: str, seed: int) -> None:
    entities, features = _random_frames(seed)
    result = features_as_of(entities, features, engine=engine)
    pd.testing.assert_frame_equal(result, _brute_force(entities, features))
    assert result["surprise"].isna().sum() > 0 and result["surprise"].notna().sum() > 0


@pytest.mark.parametrize("engine", ENGINES)
def test_feature_at_the_same_nanosecond_is_known_and_later_duplicate_wins(engine: str) -> None:
    entities = pd.DataFrame({"symbol": ["A", "A", "A"], "ts": [9, 10, 11]})
    features = pd.DataFrame({"symbol": ["A", "A", "A"], "ts": [10, 10, 12], "x": [1.0, 2.0, 3.0]})
    result = features_as_of(entities, features, engine=engine)
    assert result["x"].tolist()[1:] == [2.0, 2.0] and np.isnan(result["x"].iloc[0])


@pytest.mark.parametrize("engine", ENGINES)
def test_datetimes_and_entity_index_are_kept(engine: str) -> None:
    times = pd.to_datetime(["2019-01-29 21:30", "2019-01-29 21:29:59.999999999"], utc=True, format="ISO8601")
    entities = pd.DataFrame({"symbol": ["AAPL", "AAPL"], "ts": times}, index=[7, 3])
    features = pd.DataFrame({"symbol": ["AAPL"], "ts": pd.to_datetime(["2019-01-29 21:30"], utc=True),
                             "surprise": [-0.03]})
    result = features_as_of(entities, features, engine=engine)
    assert result["ts"].tolist() == times.tolist()
    assert result["surprise"].iloc[0] == -0.03 and np.isnan(result["surprise"].iloc[1])


@pytest.mark.parametrize(("entities", "features", "message"), [
    (pd.DataFrame({"symbol": ["A"]}), pd.DataFrame({"symbol": ["A"], "ts": [1], "x": [1.0]}),
     "expected entities with columns 'symbol' and 'ts'"),
    (pd.DataFrame({"symbol": ["A"], "ts": [None]}), pd.DataFrame({"symbol": ["A"], "ts": [1], "x": [1.0]}),
     "expected a time in every entities row"),
    (pd.DataFrame({"symbol": ["A"], "ts": [1], "x": [0]}), pd.DataFrame({"symbol": ["A"], "ts": [1], "x": [1.0]}),
     "expected feature columns apart from the entity columns"),
    (pd.DataFrame({"symbol": ["A"], "ts": [1]}), pd.DataFrame({"symbol": ["A"], "ts": [1], "x": ["up"]}),
     "expected numeric feature columns"),
    (pd.DataFrame({"symbol": ["A"], "ts": [1.5]}), pd.DataFrame({"symbol": ["A"], "ts": [1], "x": [1.0]}),
     "expected entities times as int64 nanoseconds or datetimes"),
])
def test_features_as_of_when_frames_are_wrong_then_says_why(entities: pd.DataFrame, features: pd.DataFrame,
                                                            message: str) -> None:
    with pytest.raises(ValueError, match=message):
        features_as_of(entities, features, engine="pandas")


def test_features_as_of_when_unknown_engine_then_says_so() -> None:
    with pytest.raises(ValueError, match="expected engine in"):
        features_as_of(pd.DataFrame(), pd.DataFrame(), engine="feast")  # type: ignore[arg-type]


def _event(entity: str, event_id: str, at: int, actual: float, forecast: float) -> EventMessage:
    return EventMessage("test", "earnings_release", entity, event_id, at, at, 3, actual=actual, forecast=forecast)


def test_event_features_at_counts_events_from_their_public_time_per_symbol_and_market() -> None:
    events = [_event("AAPL", "1", 100, 1.5, 1.0), _event("SPY", "2", 50, 0.5, 1.0), _event("US", "3", 70, 2.0, 1.0)]
    entities = pd.DataFrame({"symbol": ["AAPL", "SPY", "AAPL", "AAPL"], "ts": [100, 60, 99, 200],
                             "label": [1, 0, 1, 0]})
    result = event_features_at(events, entities)
    assert result["label"].tolist() == [1, 0, 1, 0]
    assert result["earnings_surprise"].tolist()[:2] == [0.5, -0.5] and np.isnan(result["earnings_surprise"].iloc[2])
    assert result["seconds_since_last_high_importance"].tolist()[3] == 100e-9
    assert np.isnan(result["us_earnings_surprise"].iloc[1]) and result["us_earnings_surprise"].iloc[0] == 1.0


def test_features_history_writes_the_joined_training_set(tmp_path: Path) -> None:
    pd.DataFrame({"symbol": ["A", "A"], "ts": [5, 15], "label": [1, 0]}).to_csv(tmp_path / "entities.csv", index=False)
    pd.DataFrame({"symbol": ["A"], "ts": [10], "x": [2.5]}).to_parquet(tmp_path / "features.parquet")
    rows = features_history(tmp_path / "entities.csv", tmp_path / "out.parquet",
                            features_path=tmp_path / "features.parquet", engine="pandas")
    written = pd.read_parquet(tmp_path / "out.parquet")
    assert rows == 2 and written["label"].tolist() == [1, 0]
    assert np.isnan(written["x"].iloc[0]) and written["x"].iloc[1] == 2.5


@pytest.mark.parametrize(("name", "message"), [("entities.txt", "expected the entities as a .parquet or .csv file"),
                                               ("missing.csv", "cannot read the entities from")])
def test_features_history_when_entity_file_is_wrong_then_one_sentence(tmp_path: Path, name: str,
                                                                       message: str) -> None:
    with pytest.raises(ValueError, match=message):
        features_history(tmp_path / name, tmp_path / "out.parquet")
