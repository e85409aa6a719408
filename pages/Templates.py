"""Templates: list by category, an editor with a live preview for a chosen contact (errors inline with
their line), variables and snippets to insert, versioned saves and history; plus the snippet library."""

from __future__ import annotations

from typing import Any

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
DRAFT = "tpl_draft"
FIELDS = ("name", "category", "subject", "body")

ensure_navigation()
services = start_rerun("Templates")
actor = current_actor(services)
all_templates = {t.id: t for t in data.templates(services, actor)}

# The editor's source of truth is the draft, a plain session key: Streamlit never drops it and a browser
# never overwrites it. Its widgets are keyed by the draft's generation and get their values from it only as
# defaults; no widget key is ever written by code. So a browser that mounts them at their defaults — fresh,
# after missing a rerun's update (a sign-in rerun racing the page switch), or after Streamlit dropped their
# state — still shows the draft, never "+ New template" with an empty body. Every change made by code
# (another template, a snippet, a restored version, a save) starts a new generation: new widgets, new
# defaults, and no stale value from the browser can land on them.


def _draft() -> dict[str, Any]:
    draft: dict[str, Any] = st.session_state[DRAFT]
    return draft


def _load(template: TemplateView | None) -> None:
    """Point the editor at a template's latest version, or at a blank new template."""
    generation = int(st.session_state.get(DRAFT, {}).get("generation", 0)) + 1
    subject, body = (template.latest.subject, template.latest.body) if template else ("", "")
    st.session_state[DRAFT] = {
        "template_id": template.id if template else NEW, "version": template.latest.version if template else 0,
        "name": template.name if template else "",
        "category": (template.category if template else TemplateCategory.prospecting).value,
        "subject": subject, "body": body, "loaded": (subject, body), "generation": generation}


def _key(field: str) -> str:
    return f"tpl_{field}_{_draft()['generation']}"


def _sync() -> dict[str, Any]:
    """The draft with what the user typed since the last rerun (the widgets' values, when Streamlit has them)."""
    draft = _draft()
    for field in FIELDS:
        value = st.session_state.get(_key(field))
        if isinstance(value, str):
            draft[field] = value
    return draft


def _change(**fields: str) -> None:
    """A change made by code: keep the user's edits, apply it, and start a new generation of widgets."""
    draft = _sync()
    draft.update(fields, generation=draft["generation"] + 1)


def _save(services: Services, actor: Actor) -> None:
    draft = _sync()

    def save() -> TemplateView:
        if draft["template_id"] == NEW:
            return content_service.create_template(services.uow(), actor=actor, data=TemplateInput(
                name=draft["name"], category=TemplateCategory(draft["category"]), subject=draft["subject"],
                body=draft["body"]))
        return content_service.save_template_version(
            services.uow(), actor=actor, template_id=draft["template_id"], subject=draft["subject"],
            body=draft["body"])

    saved = attempt("templates_editor", save, areas=["templates"],
                    success=lambda t: f"Saved {t.name}, version {t.latest.version}.")
    if saved is not None:
        _load(saved)


def _insert_snippet() -> None:
    name = st.session_state.get("tpl_snippet")
    if name:
        body, tag = _sync()["body"], f"{{{{> {name}}}}}"
        _change(body=f"{body.rstrip()}\n\n{tag}" if body.strip() else tag)


def _restore(version_subject: str, version_body: str) -> None:
    _change(subject=version_subject, body=version_body)


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


def _pick_template() -> int:
    options = [NEW, *all_templates]
    draft = st.session_state.get(DRAFT)
    if draft is None or draft["template_id"] not in options:
        _load(all_templates[options[1]] if len(options) > 1 else None)
    draft = _sync()
    pick: int = st.selectbox("Template", options, index=options.index(draft["template_id"]),
                             key=f"templates_pick_{draft['generation']}",
                             format_func=lambda i: "+ New template" if i == NEW else all_templates[i].name)
    chosen = all_templates.get(pick)
    unedited = (draft["subject"], draft["body"]) == draft["loaded"]
    if pick != draft["template_id"] or (chosen is not None and unedited and chosen.latest.version != draft["version"]):
        _load(chosen)  # another template, or a newer version of an untouched one
    return pick


def editor() -> None:
    pick = _pick_template()
    draft = _draft()
    existing = pick != NEW
    snippet_names = [sn.name for sn in data.snippets(services, actor)]
    categories = [c.value for c in TemplateCategory]

    left, right = st.columns([3, 2])
    with left:
        a, b = st.columns([2, 1])
        a.text_input("Name", value=draft["name"], key=_key("name"), disabled=existing)
        b.selectbox("Category", categories, index=categories.index(draft["category"]), format_func=label,
                    key=_key("category"), disabled=existing)
        st.text_input("Subject", value=draft["subject"], key=_key("subject"))
        st.text_area("Body", value=draft["body"], key=_key("body"), height=320)
        variables_help(snippet_names)
        show_flash("templates_editor")
        if allowed(actor, "templates", UPDATE if existing else CREATE):
            st.button("Save as new version" if existing else "Create template", key="tpl_save",
                      type="primary", on_click=_save, args=(services, actor))
    with right:
        preview(draft["subject"], draft["body"])
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
