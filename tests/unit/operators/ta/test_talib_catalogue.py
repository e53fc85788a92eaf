"""Every TA-Lib function except the math operators and transforms has a streaming twin."""

from __future__ import annotations

import pytest
import talib
from talib import abstract

from operators.ta.base import Indicator
from operators.ta.indicators.catalogue import talib_catalogue
from tests.unit.operators.ta.talib_parity import assert_reset_forgets_everything

EXCLUDED_GROUPS = ("Math Operators", "Math Transform")


def _talib_functions() -> set[str]:
    return {name for group, names in talib.get_function_groups().items() if group not in EXCLUDED_GROUPS
            for name in names}


def test_catalogue_covers_every_talib_function_but_the_math_groups() -> None:
    expected = _talib_functions()
    assert len(expected) == 174
    missing = sorted(expected - set(talib_catalogue()))
    assert missing == [], f"{len(missing)} TA-Lib functions have no streaming implementation: {missing}"


def test_every_catalogue_entry_declares_the_contract() -> None:
    for name, indicator in talib_catalogue().items():
        assert isinstance(indicator.inputs, tuple) and indicator.inputs, name
        assert isinstance(indicator.outputs, tuple) and indicator.outputs, name
        instance = indicator()
        assert instance.ready is False, name
        assert len(instance.values) == len(indicator.outputs), name
        for method in ("update", "reset"):
            assert callable(getattr(instance, method)), (name, method)


def test_every_catalogue_entry_is_built_on_the_one_indicator_contract() -> None:
    not_ported = sorted(name for name, indicator in talib_catalogue().items() if not issubclass(indicator, Indicator))
    assert not_ported == [], f"not on operators.ta.base.Indicator: {not_ported}"


@pytest.mark.parametrize("name", sorted(talib_catalogue()))
def test_constructor_takes_talibs_parameters_with_talibs_defaults(name: str) -> None:
    indicator = talib_catalogue()[name]()
    for parameter, default in abstract.Function(name).parameters.items():
        assert getattr(indicator, parameter) == default


@pytest.mark.parametrize("name", sorted(talib_catalogue()))
def test_reset_forgets_everything_learned(name: str) -> None:
    assert_reset_forgets_everything(talib_catalogue()[name])
