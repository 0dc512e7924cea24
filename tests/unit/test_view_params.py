"""Rows handed to the view store go by column name; a row that does not fit its table is
refused by name before anything is written."""

from __future__ import annotations

import pytest

from projections.views import INSERT_COLUMNS, insert_params


def _row(statement: str) -> dict[str, object]:
    return {column: f"{column}-value" for column in INSERT_COLUMNS[statement]}


@pytest.mark.parametrize("statement", sorted(INSERT_COLUMNS))
def test_values_go_in_the_statements_column_order(statement: str) -> None:
    rows = [_row(statement), dict(reversed(list(_row(statement).items())))]
    expected = tuple(f"{column}-value" for column in INSERT_COLUMNS[statement])
    assert insert_params(statement, rows) == [expected, expected]


@pytest.mark.parametrize("change", ["missing", "extra", "renamed"])
def test_a_row_of_other_columns_is_refused_naming_them(change: str) -> None:
    good, bad = _row("invoice_line"), _row("invoice_line")
    if change == "missing":
        del bad["sources"]
    elif change == "extra":
        bad["colour"] = "red"
    else:
        bad["colour"] = bad.pop("sources")
    with pytest.raises(ValueError, match=r"invoice_line: a row of columns .*the table's are"):
        insert_params("invoice_line", [good, bad])
