"""docs/tables.md documents every ClickHouse table and column as ``sinks.clickhouse.tables`` declares them."""

from __future__ import annotations

import re
from pathlib import Path

from sinks.clickhouse import TABLE_DECLARATIONS

DOC = Path(__file__).resolve().parents[3] / "docs" / "tables.md"
ROW = re.compile(r"^\| `(?P<name>[^`]+)` \| `(?P<type>[^`]+)` \| (?P<meaning>.*) \|$")


def documented() -> dict[str, list[tuple[str, str, str]]]:
    """Table -> its documented (column, type, meaning) rows, in page order."""
    tables: dict[str, list[tuple[str, str, str]]] = {}
    current = None
    for line in DOC.read_text().splitlines():
        if line.startswith("## "):
            current = line.removeprefix("## ").strip()
            tables[current] = []
        elif current is not None and (row := ROW.match(line)):
            tables[current].append((row["name"], row["type"], row["meaning"].strip()))
    return tables


def test_tables_doc_lists_every_table_and_no_other() -> None:
    assert sorted(documented()) == sorted(TABLE_DECLARATIONS)


def test_tables_doc_lists_every_column_in_order_with_its_declared_type_and_a_meaning() -> None:
    for name, rows in documented().items():
        declared = [(column.name, column.type) for column in TABLE_DECLARATIONS[name].columns]

        assert [(column, kind) for column, kind, _ in rows] == declared, f"docs/tables.md: table {name}"
        assert all(meaning for _, _, meaning in rows), f"docs/tables.md: a column of {name} has no meaning"
