"""Every catalogue indicator restored from a pickle continues to the bit as if it never stopped.

A recovery snapshot pickles each symbol's state; a resumed flow must give exactly the outputs
an uninterrupted one gives. Each TA-Lib function of the streaming catalogue (default
parameters) is fed real bars, pickled mid-way (during the warm-up and well after it), and the
original and the restored copy are fed the rest: every output of every bar must be the same
double (NaN where one is NaN).
"""

from __future__ import annotations

import pickle

import pytest

from operators.ta.indicators.catalogue import talib_catalogue

from .talib_parity import assert_restored_continues_bit_identically

CATALOGUE = talib_catalogue()
SNAPSHOT_AT = (3, 350)


@pytest.mark.parametrize("snapshot_at", SNAPSHOT_AT, ids=lambda at: f"after_{at}_bars")
@pytest.mark.parametrize("function", sorted(CATALOGUE))
def test_indicator_restored_from_a_pickle_continues_bit_identically(function: str, snapshot_at: int) -> None:
    assert_restored_continues_bit_identically(
        function, CATALOGUE[function], lambda original: pickle.loads(pickle.dumps(original, pickle.HIGHEST_PROTOCOL)),
        snapshot_at)
