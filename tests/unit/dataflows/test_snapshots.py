"""Specifications of the recovery-state envelope: current snapshots restore, any other format is
refused as a whole with one sentence, before anything in it is unpickled."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from dataflows.runner import init_recovery_dir
from dataflows.snapshots import (MARKER_FILE, STATE_FORMAT, IncompatibleSnapshot, check_recovery_dir, dump_state,
                                 load_state)
from dataflows.steps import PaperLogicBuilder, PortfolioRiskBuilder
from dataflows.symbol_step import SymbolLogicBuilder
from operators.features.symbol import FeatureConfig
from operators.ingest.clock import EventTimeConfig
from operators.paper.trader import PaperTradingConfig
from operators.risk.limits import RiskLimits


class Exploding:
    """Unpickling this raises: proves a refused snapshot is never unpickled."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (_explode, ())


def _explode() -> None:
    raise AssertionError("a refused snapshot was unpickled")


def test_load_state_when_written_by_this_version_then_round_trips() -> None:
    assert load_state(dump_state(("guard", [1, 2], {"a": 3.5})), "features") == ("guard", [1, 2], {"a": 3.5})


def test_load_state_when_bare_pickle_of_an_older_version_then_refused_without_unpickling() -> None:
    with pytest.raises(IncompatibleSnapshot, match=r"step 'paper' was written by an older tickwise"):
        load_state(pickle.dumps(Exploding()), "paper")


def test_load_state_when_other_state_format_then_refused_naming_it() -> None:
    other = dump_state(Exploding()).replace(b"/%d\n" % STATE_FORMAT, b"/1\n", 1)
    with pytest.raises(IncompatibleSnapshot, match=r"has state format 1; this version reads state format"):
        load_state(other, "portfolio_risk")


@pytest.mark.parametrize("builder", [
    SymbolLogicBuilder(EventTimeConfig(), FeatureConfig()),
    PortfolioRiskBuilder(RiskLimits(), None),
    PaperLogicBuilder(PaperTradingConfig()),
])
def test_stateful_steps_when_snapshot_taken_then_enveloped_and_restorable(builder: object) -> None:
    logic = builder(None)
    snapshot = logic.snapshot()
    assert snapshot.startswith(b"tickwise-state/%d\n" % STATE_FORMAT)
    again = builder(snapshot).snapshot()  # restores and snapshots again in the same envelope
    assert again.startswith(b"tickwise-state/%d\n" % STATE_FORMAT)
    assert type(load_state(again, "step")) is type(load_state(snapshot, "step"))
    with pytest.raises(IncompatibleSnapshot):
        builder(pickle.dumps(Exploding()))


def test_init_recovery_dir_when_new_then_marked_with_the_state_format(tmp_path: Path) -> None:
    init_recovery_dir(tmp_path / "recovery", 2)
    assert (tmp_path / "recovery" / MARKER_FILE).read_text().strip() == str(STATE_FORMAT)
    assert init_recovery_dir(tmp_path / "recovery", 2) == [0, 1]  # and it resumes


def test_init_recovery_dir_when_partitions_of_an_older_version_then_one_sentence(tmp_path: Path) -> None:
    recovery = tmp_path / "recovery"
    init_recovery_dir(recovery, 1)
    (recovery / MARKER_FILE).unlink()  # what every directory written before the marker looks like
    with pytest.raises(IncompatibleSnapshot) as caught:
        init_recovery_dir(recovery, 1)
    message = str(caught.value)
    assert "older tickwise" in message and "empty recovery directory" in message and "\n" not in message
    with pytest.raises(IncompatibleSnapshot, match="state format 99"):
        (recovery / MARKER_FILE).write_text("99\n")
        check_recovery_dir(recovery)
