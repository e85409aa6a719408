"""Shared widget helpers: CSV downloads escape formulas, core errors read as one line."""

from __future__ import annotations

import pandas as pd
import pydantic
import pytest

from core.content.schemas import TemplateInput
from core.errors import Conflict, ValidationFailed
from ui import widgets


def test_csv_download_escapes_spreadsheet_formulas(monkeypatch):
    sent: dict[str, object] = {}
    monkeypatch.setattr(widgets.st, "download_button", lambda label, **kwargs: sent.update(kwargs))

    widgets.csv_download(pd.DataFrame({"title": ["=HYPERLINK(\"http://evil\")", "CTO"]}), "x.csv", key="k")

    data = sent["data"]
    assert isinstance(data, bytes)
    assert "'=HYPERLINK" in data.decode("utf-8-sig")
    assert sent["file_name"] == "x.csv" and sent["mime"] == "text/csv"


def test_error_text_adds_the_line_from_details():
    exc = ValidationFailed("body: Unexpected tag", details={"field": "body", "line": 3, "column": 5})

    assert widgets.error_text(exc) == "body: Unexpected tag (line 3, column 5)"


def test_error_text_does_not_repeat_a_line_already_in_the_message():
    exc = ValidationFailed("body: Unclosed block (line 2, column 1)", details={"line": 2, "column": 1})

    assert widgets.error_text(exc) == "body: Unclosed block (line 2, column 1)"


def test_error_text_of_invalid_input_names_the_field():
    with pytest.raises(pydantic.ValidationError) as caught:
        TemplateInput(name="", category="nurture", subject="Hi", body="Hello")

    assert widgets.error_text(caught.value).startswith("name: ")


def test_error_text_of_a_conflict_is_its_message():
    assert widgets.error_text(Conflict("a company with domain x.com already exists")) == \
        "a company with domain x.com already exists"


def test_labels_read_like_words():
    assert widgets.label("in_progress") == "In progress"
    assert widgets.label("linkedin") == "LinkedIn"
    assert widgets.pct(0.2534) == 25.3
