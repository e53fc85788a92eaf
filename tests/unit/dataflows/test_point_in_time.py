"""features_as_of returns, per entity row, the latest feature row known at its time; both engines agree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dataflows.point_in_time import ENGINES, features_as_of


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
