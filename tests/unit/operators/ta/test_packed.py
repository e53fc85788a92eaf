"""Every catalogue indicator packed into one flat tuple and unpacked continues to the bit.

A symbol's snapshot holds its configured indicators packed by a ``PackedState`` generated for
each indicator's shape. Each TA-Lib function of the streaming catalogue (default parameters) is
fed real bars, packed mid-way (before any bar, during the warm-up and well after it), the tuple
pickled and unpacked, and the original and the copy are fed the rest: every output of every bar
must be the same double. Where an indicator is not shaped like its prototype, ``pack`` declines
(``None``) and the caller pickles the indicator itself.
"""

from __future__ import annotations

import pickle

import pytest

from operators.ta.indicators.catalogue import indicator_class, talib_catalogue
from operators.ta.packed import PackedState

from .talib_parity import assert_restored_continues_bit_identically

CATALOGUE = talib_catalogue()
SNAPSHOT_AT = (0, 3, 350)
#: Functions whose fresh indicator leaves a slot unset (FRACTAL never sets ``_value``): never packed.
NOT_PACKED = {"FRACTAL"}


@pytest.mark.parametrize("snapshot_at", SNAPSHOT_AT, ids=lambda at: f"after_{at}_bars")
@pytest.mark.parametrize("function", sorted(set(CATALOGUE) - NOT_PACKED))
def test_indicator_unpacked_from_its_pickled_packed_state_continues_bit_identically(function: str,
                                                                                    snapshot_at: int) -> None:
    packer = PackedState(CATALOGUE[function]())

    def through_packed_state(original: object) -> object:
        packed = packer.pack(original)
        assert type(packed) is tuple, f"{function} did not pack"
        return packer.unpack(pickle.loads(pickle.dumps(packed, protocol=pickle.HIGHEST_PROTOCOL)))

    assert_restored_continues_bit_identically(function, CATALOGUE[function], through_packed_state, snapshot_at)


def test_only_the_indicators_with_a_slot_never_set_decline_to_pack() -> None:
    declined = {function for function, cls in CATALOGUE.items() if PackedState(cls()).pack(cls()) is None}
    assert declined == NOT_PACKED


def test_pack_declines_an_indicator_whose_sub_indicator_was_replaced() -> None:
    stochastic = indicator_class("STOCH")
    packer = PackedState(stochastic())
    indicator = stochastic()
    indicator._slow_k = None
    assert packer.pack(indicator) is None


def test_pack_declines_an_indicator_with_a_slot_unset() -> None:
    rsi = indicator_class("RSI")
    packer = PackedState(rsi())
    indicator = rsi()
    del indicator._value
    assert packer.pack(indicator) is None


def test_pack_declines_an_indicator_of_another_class() -> None:
    packer = PackedState(indicator_class("RSI")())
    assert packer.pack(indicator_class("CMO")()) is None


def test_an_object_without_slots_is_never_packed() -> None:
    class Loose:
        def __init__(self) -> None:
            self.value = 1.0

    assert PackedState(Loose()).pack(Loose()) is None


# -- the whole-tree options a symbol's feature state uses (operators.features.symbol) -------------------


class _Window:
    """A node that writes its own state (as the rolling windows do: the live events only)."""

    __slots__ = ("values", "spare")

    def __init__(self) -> None:
        self.values = [1.0]
        self.spare = 16

    def __getstate__(self) -> tuple[float, ...]:
        return tuple(self.values)

    def __setstate__(self, state: tuple[float, ...]) -> None:
        self.values = list(state)
        self.spare = 0  # a restore sizes the buffer to what it holds


class _Leaf:
    __slots__ = ("total",)

    def __init__(self) -> None:
        self.total = 0.0


class _Tree:
    __slots__ = ("config", "window", "leaves", "kept_apart", "count")

    def __init__(self, config: tuple[int, ...]) -> None:
        self.config = config
        self.window = _Window()
        self.leaves = [_Leaf(), _Leaf()]
        self.kept_apart = "the caller's"
        self.count = 0


TREE_PACK = dict(within="tests.", shared=frozenset({"_Tree.config"}), leave=frozenset({"_Tree.kept_apart"}))


def test_a_tree_packs_its_nodes_lists_and_own_states_leaving_out_shared_and_left_slots() -> None:
    config = (1, 2, 3)
    packer = PackedState(_Tree(config), **TREE_PACK)
    tree = _Tree(config)
    tree.window.values.append(2.5)
    tree.leaves[1].total = 7.0
    tree.count = 3
    packed = packer.pack(tree)
    assert packed is not None and config not in packed and "the caller's" not in packed
    assert (1.0, 2.5) in packed  # the window's own state, not its slots
    copy = packer.unpack(pickle.loads(pickle.dumps(packed)))
    assert copy.config is config  # the prototype's, not a copy
    assert not hasattr(copy, "kept_apart")  # the caller sets it
    assert copy.window.values == [1.0, 2.5] and copy.window.spare == 0  # restored by its __setstate__
    assert type(copy.leaves) is list and [leaf.total for leaf in copy.leaves] == [0.0, 7.0]
    assert copy.leaves[0] is not tree.leaves[0] and copy.count == 3


def test_a_tree_whose_list_of_nodes_changed_length_is_not_packed() -> None:
    packer = PackedState(_Tree((1,)), **TREE_PACK)
    tree = _Tree((1,))
    tree.leaves.append(_Leaf())
    assert packer.pack(tree) is None
    tree.leaves = (tree.leaves[0], tree.leaves[1])  # a tuple where the prototype had a list
    assert packer.pack(tree) is None
