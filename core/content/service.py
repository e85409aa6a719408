"""Templates (versioned), content-library snippets and rendering previews."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.models import User
from core.auth.permissions import CREATE, READ, UPDATE, require
from core.campaigns.models import Campaign
from core.content.context import build_context
from core.content.models import EmailTemplate, Snippet, TemplateCategory, TemplateVersion
from core.content.schemas import (
    RenderedEmail,
    SnippetInput,
    SnippetView,
    TemplateInput,
    TemplateVersionView,
    TemplateView,
)
from core.content.templating import KNOWN_VARIABLES, CompiledTemplate, check_variables, compile_template
from core.crm.models import Contact
from core.errors import Conflict, NotFound, ValidationFailed
from core.uow import UnitOfWork


def _compile(field: str, source: str) -> CompiledTemplate:
    """Compile and check one field; errors name the field, and the line and variables where known."""
    try:
        compiled = compile_template(source)
        check_variables(compiled, KNOWN_VARIABLES)
    except ValidationFailed as exc:
        details: dict[str, object] = {"field": field}
        for attr in ("line", "column", "names"):
            if getattr(exc, attr, None) is not None:
                details[attr] = getattr(exc, attr)
        raise ValidationFailed(f"{field}: {exc.message}", details=details) from exc
    return compiled


def validate_template(session: Session, subject: str, body: str) -> list[str]:
    """Compile subject and body, refuse unknown variables and snippets; returns the variables used."""
    used: set[str] = set()
    snippet_names: set[str] = set()
    for field, source in (("subject", subject), ("body", body)):
        compiled = _compile(field, source)
        used |= compiled.variables
        snippet_names |= compiled.snippets
    if snippet_names:
        found = set(session.scalars(select(Snippet.name).where(Snippet.name.in_(snippet_names))))
        missing = sorted(snippet_names - found)
        if missing:
            raise ValidationFailed(f"body: unknown snippet(s): {', '.join(missing)}",
                                   details={"field": "body", "names": missing})
        for content in session.scalars(select(Snippet.content).where(Snippet.name.in_(snippet_names))):
            used |= compile_template(content).variables
    return sorted(used)


def _template_view(template: EmailTemplate) -> TemplateView:
    return TemplateView(id=template.id, name=template.name, category=template.category,
                        archived=template.archived,
                        latest=TemplateVersionView.model_validate(template.latest),
                        version_count=len(template.versions))


def _load_template(session: Session, template_id: int) -> EmailTemplate:
    template = session.get(EmailTemplate, template_id, options=[selectinload(EmailTemplate.versions)])
    if template is None:
        raise NotFound(f"template {template_id} not found")
    return template


def create_template(uow: UnitOfWork, *, actor: Actor, data: TemplateInput) -> TemplateView:
    require(actor, "templates", CREATE)
    with uow:
        session = uow.session
        if session.scalar(select(EmailTemplate.id).where(EmailTemplate.name == data.name)) is not None:
            raise Conflict(f"a template named {data.name!r} already exists")
        variables = validate_template(session, data.subject, data.body)
        template = EmailTemplate(name=data.name, category=data.category, owner_id=actor.user_id)
        template.versions.append(TemplateVersion(version=1, subject=data.subject, body=data.body,
                                                 variables=variables, created_by_id=actor.user_id))
        session.add(template)
        session.flush()
        audit.record(session, actor, "create", "template", template.id,
                     {"name": data.name, "category": data.category, "version": 1})
        view = _template_view(template)
        uow.commit()
    return view


def save_template_version(
    uow: UnitOfWork, *, actor: Actor, template_id: int, subject: str, body: str,
) -> TemplateView:
    """Each save is a new version; earlier versions stay for the drafts made from them."""
    require(actor, "templates", UPDATE)
    with uow:
        session = uow.session
        template = _load_template(session, template_id)
        latest = template.latest
        if latest.subject == subject and latest.body == body:
            return _template_view(template)
        variables = validate_template(session, subject, body)
        version = latest.version + 1
        template.versions.append(TemplateVersion(version=version, subject=subject, body=body,
                                                 variables=variables, created_by_id=actor.user_id))
        session.flush()
        audit.record(session, actor, "update", "template", template.id, {"version": [latest.version, version]})
        view = _template_view(template)
        uow.commit()
    return view


def list_templates(
    uow: UnitOfWork, *, actor: Actor, category: TemplateCategory | None = None, include_archived: bool = False,
) -> list[TemplateView]:
    require(actor, "templates", READ)
    with uow:
        query = select(EmailTemplate).options(selectinload(EmailTemplate.versions)).order_by(EmailTemplate.name)
        if category is not None:
            query = query.where(EmailTemplate.category == category)
        if not include_archived:
            query = query.where(EmailTemplate.archived.is_(False))
        return [_template_view(t) for t in uow.session.scalars(query)]


def get_template(uow: UnitOfWork, *, actor: Actor, template_id: int) -> TemplateView:
    require(actor, "templates", READ)
    with uow:
        return _template_view(_load_template(uow.session, template_id))


def template_history(uow: UnitOfWork, *, actor: Actor, template_id: int) -> list[TemplateVersionView]:
    """Every version, newest first."""
    require(actor, "templates", READ)
    with uow:
        template = _load_template(uow.session, template_id)
        return [TemplateVersionView.model_validate(v) for v in reversed(template.versions)]


def _snippet_library(session: Session) -> dict[str, str]:
    return {name: content for name, content in session.execute(select(Snippet.name, Snippet.content))}


def render_for_contact(
    session: Session, *, subject: str, body: str, contact: Contact, sender: User | None,
    campaign: Campaign | None = None,
) -> RenderedEmail:
    context = build_context(contact, sender=sender, campaign=campaign)
    library = _snippet_library(session)
    return RenderedEmail(
        subject=compile_template(subject).render(context, snippets=library).strip(),
        body=compile_template(body).render(context, snippets=library),
    )


def preview_template(
    uow: UnitOfWork, *, actor: Actor, contact_id: int, subject: str, body: str,
) -> RenderedEmail:
    """Render unsaved text for one contact, so the editor shows errors and output live."""
    require(actor, "templates", READ)
    with uow:
        session = uow.session
        validate_template(session, subject, body)
        contact = session.get(Contact, contact_id, options=[selectinload(Contact.company)])
        if contact is None:
            raise NotFound(f"contact {contact_id} not found")
        sender = session.get(User, actor.user_id) if actor.user_id is not None else None
        return render_for_contact(session, subject=subject, body=body, contact=contact, sender=sender)


# Snippets ----------------------------------------------------------------------------------------


def _check_snippet(content: str) -> list[str]:
    compiled = _compile("content", content)
    if compiled.snippets:
        raise ValidationFailed("content: a snippet cannot include another snippet")
    return sorted(compiled.variables)


def create_snippet(uow: UnitOfWork, *, actor: Actor, data: SnippetInput) -> SnippetView:
    require(actor, "snippets", CREATE)
    variables = _check_snippet(data.content)
    with uow:
        if uow.session.scalar(select(Snippet.id).where(Snippet.name == data.name)) is not None:
            raise Conflict(f"a snippet named {data.name!r} already exists")
        snippet = Snippet(name=data.name, content=data.content, category=data.category, variables=variables)
        uow.session.add(snippet)
        uow.session.flush()
        audit.record(uow.session, actor, "create", "snippet", snippet.id, audit.snapshot_of(snippet))
        view = SnippetView.model_validate(snippet)
        uow.commit()
    return view


def update_snippet(uow: UnitOfWork, *, actor: Actor, snippet_id: int, content: str) -> SnippetView:
    require(actor, "snippets", UPDATE)
    variables = _check_snippet(content)
    with uow:
        snippet = uow.session.get(Snippet, snippet_id)
        if snippet is None:
            raise NotFound(f"snippet {snippet_id} not found")
        snippet.content = content
        snippet.variables = variables
        audit.record(uow.session, actor, "update", "snippet", snippet.id, audit.changes_of(snippet))
        uow.session.flush()
        view = SnippetView.model_validate(snippet)
        uow.commit()
    return view


def list_snippets(uow: UnitOfWork, *, actor: Actor) -> list[SnippetView]:
    require(actor, "snippets", READ)
    with uow:
        rows = uow.session.scalars(select(Snippet).order_by(Snippet.category, Snippet.name))
        return [SnippetView.model_validate(s) for s in rows]


def count_templates(uow: UnitOfWork, *, actor: Actor) -> int:
    require(actor, "templates", READ)
    with uow:
        return uow.session.scalar(select(func.count(EmailTemplate.id))) or 0
