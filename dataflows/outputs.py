"""Where each stream of a tickwise flow goes: one sink per output, None to leave it out."""

from __future__ import annotations

from dataclasses import dataclass

from bytewax.outputs import Sink


@dataclass(frozen=True)
class Outputs:
    """Where each stream goes; tests and backfills swap these for their own sinks."""

    clickhouse: Sink | None
    redis: Sink | None
    signals: Sink | None
    dead_letters: Sink | None
    model_events: Sink | None
    features: Sink | None = None  # scored feature rows for the history flow (``sinks.topics``)
    decisions: Sink | None = None  # every risk decision for the history flow
    option_features: Sink | None = None  # each underlying's latest option features (Redis, the history half)
