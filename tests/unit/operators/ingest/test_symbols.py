"""Specifications of the symbol grammar, checked against the tables of ``docs/symbols.md``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from operators.ingest.symbols import normalise_symbol, symbol_problem

DOC = Path(__file__).resolve().parents[4] / "docs" / "symbols.md"
MAX_LENGTH = 32


def documented(heading: str) -> list[str]:
    """The symbols of the table whose first column is headed ``heading``, exactly as written."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"| {heading} | " + ("where it comes from |" if heading == "accepted" else "why |"))
    symbols = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        symbols.append(re.fullmatch(r"\| `(.*?)` \|.*", line).group(1))  # type: ignore[union-attr]
    return symbols


def test_documented_tables_are_not_empty() -> None:
    assert len(documented("accepted")) >= 15 and len(documented("refused")) >= 10
    assert "AAPL  240119C00190000" in documented("accepted") and " IBM" in documented("refused")


@pytest.mark.parametrize("symbol", documented("accepted"))
def test_symbol_problem_when_documented_as_accepted_then_none(symbol: str) -> None:
    assert symbol_problem(symbol, MAX_LENGTH) is None


@pytest.mark.parametrize("symbol", documented("refused"))
def test_symbol_problem_when_documented_as_refused_then_one_sentence_naming_it(symbol: str) -> None:
    problem = symbol_problem(symbol, MAX_LENGTH)
    assert problem is not None and problem.startswith("expected ") and "got " in problem


@pytest.mark.parametrize("character", [*"\n\t\r\x00\x7f;|<>()%!~+'", "\u200b", "é"])
def test_symbol_problem_when_a_refused_character_is_inside_then_names_it_and_its_position(character: str) -> None:
    problem = symbol_problem(f"IB{character}M", MAX_LENGTH)
    assert problem is not None and f"{character!r} at position 2" in problem


def test_symbol_problem_when_longer_than_the_limit_then_names_both_lengths() -> None:
    assert symbol_problem("A" * 32, MAX_LENGTH) is None
    assert symbol_problem("A" * 33, MAX_LENGTH) == "expected a symbol of at most 32 characters, got 33 characters"


def test_normalise_symbol_when_keep_then_unchanged_and_when_upper_then_only_letters_fold() -> None:
    assert normalise_symbol("ESc1", "keep") == "ESc1"
    assert normalise_symbol("aapl  240119c00190000", "upper") == "AAPL  240119C00190000"
