"""Idle symbols cost nothing per epoch: Bytewax snapshots only the per-symbol states a step touched.

A 10,000-symbol universe is affordable because a snapshot covers the keys that received an item
in the epoch, not every key the worker holds (``bench/universe.py`` measures the worst case, every
key touched). This runs the real per-symbol step in a real Bytewax flow with recovery on, one
epoch per item: a symbol that ticks once and then stays silent is snapshotted in its own epoch
and at the end of input only, while the busy one is snapshotted in every epoch it ticked.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import bytewax.operators as op
import pytest
from bytewax.dataflow import Dataflow
from bytewax.recovery import RecoveryConfig, init_db_dir
from bytewax.testing import TestingSink, TestingSource, run_main

from dataflows.symbol_step import SymbolLogic, SymbolLogicBuilder
from operators.features.symbol import FeatureConfig
from operators.ingest.clock import EventTimeConfig
from operators.messages import Trade, ValidTick

SECOND = 1_000_000_000
T0 = 1_381_329_000 * SECOND  # 2013-10-09 14:30 UTC


def test_a_silent_symbol_is_not_snapshotted_in_the_epochs_it_sat_out(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    snapshots: Counter[str] = Counter()
    snapshot = SymbolLogic.snapshot

    def counted(logic: SymbolLogic) -> bytes:
        snapshots[logic._symbol] += 1
        return snapshot(logic)

    monkeypatch.setattr(SymbolLogic, "snapshot", counted)
    ticks = [("AIG", ValidTick(Trade("AIG", T0, 20.0, 100.0), "ticks", 0, 0))]
    ticks += [("IBM", ValidTick(Trade("IBM", T0 + i * SECOND, 180.0 + 0.01 * i, 100.0), "ticks", 0, 1 + i))
              for i in range(40)]
    init_db_dir(tmp_path, 1)
    flow = Dataflow("idle_keys")
    step = op.stateful("features", op.input("ticks", flow, TestingSource(ticks, batch_size=1)),
                       SymbolLogicBuilder(EventTimeConfig(), FeatureConfig()))
    out: list[object] = []
    op.output("out", step, TestingSink(out))

    run_main(flow, epoch_interval=timedelta(0), recovery_config=RecoveryConfig(str(tmp_path)))

    assert out  # the step ran and emitted
    assert snapshots["IBM"] >= 40  # every epoch it ticked in
    assert snapshots["AIG"] <= 2  # its own epoch and the end of input, none of the 40 it sat out
