"""Regenerating a proposal with an instruction while the offline composer drafts (no model configured): the
instructions it can follow change the text, the others leave a content warning on the proposal."""

from __future__ import annotations

import re

import pytest

from core.ai.constraints import _CONTRACTION
from core.ai.instructions import OFFLINE_NOTICE, read_instruction
from core.ai.schemas import Fact, Purpose
from core.auth.actor import Actor
from core.integrations.llm import OpenAICompatibleModel
from core.queue import batches, service, work
from core.queue.schemas import BulkInput, ProposalView
from core.services import Services, build_services
from tests import factories
from tests.fakes.openai_server import Reply, running_openai, variants_for


def _proposals(services: Services, actor: Actor) -> list[ProposalView]:
    company = factories.company(services, actor, name="Northwind Freight", industry="Logistics",
                                employee_count=1800)
    contact = factories.contact(services, actor, company_domain=company.domain, title="VP Operations",
                                first_name="Lena", technologies=["Salesforce"])
    ids = service.add_bulk(services.uow(), actor=actor, data=BulkInput(contact_ids=[contact.id])).added
    batches.run_job(services, batches.start_research(services.uow(), actor=actor, entry_ids=ids).id)
    batches.run_job(services, batches.start_proposals(services.uow(), actor=actor, entry_ids=ids).id)
    proposals = service.get_entry(services.uow(), actor=actor, entry_id=ids[0]).proposal_list
    assert services.llm.offline and all(p.offline for p in proposals)
    return proposals


def _regenerate(services: Services, actor: Actor, p: ProposalView, instruction: str) -> ProposalView:
    return work.regenerate_variant(services, actor=actor, proposal_id=p.id, instruction=instruction)


def _instruction_warnings(p: ProposalView) -> list[str]:
    return [w for w in p.content_warnings if w.startswith("Instruction not followed")]


def _words(text: str) -> int:
    return len(text.split())


def test_shorter(services: Services, rep: Actor) -> None:
    p = _proposals(services, rep)[0]
    new = _regenerate(services, rep, p, "a bit shorter please")
    assert _words(new.body) < _words(p.body)
    assert new.body.startswith("Hi Lena,") and "Would a short call next week be useful?" in new.body
    assert _instruction_warnings(new) == [] and new.instruction == "a bit shorter please"


def test_longer_adds_a_fact_not_used_yet_and_cites_it(services: Services, rep: Actor) -> None:
    p = _proposals(services, rep)[0]
    new = _regenerate(services, rep, p, "make it longer")
    assert _words(new.body) > _words(p.body)
    assert len(new.citations) > len(p.citations)
    assert _instruction_warnings(new) == []


def test_more_formal(services: Services, rep: Actor) -> None:
    p = _proposals(services, rep)[1]  # the role angle: "you're probably measured on ..."
    assert _CONTRACTION.search(p.body)
    new = _regenerate(services, rep, p, "more formal")
    assert new.body.startswith("Dear Lena,")
    assert "Kind regards," in new.body and not _CONTRACTION.search(new.body)
    assert "you are probably measured" in new.body
    assert new.content_warnings == []  # the greeting the checker expects is the formal one


def test_more_casual(services: Services, rep: Actor) -> None:
    p = _proposals(services, rep)[0]
    new = _regenerate(services, rep, p, "less formal, friendlier")
    assert new.body.startswith("Hey Lena,") and "Cheers," in new.body
    assert new.content_warnings == []


def test_ask_a_question(services: Services, rep: Actor) -> None:
    p = _proposals(services, rep)[0]
    new = _regenerate(services, rep, p, "end with a question")
    question = re.search(r"How are you handling [^?]+ today\?", new.body)
    assert question is not None and question.group(0) not in p.body
    assert new.body.index(question.group(0)) < new.body.index("Would a short call next week be useful?")
    assert _instruction_warnings(new) == []


def test_mention_a_research_fact(services: Services, rep: Actor) -> None:
    p = _proposals(services, rep)[1]
    assert "Salesforce" not in p.body
    new = _regenerate(services, rep, p, "mention their tech stack")
    assert "I noticed your team at Northwind Freight works with Salesforce." in new.body
    assert {"fact": "technology: Salesforce", "source": "contacts.technologies"} in new.citations
    assert _instruction_warnings(new) == []


def test_mention_something_the_research_does_not_know_adds_nothing_and_warns(services: Services,
                                                                              rep: Actor) -> None:
    p = _proposals(services, rep)[0]
    new = _regenerate(services, rep, p, "mention their expansion into Asia")
    assert "expansion" not in new.body.lower() and "asia" not in new.body.lower()
    assert _instruction_warnings(new) == [
        'Instruction not followed: asked to mention "their expansion into Asia", but no research fact is about '
        "it, so nothing was added (a draft states only what the research supports)."]


def test_unsupported_instruction_is_said_in_a_warning(services: Services, rep: Actor) -> None:
    p = _proposals(services, rep)[0]
    new = _regenerate(services, rep, p, "make it punchier, and add a question")
    assert _instruction_warnings(new) == [
        'Instruction not followed: "make it punchier" is not an instruction the offline composer can follow; '
        "configure a language model for free-form instructions."]
    assert "today?" in new.body  # the part it can follow was followed
    shown = service.get_entry(services.uow(), actor=rep, entry_id=p.entry_id).proposal_list[0]
    assert shown.content_warnings == new.content_warnings  # stored on the proposal the page shows


def test_shorter_when_nothing_is_left_to_cut_warns(services: Services, rep: Actor) -> None:
    p = _proposals(services, rep)[0]
    for _ in range(4):
        p = _regenerate(services, rep, p, "shorter")
    assert _instruction_warnings(p) and "not shorter" in _instruction_warnings(p)[0]


def test_a_model_gets_the_instruction_as_text_and_no_offline_warning(services: Services, rep: Actor) -> None:
    p = _proposals(services, rep)[0]
    with running_openai(lambda _body: Reply(content=variants_for("Lena", "Northwind Freight"))) as server:
        model = OpenAICompatibleModel(base_url=server.base_url, api_key="sk-test",
                                      models={purpose: "gpt-4o-mini" for purpose in Purpose}, timeout=2.0)
        with_model = build_services(services.settings, engine=services.engine, llm=model)
        new = _regenerate(with_model, rep, p, "make it punchier")
        prompts = server.user_prompts()
    assert not new.offline and _instruction_warnings(new) == []
    assert prompts and all("The rep asks: make it punchier" in prompt for prompt in prompts)


@pytest.mark.parametrize(("instruction", "expected"), [
    ("shorter", {"shorter"}),
    ("Tighten it up; more formal", {"shorter", "formal"}),
    ("less formal", {"casual"}),
    ("add more detail and end with a question", {"longer", "question"}),
    ("mention their headcount and make it shorter", {"shorter", "mention:employees"}),
    ("shorter and longer", set()),
])
def test_reading_instructions(instruction: str, expected: set[str]) -> None:
    facts = [Fact(label="company", value="Northwind", source="companies.name"),
             Fact(label="employees", value="1,800", source="companies.employee_count")]
    read = read_instruction(instruction, facts)
    found = {name for name in ("shorter", "longer", "formal", "casual", "question") if getattr(read, name)}
    found |= {f"mention:{f.label}" for f in read.mention}
    assert found == expected
    assert bool(read.not_followed) == (instruction == "shorter and longer")


def test_casual_is_not_offered_in_languages_written_formally() -> None:
    read = read_instruction("more casual", [], language="de")
    assert not read.casual and "formal address only" in read.not_followed[0]
    assert "more formal" in OFFLINE_NOTICE and "mention" in OFFLINE_NOTICE
