"""The restore check the feature state tests share: pickled mid-stream, the copy carries on to the bit."""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from typing import Any


def assert_restored_copy_continues(original: Any, updates: Sequence[tuple], split: int,
                                   observe: Callable[[Any], object]) -> None:
    """Feed ``updates[:split]`` to ``original``, restore a copy from its pickle, feed the rest to
    both and assert after each update that ``observe`` sees the same in the copy as in the original."""
    for update in updates[:split]:
        original.update(*update)
    restored = pickle.loads(pickle.dumps(original, protocol=pickle.HIGHEST_PROTOCOL))
    for update in updates[split:]:
        original.update(*update)
        restored.update(*update)
        assert observe(restored) == observe(original)
