"""Specifications of the symbol settings (``TICKWISE_SYMBOL_*``, ``TICKWISE_SYMBOLS_ALLOWED``) and their wiring."""

from __future__ import annotations

import pytest

from dataflows.components import validation_limits
from dataflows.config import ConfigError, environment_names, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in environment_names():
        monkeypatch.delenv(name, raising=False)


def test_validation_limits_when_symbol_variables_set_then_carry_case_length_and_allow_list(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKWISE_SYMBOLS_ALLOWED", "IBM, SPY,AAPL  240119C00190000,IBM")
    monkeypatch.setenv("TICKWISE_SYMBOL_CASE", "upper")
    monkeypatch.setenv("TICKWISE_SYMBOL_MAX_LENGTH", "24")

    limits = validation_limits(load_settings())

    assert limits.allowed_symbols == frozenset({"IBM", "SPY", "AAPL  240119C00190000"})
    assert (limits.symbol_case, limits.max_symbol_length) == ("upper", 24)


def test_validation_limits_when_nothing_set_then_keep_case_32_characters_and_any_symbol() -> None:
    limits = validation_limits(load_settings())

    assert (limits.symbol_case, limits.max_symbol_length, limits.allowed_symbols) == ("keep", 32, frozenset())


@pytest.mark.parametrize(
    ("variables", "named", "phrase"),
    [
        ({"TICKWISE_SYMBOLS_ALLOWED": "IBM,A*"}, "TICKWISE_SYMBOLS_ALLOWED", "'*'"),
        ({"TICKWISE_SYMBOLS_ALLOWED": "IBM,A/../../ETC"}, "TICKWISE_SYMBOLS_ALLOWED", "path segments"),
        ({"TICKWISE_SYMBOLS_ALLOWED": "ibm", "TICKWISE_SYMBOL_CASE": "upper"}, "TICKWISE_SYMBOLS_ALLOWED", "'ibm'"),
        ({"TICKWISE_SYMBOLS_ALLOWED": "A" * 40}, "TICKWISE_SYMBOLS_ALLOWED", "at most 32 characters"),
        ({"TICKWISE_SYMBOL_CASE": "lower"}, "TICKWISE_SYMBOL_CASE", "'keep' or 'upper'"),
        ({"TICKWISE_SYMBOL_MAX_LENGTH": "0"}, "TICKWISE_SYMBOL_MAX_LENGTH", "greater than or equal to 1"),
    ],
)
def test_load_settings_when_symbol_setting_is_bad_then_one_sentence_names_the_variable(
        monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], named: str, phrase: str) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ConfigError) as caught:
        load_settings()

    message = str(caught.value)
    assert message.startswith(f"invalid setting {named}: ") and phrase in message
    assert "\n" not in message
