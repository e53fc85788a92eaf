"""The outcome step joins rows and predictions in event time, whatever the batching of its two streams."""

from __future__ import annotations

import random

from dataflows.steps import OutcomeStep
from operators.messages import FeatureRow, Prediction
from operators.monitoring.outcomes import OutcomeConfig

HORIZON = 60
SLACK = 10


def a_row(ts: int) -> FeatureRow:
    return FeatureRow("IBM", ts, 0, ts, 100.0 + (ts * 7919 % 13) / 10, (), ())


def a_prediction(ts: int) -> Prediction:
    p_up = 0.2 + (ts * 104729 % 7) / 10
    return Prediction(f"p{ts}", "IBM", ts, 0, ts, 100.0 + (ts * 7919 % 13) / 10, "v1", p_up,
                      1 if p_up > 0.5 else -1, abs(2 * p_up - 1), 0.01, "calm", 0.0, {})


def run(batch: int, shuffle_kinds: random.Random | None = None) -> list[object]:
    """Rows and their predictions as the flow delivers them: per source batch, the batch's rows,
    then its predictions (or the two streams interleaved at random, each in its own order)."""
    step = OutcomeStep(OutcomeConfig(horizon_ns=HORIZON, slack_ns=SLACK))
    times = list(range(0, 2_000, 5))
    state, out = None, []
    for start in range(0, len(times), batch):
        chunk = times[start:start + batch]
        rows, predictions = [a_row(ts) for ts in chunk], [a_prediction(ts) for ts in chunk]
        if shuffle_kinds is None:
            items = [*rows, *predictions]
        else:
            items = []
            while rows or predictions:
                source = rows if rows and (not predictions or shuffle_kinds.random() < 0.5) else predictions
                items.append(source.pop(0))
        for item in items:
            state, emitted = step(state, item)
            out.extend(emitted)
    return out


def test_outcomes_equal_for_every_batch_size_and_interleaving() -> None:
    one_by_one = run(batch=1)
    assert len(one_by_one) > 300  # nearly every prediction resolves (the last horizon's wait)
    for batch in (2, 7, 50, 400):
        assert run(batch) == one_by_one, batch
    assert run(13, random.Random(7)) == one_by_one


def test_rows_past_a_predictions_horizon_wait_for_the_prediction_stream_to_pass_them() -> None:
    step = OutcomeStep(OutcomeConfig(horizon_ns=HORIZON, slack_ns=SLACK))
    state, out = step(None, a_prediction(0))
    assert out == []  # no row seen yet: nothing is final
    for ts in range(0, 200, 5):  # a big batch's rows pass the prediction's horizon and its slack
        state, emitted = step(state, a_row(ts))
        out.extend(emitted)
    assert out == []  # held: a prediction between them may still come
    state, emitted = step(state, a_prediction(195))
    resolved = [(o.prediction_id, o.resolved_ts_ns) for o in emitted if hasattr(o, "resolved_ts_ns")]
    assert resolved == [("p0", 60)]  # the first row at its horizon, not a later one
