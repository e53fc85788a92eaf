"""The message structs pickle under ``operators.messages``, the name they had before the package split."""

from __future__ import annotations

import pickle
import pickletools

import msgspec
import pytest

import operators.messages as messages

STRUCTS = sorted((value for value in vars(messages).values()
                  if isinstance(value, type) and issubclass(value, msgspec.Struct)), key=lambda struct: struct.__name__)


def pickled_strings(data: bytes) -> set[str]:
    """Every string a pickle holds (the module and class names it imports among them)."""
    return {argument for _, argument, _ in pickletools.genops(data) if isinstance(argument, str)}


def test_every_exported_struct_is_in_the_list_of_the_package() -> None:
    assert {struct.__name__ for struct in STRUCTS} <= set(messages.__all__)
    assert len(STRUCTS) == 21


@pytest.mark.parametrize("struct", STRUCTS, ids=lambda struct: struct.__name__)
def test_struct_names_the_package_as_its_module(struct: type) -> None:
    assert struct.__module__ == "operators.messages"
    assert getattr(messages, struct.__name__) is struct


def test_a_pickled_tick_names_operators_messages_and_restores_equal() -> None:
    tick = messages.ValidTick(messages.Trade("IBM", 1, 150.0, 10.0), "ticks", 0, 7)
    data = pickle.dumps(tick, protocol=pickle.HIGHEST_PROTOCOL)
    names = pickled_strings(data)
    assert {"operators.messages", "ValidTick", "Trade"} <= names
    assert not any(name.startswith("operators.messages.") for name in names)
    assert pickle.loads(data) == tick
