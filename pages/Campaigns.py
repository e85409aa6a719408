"""Campaigns: stats table (rates as percentages) and chart, detail with members and stats, attach a
template, add contacts, change status, create form, CSV export. Logic lives in core.campaigns."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from core.auth.actor import Actor
from core.auth.permissions import CREATE, UPDATE, allowed
from core.campaigns import service as campaigns_service
from core.campaigns.models import CampaignStatus, CampaignType
from core.campaigns.schemas import CampaignInput, CampaignView
from core.services import Services
from ui import data
from ui.runtime import current_actor, start_rerun
from ui.widgets import attempt, csv_download, ensure_navigation, label, pct, reset, show_flash

NEW_FORM_KEYS = ("campaigns_new_name", "campaigns_new_type", "campaigns_new_status",
                 "campaigns_new_description", "campaigns_new_starts", "campaigns_new_ends")

ensure_navigation()
services = start_rerun("Campaigns")
actor = current_actor(services)
all_campaigns = data.campaigns(services, actor)
templates = {t.id: t.name for t in data.templates(services, actor)}


def stats_frame(campaigns: list[CampaignView]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"campaign": c.name, "type": label(c.type), "status": label(c.status),
          "starts": c.starts_on, "ends": c.ends_on, "members": c.stats.total_contacts,
          "sent": c.stats.sent, "opened": c.stats.opened, "clicked": c.stats.clicked,
          "replied": c.stats.replied, "open rate %": pct(c.stats.open_rate),
          "click rate %": pct(c.stats.click_rate), "reply rate %": pct(c.stats.reply_rate)}
         for c in campaigns],
        columns=["campaign", "type", "status", "starts", "ends", "members", "sent", "opened", "clicked",
                 "replied", "open rate %", "click rate %", "reply rate %"])


def _create(services: Services, actor: Actor) -> None:
    s = st.session_state
    created = attempt("campaigns_new", lambda: campaigns_service.create_campaign(
        services.uow(), actor=actor, data=CampaignInput(
            name=s.get("campaigns_new_name", ""), type=CampaignType(s["campaigns_new_type"]),
            status=CampaignStatus(s["campaigns_new_status"]),
            description=s.get("campaigns_new_description") or None,
            starts_on=s.get("campaigns_new_starts"), ends_on=s.get("campaigns_new_ends"))),
        areas=["campaigns"], success=lambda c: f"Created campaign {c.name}.")
    if created is not None:
        reset(*NEW_FORM_KEYS)
        s["campaigns_open"] = created.id


def _attach(services: Services, actor: Actor, campaign_id: int) -> None:
    template_id = st.session_state.get("campaign_template")
    if template_id is None:
        return
    attempt("campaign_detail", lambda: campaigns_service.attach_template(
        services.uow(), actor=actor, campaign_id=campaign_id, template_id=template_id),
        areas=["campaigns"], success=f"Attached {templates.get(template_id, 'the template')}.")


def _add_contacts(services: Services, actor: Actor, campaign_id: int) -> None:
    ids = list(st.session_state.get("campaign_add_contacts", []))
    if not ids:
        return
    added = attempt("campaign_detail", lambda: campaigns_service.add_contacts(
        services.uow(), actor=actor, campaign_id=campaign_id, contact_ids=ids), areas=["campaigns"],
        success=lambda n: f"Added {n} contact(s); {len(ids) - n} were already members.")
    if added is not None:
        reset("campaign_add_contacts")


def _set_status(services: Services, actor: Actor, campaign_id: int) -> None:
    status = CampaignStatus(st.session_state["campaign_status"])
    attempt("campaign_detail", lambda: campaigns_service.set_campaign_status(
        services.uow(), actor=actor, campaign_id=campaign_id, status=status),
        areas=["campaigns"], success=f"Status set to {label(status)}.")


def overview() -> None:
    frame = stats_frame(all_campaigns)
    st.dataframe(frame, hide_index=True, key="campaigns_table", column_config={
        name: st.column_config.NumberColumn(name, format="%.1f%%")
        for name in ("open rate %", "click rate %", "reply rate %")})
    csv_download(frame, "campaign-stats.csv", key="campaigns_csv", label="Download stats as CSV")
    started = frame[frame["sent"] > 0]
    if not started.empty:
        rates = started.melt(id_vars="campaign", value_vars=["open rate %", "click rate %", "reply rate %"],
                             var_name="rate", value_name="percent")
        fig = px.bar(rates, x="campaign", y="percent", color="rate", barmode="group", text_auto=".1f")
        fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10}, xaxis_title="",
                          yaxis_title="% of sent", legend_title_text="")
        st.plotly_chart(fig, key="campaigns_chart")


def detail() -> None:
    by_id = {c.id: c for c in all_campaigns}
    if not by_id:
        st.info("No campaigns yet — create one in the next tab.")
        return
    if st.session_state.get("campaigns_open") not in by_id:
        st.session_state.pop("campaigns_open", None)
    campaign_id = st.selectbox("Campaign", list(by_id), key="campaigns_open",
                               format_func=lambda i: by_id[i].name)
    c = by_id[campaign_id]
    show_flash("campaign_detail")
    st.caption(f"{label(c.type)} · {label(c.status)} · {c.starts_on or '—'} → {c.ends_on or '—'}"
               + (f" · {c.description}" if c.description else ""))
    m = st.columns(5)
    m[0].metric("Members", c.stats.total_contacts, border=True)
    m[1].metric("Sent", c.stats.sent, border=True)
    m[2].metric("Open rate", f"{pct(c.stats.open_rate)}%", border=True)
    m[3].metric("Click rate", f"{pct(c.stats.click_rate)}%", border=True)
    m[4].metric("Reply rate", f"{pct(c.stats.reply_rate)}%", border=True)

    if not allowed(actor, "campaigns", UPDATE):
        return
    left, right = st.columns(2)
    with left, st.container(border=True):
        st.markdown("**Templates**")
        attached = [templates.get(t, f"template #{t}") for t in c.template_ids]
        st.markdown(", ".join(attached) if attached else "_none attached_")
        options = [t for t in templates if t not in c.template_ids]
        if options:
            st.selectbox("Template to attach", options, key="campaign_template",
                         format_func=lambda t: templates[t])
            st.button("Attach template", key="campaign_attach", on_click=_attach,
                      args=(services, actor, c.id))
    with right, st.container(border=True):
        st.markdown("**Status**")
        statuses = [s.value for s in CampaignStatus]
        st.selectbox("New status", statuses, index=statuses.index(c.status.value), format_func=label,
                     key="campaign_status")
        st.button("Change status", key="campaign_set_status", on_click=_set_status,
                  args=(services, actor, c.id))

    with st.container(border=True):
        st.markdown("**Add contacts**")
        search = st.text_input("Find contacts", key="campaign_contact_search",
                               placeholder="name, email or title")
        found = data.contact_choices(services, actor, search.strip(), limit=50)
        # Picks survive a new search: keep their labels and list them first.
        labels: dict[int, str] = st.session_state.setdefault("campaign_contact_labels", {})
        labels.update(found)
        chosen = list(st.session_state.get("campaign_add_contacts", []))
        st.multiselect("Contacts to add", list(dict.fromkeys([*chosen, *found])), key="campaign_add_contacts",
                       format_func=lambda i: labels.get(i, str(i)))
        st.button("Add to campaign", key="campaign_add", on_click=_add_contacts, args=(services, actor, c.id))


def new_campaign() -> None:
    show_flash("campaigns_new")
    with st.form("campaigns_new_form"):
        st.text_input("Name *", key="campaigns_new_name")
        a, b = st.columns(2)
        a.selectbox("Type", [t.value for t in CampaignType], format_func=label, key="campaigns_new_type")
        b.selectbox("Status", [s.value for s in CampaignStatus], format_func=label,
                    key="campaigns_new_status")
        st.text_area("Description", key="campaigns_new_description", height=80)
        a, b = st.columns(2)
        a.date_input("Starts on", value=None, key="campaigns_new_starts")
        b.date_input("Ends on", value=None, key="campaigns_new_ends")
        st.form_submit_button("Create campaign", key="campaigns_new_submit", type="primary", on_click=_create,
                              args=(services, actor))


st.title("Campaigns")
tab_all, tab_detail, tab_new = st.tabs(["All campaigns", "Campaign detail", "New campaign"],
                                       key="campaigns_tabs")
with tab_all:
    overview()
with tab_detail:
    detail()
with tab_new:
    if allowed(actor, "campaigns", CREATE):
        new_campaign()
    else:
        st.caption("Your role may not create campaigns.")
