"""Templates: list by category, an editor with a live preview for a chosen contact (errors inline with
their line), variables and snippets to insert, versioned saves and history; plus the snippet library."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.auth.actor import Actor
from core.auth.permissions import CREATE, UPDATE, allowed
from core.content import service as content_service
from core.content.models import SnippetCategory, TemplateCategory
from core.content.schemas import SnippetInput, TemplateInput, TemplateView
from core.content.templating import KNOWN_VARIABLES
from core.errors import SalesAgentError
from core.services import Services
from ui import data
from ui.runtime import current_actor, start_rerun
from ui.widgets import (
    attempt,
    contact_picker,
    csv_download,
    ensure_navigation,
    filter_select,
    fmt_dt,
    label,
    reset,
    show_error,
    show_flash,
)

NEW = 0  # the "new template" choice of the template picker
EDITOR = ("tpl_name", "tpl_category", "tpl_subject", "tpl_body")

ensure_navigation()
services = start_rerun("Templates")
actor = current_actor(services)
all_templates = {t.id: t for t in data.templates(services, actor)}


def _fill_editor(template: TemplateView | None) -> None:
    s = st.session_state
    s["tpl_name"] = template.name if template else ""
    s["tpl_category"] = template.category.value if template else TemplateCategory.prospecting.value
    s["tpl_subject"] = template.latest.subject if template else ""
    s["tpl_body"] = template.latest.body if template else ""
    s["tpl_loaded"] = template.id if template else NEW


def _save(services: Services, actor: Actor) -> None:
    s = st.session_state
    template_id = s.get("tpl_loaded", NEW)

    def save() -> TemplateView:
        if template_id == NEW:
            return content_service.create_template(services.uow(), actor=actor, data=TemplateInput(
                name=s.get("tpl_name", ""), category=TemplateCategory(s["tpl_category"]),
                subject=s.get("tpl_subject", ""), body=s.get("tpl_body", "")))
        return content_service.save_template_version(
            services.uow(), actor=actor, template_id=template_id, subject=s.get("tpl_subject", ""),
            body=s.get("tpl_body", ""))

    saved = attempt("templates_editor", save, areas=["templates"],
                    success=lambda t: f"Saved {t.name}, version {t.latest.version}.")
    if saved is not None:
        s["templates_pick"] = s["tpl_loaded"] = saved.id


def _insert_snippet() -> None:
    name = st.session_state.get("tpl_snippet")
    if name:
        body, tag = st.session_state.get("tpl_body", ""), f"{{{{> {name}}}}}"
        st.session_state["tpl_body"] = f"{body.rstrip()}\n\n{tag}" if body.strip() else tag


def _restore(version_subject: str, version_body: str) -> None:
    st.session_state["tpl_subject"], st.session_state["tpl_body"] = version_subject, version_body


def _create_snippet(services: Services, actor: Actor) -> None:
    s = st.session_state
    created = attempt("snippets_new", lambda: content_service.create_snippet(
        services.uow(), actor=actor, data=SnippetInput(
            name=s.get("snippet_new_name", ""), content=s.get("snippet_new_content", ""),
            category=SnippetCategory(s["snippet_new_category"]))),
        areas=["snippets"], success=lambda sn: f"Created snippet {sn.name} — use it as {{{{> {sn.name}}}}}.")
    if created is not None:
        reset("snippet_new_name", "snippet_new_content")


def template_list() -> None:
    category = filter_select("Category", list(TemplateCategory), key="templates_category")
    shown = [t for t in all_templates.values() if category is None or t.category is category]
    frame = pd.DataFrame(
        [{"category": label(t.category), "name": t.name, "version": t.latest.version,
          "variables": ", ".join(t.latest.variables), "last saved": fmt_dt(t.latest.created_at)}
         for t in sorted(shown, key=lambda t: (t.category.value, t.name))],
        columns=["category", "name", "version", "variables", "last saved"])
    st.dataframe(frame, hide_index=True, key="templates_table")
    csv_download(frame, "templates.csv", key="templates_csv")


def preview(subject: str, body: str) -> None:
    st.markdown("**Live preview**")
    contact_id = contact_picker(services, actor, key="tpl_preview_contact", label="Preview for")
    if contact_id is None or not subject.strip() or not body.strip():
        st.caption("Pick a contact and write a subject and a body to see the email.")
        return
    try:
        rendered = data.preview(services, actor, contact_id=contact_id, subject=subject, body=body)
    except SalesAgentError as exc:
        show_error(exc, sources={"subject": subject, "body": body})
        return
    with st.container(border=True, key="tpl_preview"):
        st.markdown(f"**Subject:** {rendered.subject}")
        st.text(rendered.body)


def variables_help(snippet_names: list[str]) -> None:
    with st.expander("Variables and snippets you can use"):
        st.markdown("Variables: " + " ".join(f"`{{{{{v}}}}}`" for v in sorted(KNOWN_VARIABLES)))
        st.caption('Filters: `{{contact.first_name|default:"there"}}`, `|titlecase`, `|upper`, `|lower`, '
                   '`|date:"%d %B %Y"`; blocks: `{{#if x}}…{{else}}…{{/if}}`, `{{#unless x}}…{{/unless}}`.')
        if snippet_names:
            a, b = st.columns([3, 1], vertical_alignment="bottom")
            a.selectbox("Snippet", snippet_names, key="tpl_snippet", format_func=lambda n: f"{{{{> {n}}}}}")
            b.button("Insert into body", key="tpl_insert_snippet", on_click=_insert_snippet)


def history(template_id: int) -> None:
    versions = data.template_versions(services, actor, template_id)
    st.markdown("**Version history**")
    st.dataframe(pd.DataFrame([{"version": v.version, "saved": fmt_dt(v.created_at), "subject": v.subject,
                                "variables": ", ".join(v.variables)} for v in versions]),
                 hide_index=True, key="tpl_versions")
    by_number = {v.version: v for v in versions}
    number = st.selectbox("View version", list(by_number), key=f"tpl_view_version_{template_id}",
                          format_func=lambda n: f"version {n}")
    version = by_number[number]
    st.code(f"Subject: {version.subject}\n\n{version.body}", language=None, wrap_lines=True)
    st.button("Copy this version into the editor", key="tpl_restore", on_click=_restore,
              args=(version.subject, version.body), disabled=number == versions[0].version)


def editor() -> None:
    options = [NEW, *all_templates]
    if st.session_state.get("templates_pick") not in options:
        st.session_state["templates_pick"] = options[1] if len(options) > 1 else NEW
    pick = st.selectbox("Template", options, key="templates_pick",
                        format_func=lambda i: "+ New template" if i == NEW else all_templates[i].name)
    if st.session_state.get("tpl_loaded") != pick or "tpl_body" not in st.session_state:
        _fill_editor(all_templates.get(pick))
    existing = pick != NEW
    snippet_names = [sn.name for sn in data.snippets(services, actor)]

    left, right = st.columns([3, 2])
    with left:
        a, b = st.columns([2, 1])
        a.text_input("Name", key="tpl_name", disabled=existing)
        b.selectbox("Category", [c.value for c in TemplateCategory], format_func=label, key="tpl_category",
                    disabled=existing)
        st.text_input("Subject", key="tpl_subject")
        st.text_area("Body", key="tpl_body", height=320)
        variables_help(snippet_names)
        show_flash("templates_editor")
        if allowed(actor, "templates", UPDATE if existing else CREATE):
            st.button("Save as new version" if existing else "Create template", key="tpl_save",
                      type="primary", on_click=_save, args=(services, actor))
    with right:
        preview(st.session_state.get("tpl_subject", ""), st.session_state.get("tpl_body", ""))
    if existing:
        history(pick)


def snippets_tab() -> None:
    items = data.snippets(services, actor)
    frame = pd.DataFrame([{"name": sn.name, "category": label(sn.category), "content": sn.content,
                           "variables": ", ".join(sn.variables)} for sn in items],
                         columns=["name", "category", "content", "variables"])
    st.dataframe(frame, hide_index=True, key="snippets_table")
    if not allowed(actor, "snippets", CREATE):
        return
    st.markdown("**New snippet**")
    show_flash("snippets_new")
    with st.form("snippets_new_form"):
        a, b = st.columns(2)
        a.text_input("Name (lowercase, digits, - or _)", key="snippet_new_name")
        b.selectbox("Category", [c.value for c in SnippetCategory], format_func=label,
                    key="snippet_new_category")
        st.text_area("Content", key="snippet_new_content", height=120)
        st.form_submit_button("Create snippet", key="snippets_new_submit", type="primary",
                              on_click=_create_snippet, args=(services, actor))


st.title("Templates")
tab_editor, tab_list, tab_snippets = st.tabs(["Editor", "All templates", "Snippets"], key="templates_tabs")
with tab_editor:
    editor()
with tab_list:
    template_list()
with tab_snippets:
    snippets_tab()
