"""``tickwise retrain --on-event``: train a candidate model when the live monitor asks for it.

The outcome stage emits a ``retrain`` event on the ``model-events`` topic when a model's
rolling live accuracy falls below the threshold (0.55 by default; one event per onset). This
job consumes that topic with its own consumer group, and for each poll that brought at least
one ``retrain`` event it trains one candidate with the same path as ``tickwise train``
(``dataflows.backfill.backfill_and_train``: backfill with the live operators, train, log and
register in MLflow). It never promotes: compare the candidate and promote it with
``tickwise models promote``. Offsets are committed after the training, so an event whose
training crashed is seen again.

The hook is ``retrain_on_events(..., trainer=...)``: any callable with the signature of
``backfill_and_train`` can replace the training (tests pass a recorder).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer, KafkaError

RETRAIN_KIND = "retrain"
GROUP_ID = "tickwise-retrain"

Trainer = Callable[..., Any]


def retrain_requests(values: Iterable[bytes | None]) -> list[dict[str, Any]]:
    """The ``retrain`` events among raw ``model-events`` values (other kinds and junk are skipped).

    >>> retrain_requests([b'{"kind":"retrain","symbol":"IBM","statistic":0.52}', b'{"kind":"feature_drift"}', b"x"])
    [{'kind': 'retrain', 'symbol': 'IBM', 'statistic': 0.52}]
    """
    requests = []
    for value in values:
        try:
            body = orjson.loads(value or b"")
        except orjson.JSONDecodeError:
            continue
        if isinstance(body, dict) and body.get("kind") == RETRAIN_KIND:
            requests.append(body)
    return requests


def retrain_on_events(bootstrap: str, topic: str, files: list[Path], out_root: Path, state_dir: Path,
                      start_ns: int | None, end_ns: int | None, symbols: list[str] | None, console: Any,
                      trainer: Trainer | None = None, extra: Mapping[str, str] | None = None,
                      timeout_s: float = 0.0, once: bool = True, poll_s: float = 1.0) -> list[Path]:
    """Wait for ``retrain`` events and train one candidate per batch of them; return the model dirs.

    ``timeout_s`` > 0 stops after that many seconds; ``once`` stops after the first training.
    """
    if trainer is None:
        from dataflows.backfill import backfill_and_train as trainer
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP_ID, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", **(extra or {})})
    consumer.subscribe([topic])
    trained: list[Path] = []
    deadline = time.monotonic() + timeout_s if timeout_s > 0 else None
    try:
        while deadline is None or time.monotonic() < deadline:
            messages = consumer.consume(1000, poll_s)
            values = []
            for message in messages:
                error = message.error()
                if error is not None and error.code() != KafkaError._PARTITION_EOF:
                    raise RuntimeError(f"retrain: reading {topic} failed: {error}")
                if error is None:
                    values.append(message.value())
            requests = retrain_requests(values)
            if requests:
                first = requests[0]
                stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
                out_dir = out_root / f"candidate-{stamp}"
                console.print(f"retrain: {len(requests)} retrain event(s), first {first.get('symbol')} "
                              f"model {first.get('model_version') or '?'} accuracy {first.get('statistic')}; "
                              f"training a candidate into {out_dir}")
                trainer(files=files, out_dir=out_dir, state_dir=state_dir, start_ns=start_ns, end_ns=end_ns,
                        symbols=symbols, console=console)
                trained.append(out_dir)
            if messages:
                consumer.commit(asynchronous=False)
            if requests and once:
                break
    finally:
        consumer.close()
    return trained

