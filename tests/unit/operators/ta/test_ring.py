"""``FloatRing`` reads exactly like the ``deque(maxlen=...)`` of floats it replaces, before and after a pickle."""

from __future__ import annotations

import pickle
import random
from collections import deque

import pytest

from operators.ta.ring import FloatRing


@pytest.mark.parametrize("maxlen", [1, 2, 3, 14, 50])
def test_ring_reads_like_a_bounded_deque_through_appends_and_a_restore(maxlen: int) -> None:
    rng = random.Random(maxlen)
    expected: deque[float] = deque(maxlen=maxlen)
    ring = FloatRing(maxlen)
    for step in range(3 * maxlen + 5):
        value = rng.uniform(-1.0, 1.0)
        expected.append(value)
        ring.append(value)
        if step == maxlen + 1:
            ring = pickle.loads(pickle.dumps(ring, protocol=pickle.HIGHEST_PROTOCOL))
        assert len(ring) == len(expected)
        assert list(ring) == list(expected) and list(reversed(ring)) == list(reversed(expected))
        assert [ring[index] for index in range(-len(ring), len(ring))] == \
            [expected[index] for index in range(-len(expected), len(expected))]


def test_ring_index_past_the_values_held_is_an_index_error() -> None:
    ring = FloatRing(4)
    ring.append(1.0)
    with pytest.raises(IndexError):
        ring[1]
    with pytest.raises(IndexError):
        ring[-2]
