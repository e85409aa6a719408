"""CSV downloads never hand a spreadsheet a formula to run (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pandas as pd
import pytest

from core.exporting import dataframe_to_csv_bytes, escape_spreadsheet_value, rows_to_csv_bytes


def read(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize("value", ["=1+1", "+1 555 0100", "-2+3", "@SUM(A1:A9)", "\t=cmd", "\r=cmd",
                                   '=HYPERLINK("http://evil.example","x")'])
def test_text_a_spreadsheet_would_execute_gets_a_leading_quote(value):
    assert escape_spreadsheet_value(value) == "'" + value


@pytest.mark.parametrize("value", ["Ann", "", " =padded", "a=b", "ann@acme.com", "'quoted"])
def test_ordinary_text_is_left_alone(value):
    assert escape_spreadsheet_value(value) == value


@pytest.mark.parametrize("value", [-5, 3.5, None, True, date(2024, 1, 2)])
def test_values_that_are_not_text_are_left_alone(value):
    assert escape_spreadsheet_value(value) == value


def test_rows_to_csv_escapes_every_text_cell_of_dict_and_sequence_rows():
    data = rows_to_csv_bytes([{"name": "=cmd|' /C calc'!A0", "score": -3, "note": None},
                              ("Ann", 7, "@risk")], ["name", "score", "note"])
    assert data.startswith(b"\xef\xbb\xbf")  # Excel then reads UTF-8 accents correctly
    assert read(data) == [["name", "score", "note"], ["'=cmd|' /C calc'!A0", "-3", ""], ["Ann", "7", "'@risk"]]


def test_header_cells_are_escaped_too():
    assert read(rows_to_csv_bytes([], ["=evil", "ok"])) == [["'=evil", "ok"]]


def test_dataframe_to_csv_escapes_text_and_leaves_numbers_and_gaps_plain():
    df = pd.DataFrame({"email": ["a@acme.com", "b@acme.com"], "title": ["+CEO", None],
                       "delta": [-1.5, float("nan")], "city": ["Zürich", "-"]})
    assert read(dataframe_to_csv_bytes(df)) == [
        ["email", "title", "delta", "city"],
        ["a@acme.com", "'+CEO", "-1.5", "Zürich"],
        ["b@acme.com", "", "", "'-"],
    ]


def test_an_escaped_value_round_trips_through_a_csv_reader_unchanged_but_for_the_quote():
    value = '=HYPERLINK("http://evil.example","click, here")'
    assert read(rows_to_csv_bytes([[value]], ["v"]))[1] == ["'" + value]
