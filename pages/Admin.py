"""Admin: users (create, invite, roles, suspend, reset password), API keys, audit log, activity."""

from __future__ import annotations

import streamlit as st

from core.auth.api_keys import known_scopes
from core.auth.models import Role
from core.auth.permissions import READ, UPDATE, allowed
from ui import admin
from ui.admin import attempt
from ui.runtime import current_actor, start_rerun
from ui.widgets import csv_download

services = start_rerun("Admin")
actor = current_actor(services)
if not (allowed(actor, "users", UPDATE) or allowed(actor, "audit", READ)):
    st.error("The Admin page is for administrators.")
    st.stop()

st.title("Admin")
error = st.session_state.pop("admin_error", None)
if error:
    st.error(error)
result = st.session_state.pop("admin_result", None)
if result:
    st.success(result["message"])
    for field in ("link", "secret"):
        if result.get(field):
            st.code(result[field], language=None)

users_tab, keys_tab, audit_tab, activity_tab = st.tabs(["Users", "API keys", "Audit log", "Activity"])

with users_tab:
    people = admin.users(services, actor)
    st.dataframe(admin.users_frame(people), hide_index=True, key="admin_users_table")
    if allowed(actor, "users", UPDATE):
        with st.form("admin_new_user", clear_on_submit=True):
            st.subheader("Add a user")
            email = st.text_input("Email", key="admin_new_email")
            name = st.text_input("Name", key="admin_new_name")
            roles = st.multiselect("Roles", list(Role), default=[Role.sales_rep], key="admin_new_roles")
            invite = st.checkbox("Send an invite link instead of setting a password", value=True,
                                 key="admin_new_invite")
            password = st.text_input("Password (when not inviting)", type="password", key="admin_new_password")
            if st.form_submit_button("Add user", type="primary"):
                attempt(admin.do_create_user, services, actor, email, name, roles, invite, password)
                st.rerun()
        by_label = {f"{u.name} <{u.email}>": u for u in people}
        chosen = st.selectbox("Manage user", list(by_label), key="admin_pick_user")
        if chosen:
            user = by_label[chosen]
            new_roles = st.multiselect("Roles", list(Role), default=[Role(r) for r in user.roles],
                                       key=f"admin_roles_{user.id}")
            cols = st.columns(3)
            cols[0].button("Save roles", key="admin_save_roles", on_click=attempt,
                           args=(admin.do_change_roles, services, actor, user.id, new_roles))
            suspended = user.status.value == "suspended"
            cols[1].button("Reactivate" if suspended else "Suspend", key="admin_suspend", on_click=attempt,
                           args=(admin.do_suspend, services, actor, user.id, not suspended))
            cols[2].button("Password reset link", key="admin_reset", on_click=attempt,
                           args=(admin.do_reset_link, services, actor, user.id))

with keys_tab:
    keys = admin.keys_frame(services, actor)
    st.dataframe(keys, hide_index=True, key="admin_keys_table")
    if allowed(actor, "api_keys", UPDATE):
        with st.form("admin_new_key", clear_on_submit=True):
            st.subheader("Create an API key")
            people = admin.users(services, actor)
            owner = st.selectbox("For user", people, format_func=lambda u: u.email, key="admin_key_user")
            key_name = st.text_input("Name (what uses it)", key="admin_key_name")
            scopes = st.multiselect("Scopes", known_scopes(), default=["read:contacts"], key="admin_key_scopes")
            days = st.number_input("Expires after days (0 = never)", min_value=0, value=90, key="admin_key_days")
            if st.form_submit_button("Create key", type="primary") and owner is not None:
                attempt(admin.do_create_key, services, actor, owner.id, key_name or "API key", scopes, int(days))
                st.rerun()
        active = keys[keys["revoked"].isna()] if not keys.empty else keys
        if not active.empty:
            key_id = st.selectbox("Key", active["id"].tolist(), key="admin_pick_key",
                                  format_func=lambda i: f"{i} · {active.set_index('id').loc[i, 'prefix']}")
            rotate_col, revoke_col = st.columns(2)
            rotate_col.button("Rotate", key="admin_rotate_key", on_click=attempt,
                           args=(admin.do_rotate_key, services, actor, int(key_id)))
            revoke_col.button("Revoke", key="admin_revoke_key", on_click=attempt,
                           args=(admin.do_revoke_key, services, actor, int(key_id)))

with audit_tab:
    if allowed(actor, "audit", READ):
        cols = st.columns(3)
        who = cols[0].text_input("Actor email", key="admin_audit_actor") or None
        what = cols[1].text_input("Resource type (contact, user, api_key…)", key="admin_audit_resource") or None
        action = cols[2].text_input("Action (create, update, delete…)", key="admin_audit_action") or None
        frame = admin.audit_frame(services, actor, actor_label=who, resource_type=what, action=action)
        st.dataframe(frame, hide_index=True, key="admin_audit_table")
        csv_download(frame, "audit-log.csv", key="admin_audit_csv")

with activity_tab:
    if allowed(actor, "audit", READ):
        st.dataframe(admin.activity_frame(services, actor), hide_index=True, key="admin_activity_table")
