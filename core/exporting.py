"""CSV downloads: every "download CSV" button goes through here so no cell can run as a spreadsheet formula.

Imports keep values such as ``=HYPERLINK(...)`` verbatim (they are data); the escaping happens on the way
out, following the OWASP CSV-injection guidance: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return gets a leading single quote, which spreadsheets show as plain text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_spreadsheet_value(value: Any) -> Any:
    """The value, with a leading ' when it is text a spreadsheet would execute; other types unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def rows_to_csv_bytes(rows: Iterable[Mapping[str, Any] | Sequence[Any]], columns: Sequence[str]) -> bytes:
    """UTF-8 CSV (with BOM, so Excel reads the accents) of dict or sequence rows, header first."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([escape_spreadsheet_value(c) for c in columns])
    for row in rows:
        values = [row.get(c) for c in columns] if isinstance(row, Mapping) else list(row)
        writer.writerow(["" if v is None else escape_spreadsheet_value(v) for v in values])
    return out.getvalue().encode("utf-8-sig")


def dataframe_to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM) of a DataFrame: its columns as the header, the index left out, text escaped."""
    columns = [str(c) for c in df.columns]
    plain = df.astype(object).where(df.notna(), None)  # NaN, NaT and pd.NA are empty cells, not "nan"
    return rows_to_csv_bytes(plain.itertuples(index=False, name=None), columns)
