"""Shared widgets and formatting: inline errors, flash messages after writes, CSV downloads, pickers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal, TypeVar

import pandas as pd
import pydantic
import streamlit as st

from core.auth.actor import Actor
from core.crm.schemas import CompanyView, ContactView, TaskView
from core.errors import SalesAgentError
from core.exporting import dataframe_to_csv_bytes
from core.services import Services
from ui import data

T = TypeVar("T")
Kind = Literal["success", "error", "info", "warning"]
ALL = "All"
_LABELS = {"linkedin": "LinkedIn", "cta": "Call to action", "re_engagement": "Re-engagement"}


def ensure_navigation() -> None:
    """Call first on every page. Until some rerun has called st.navigation (in Home.py), Streamlit treats
    pages/ as an old-style page folder, so a bookmarked /Contacts opened as the first request after a
    restart would run that page alone: no sections, no wide layout. Rerun it through Home.py instead."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


# Formatting ----------------------------------------------------------------------------------------

def label(value: object) -> str:
    """An enum value or snake_case name as people read it: in_progress -> In progress."""
    if value is None:
        return ""
    text = value.value if isinstance(value, Enum) else str(value)
    return _LABELS.get(text, text.replace("_", " ").capitalize())


def fmt_dt(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M")


def pct(rate: float) -> float:
    """A 0-1 rate as a percentage rounded for tables and CSV (0.253 -> 25.3)."""
    return round(rate * 100, 1)


def chain(companies: Iterable[CompanyView]) -> str:
    return " > ".join(c.name for c in companies)


# Errors and flash messages -------------------------------------------------------------------------

def error_text(exc: BaseException) -> str:
    """One readable message for an error from core or from input validation; never a traceback."""
    if isinstance(exc, pydantic.ValidationError):
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            parts.append(f"{where}: {err['msg']}" if where else str(err["msg"]))
        return "; ".join(parts)
    if isinstance(exc, SalesAgentError):
        text = exc.message
        details = exc.details if isinstance(exc.details, Mapping) else {}
        line = details.get("line")
        if line is not None and f"line {line}" not in text:
            column = details.get("column")
            text += f" (line {line}" + (f", column {column})" if column is not None else ")")
        return text
    return str(exc)


def show_error(exc: BaseException, *, sources: Mapping[str, str] | None = None) -> None:
    """st.error for a refused input; with the template sources, quotes the offending line."""
    st.error(error_text(exc))
    details = exc.details if isinstance(exc, SalesAgentError) and isinstance(exc.details, Mapping) else {}
    line, field = details.get("line"), details.get("field")
    if sources and isinstance(line, int) and isinstance(field, str) and field in sources:
        lines = sources[field].splitlines()
        if 1 <= line <= len(lines):
            st.code(f"{field}, line {line}: {lines[line - 1]}", language=None)


def set_flash(key: str, kind: Kind, text: str) -> None:
    st.session_state[f"_flash_{key}"] = (kind, text)


def show_flash(key: str) -> None:
    """Show (once) the outcome of the last write made by the callback that used this key."""
    flash = st.session_state.pop(f"_flash_{key}", None)
    if flash is not None:
        kind, text = flash
        getattr(st, kind)(text)


def attempt(
    flash_key: str, action: Callable[[], T], *, success: str | Callable[[T], str], areas: Sequence[str] = (),
) -> T | None:
    """Run one write from a callback: on success clear the caches of ``areas`` and flash a message;
    on a refusal from core (or invalid input) flash the reason instead. Returns the result or None."""
    try:
        result = action()
    except (SalesAgentError, pydantic.ValidationError) as exc:
        set_flash(flash_key, "error", error_text(exc))
        return None
    data.invalidate(*areas)
    set_flash(flash_key, "success", success(result) if callable(success) else success)
    return result


def reset(*keys: str) -> None:
    """Forget widget values so a form shows its defaults again after a successful submit."""
    for key in keys:
        st.session_state.pop(key, None)


# Downloads and tables ------------------------------------------------------------------------------

def csv_download(df: pd.DataFrame, file_name: str, *, key: str, label: str = "Download CSV") -> None:
    """Every table a manager may want leaves as CSV (formula-looking cells escaped by core)."""
    st.download_button(label, data=dataframe_to_csv_bytes(df), file_name=file_name, mime="text/csv",
                       key=key, icon=":material/download:", on_click="ignore", disabled=df.empty)


def contacts_frame(items: Sequence[ContactView], users: Mapping[int, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"id": c.id, "name": c.full_name, "email": c.email, "title": c.title or "",
          "company": c.company.name if c.company else "", "stage": label(c.lifecycle_stage),
          "owner": users.get(c.owner_id, f"user #{c.owner_id}") if c.owner_id else "",
          "enrichment": c.enrichment_score, "suppressed": ", ".join(s.value for s in c.suppressed)}
         for c in items],
        columns=["id", "name", "email", "title", "company", "stage", "owner", "enrichment", "suppressed"],
    )


def companies_frame(items: Sequence[CompanyView], names: Mapping[int, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"id": c.id, "name": c.name, "domain": c.domain, "industry": c.industry or "", "size": c.size or "",
          "employees": c.employee_count, "score": c.score,
          "parent": names.get(c.parent_id, "") if c.parent_id else ""} for c in items],
        columns=["id", "name", "domain", "industry", "size", "employees", "score", "parent"],
    )


def tasks_frame(items: Sequence[TaskView], users: Mapping[int, str], now: datetime) -> pd.DataFrame:
    return pd.DataFrame(
        [{"id": t.id, "title": t.title, "type": label(t.type), "priority": label(t.priority),
          "status": label(t.status), "due": fmt_dt(t.due_at),
          "overdue": bool(t.due_at and t.due_at < now and t.status.value != "complete"),
          "assignee": users.get(t.assignee_id, f"user #{t.assignee_id}") if t.assignee_id else ""}
         for t in items],
        columns=["id", "title", "type", "priority", "status", "due", "overdue", "assignee"],
    )


def highlight_overdue(df: pd.DataFrame) -> Any:
    """A Styler that tints overdue rows red, for st.dataframe."""
    def row_style(row: pd.Series) -> list[str]:
        tint = "background-color: rgba(255, 75, 75, 0.18)" if row.get("overdue") else ""
        return [tint] * len(row)

    return df.style.apply(row_style, axis=1)


def history_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    def summary(changes: object) -> str:
        if not isinstance(changes, Mapping):
            return ""
        parts = []
        for name, value in changes.items():
            if isinstance(value, list) and len(value) == 2:
                parts.append(f"{name}: {value[0]!s} → {value[1]!s}")
            else:
                parts.append(f"{name}: {value!s}")
        return "; ".join(parts)

    return pd.DataFrame(
        [{"when": fmt_dt(r["at"]), "who": r["actor_label"], "action": r["action"],
          "changes": summary(r["changes"])} for r in rows],
        columns=["when", "who", "action", "changes"],
    )


def import_report(report: Any, *, key: str) -> None:
    """Counts of a finished contact import, and its row errors (line, reason) as a table and CSV."""
    st.markdown("**Import report**")
    cols = st.columns(6)
    for col, (name, value) in zip(cols, [
        ("Rows", report.rows), ("Created", report.created), ("Updated", report.updated),
        ("Skipped", report.skipped), ("Failed", report.failed), ("New companies", report.companies_created),
    ], strict=True):
        col.metric(name, f"{value:,}")
    if report.errors:
        errors = pd.DataFrame([{"line": e.line, "reason": e.reason, "email": e.email or ""}
                               for e in report.errors], columns=["line", "reason", "email"])
        st.dataframe(errors, hide_index=True, key=f"{key}_errors")
        csv_download(errors, "import-errors.csv", key=f"{key}_errors_csv", label="Download errors as CSV")
    else:
        st.success("No row was refused.")


def selected_row(event: Any) -> int | None:
    """Index of the single selected row of an st.dataframe selection event, if any."""
    try:
        rows = list(event.selection.rows)
    except AttributeError:
        return None
    return rows[0] if rows else None


# Pickers -------------------------------------------------------------------------------------------

def contact_picker(services: Services, actor: Actor, *, key: str, label: str = "Contact",
                   optional: bool = False) -> int | None:
    """A search box and a selectbox of the matching contacts (keys ``{key}_search`` and ``key``)."""
    search = st.text_input(f"Find {label.lower()}", key=f"{key}_search", placeholder="name, email or title")
    choices = data.contact_choices(services, actor, search.strip())
    options: list[int | None] = [None, *choices] if optional else list(choices)
    if not options:
        st.caption("No contact matches.")
        return None
    picked: int | None = st.selectbox(label, options, key=key, format_func=lambda cid: (
        "(none)" if cid is None else choices.get(cid, str(cid))))
    return picked


def filter_select(label_text: str, options: Sequence[T], *, key: str,
                  format_func: Callable[[T], str] = label) -> T | None:
    """A selectbox whose first option "All" means no filter (returned as None)."""
    picked = st.selectbox(label_text, [ALL, *options], key=key,
                          format_func=lambda v: ALL if v == ALL else format_func(v))
    return None if picked == ALL else picked  # type: ignore[return-value]


def current_page(key: str) -> int:
    """The page a listing is on (its pagination widget is drawn below the table, after the read)."""
    return int(st.session_state.get(key, 1) or 1)


def to_first_page(key: str) -> None:
    """on_change of a listing's filters: a new filter starts again at page 1."""
    st.session_state.pop(key, None)


def page_controls(total: int, per_page: int, *, key: str) -> None:
    """Pagination under a listing, with "first-last of total"."""
    pages = max(1, -(-total // per_page))
    page = min(current_page(key), pages)
    first = (page - 1) * per_page + 1 if total else 0
    left, right = st.columns([3, 1], vertical_alignment="center")
    with left:
        if pages > 1:
            st.pagination(pages, key=key)
    right.caption(f"{first:,} to {min(page * per_page, total):,} of {total:,}")
