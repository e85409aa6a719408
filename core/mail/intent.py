"""What a reply means: interested, not interested, unsubscribe request, referral, out of office (or neutral).

The configured model classifies when there is one; otherwise (and when the model fails) the offline
classifier below does, from phrase patterns in English, German, Spanish and French. Its accuracy on the
labelled replies in tests/fixtures/reply_intents.jsonl is printed by tests/unit/mail/test_reply_intent.py.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from core.errors import ConnectorError
from core.logging import get_logger

log = get_logger(__name__)


class ReplyIntent(StrEnum):
    interested = "interested"
    not_interested = "not_interested"
    unsubscribe_request = "unsubscribe_request"
    referral = "referral"
    out_of_office = "out_of_office"
    neutral = "neutral"


SENTIMENT = {ReplyIntent.interested: "positive", ReplyIntent.referral: "positive",
             ReplyIntent.not_interested: "negative", ReplyIntent.unsubscribe_request: "negative",
             ReplyIntent.out_of_office: "neutral", ReplyIntent.neutral: "neutral"}

_F = re.IGNORECASE
# Checked in this order: a request to stop beats everything, "not interested" beats "interested".
_PATTERNS: list[tuple[ReplyIntent, re.Pattern[str]]] = [
    (ReplyIntent.unsubscribe_request, re.compile(
        r"\b(unsubscribe|remove me|take me off|opt(ed)? me out|stop (e-?mailing|emailing|contacting|sending|writing)|"
        r"do not (contact|email|e-mail|write)|don'?t (contact|email|e-mail|write to) me|delete my (data|address)|"
        r"no more (e-?mails|messages)|mailing list|gdpr|"
        r"austragen|abmelden|keine (weiteren )?(e-?mails|nachrichten)|nicht mehr (kontaktieren|anschreiben|schreiben)|"
        r"l[öo]schen sie meine|"
        r"darme de baja|dar de baja|no me (escriba|contacte|env[íi]e)|elimin(e|ar|en) mi (correo|direcci[óo]n)|"
        r"d[ée]sinscri|d[ée]sabonn|retirez[- ]moi|ne (plus )?m'?[ée]crivez plus|ne me contactez plus|"
        r"supprimez mon)", _F)),
    (ReplyIntent.out_of_office, re.compile(
        r"\b(out of (the )?office|on (annual |parental |maternity |paternity )?leave|on vacation|on holiday|"
        r"back (in the office )?on|return(ing)? on|i'?m travell?ing|when i'?m back|limited access to (my )?e-?mail|"
        r"nicht im b[üu]ro|im urlaub|abwesend|zur[üu]ck am|"
        r"fuera de la oficina|de vacaciones|regreso el|estar[ée] ausente|"
        r"absent|en cong[ée]s?|en vacances|de retour le)\b", _F)),
    (ReplyIntent.referral, re.compile(
        r"\b(the right person|better person|best person|(you should|please|try) (reach out to|contact|speak to|talk to|"
        r"email)|reach out to|handles? (this|that|these|our)|in charge of|responsible for|"
        r"i'?ve (cc'?d|copied|looped in)|"
        r"cc'?ing|owns (this|that)|forwarded (this|your (email|note|message)) to|looping in|"
        r"richtige ansprechpartner|zust[äa]ndig|wenden sie sich an|leite (das|ihre (e-?mail|nachricht)) weiter|"
        r"la persona (adecuada|indicada)|encargad[oa] de|resp[oó]nsable de|le reenv[íi]o|contacte con|"
        r"la bonne personne|en charge de|responsable de|je transf[èe]re|contactez plut[ôo]t)", _F)),
    (ReplyIntent.not_interested, re.compile(
        r"\b(not interested|no interest|not (a )?(good )?fit|not (a )?priority|no need|no thanks|no, thanks|"
        r"not (at this time|right now|for us)|we('re| are) (all )?set|already (have|use|work with)|pass on this|"
        r"we('ll| will) pass|don'?t need|do not need|not looking|no budget|not relevant|"
        r"kein interesse|nicht interessiert|kein bedarf|haben bereits|gut versorgt|brauchen (wir )?(das )?nicht|"
        r"no (nos )?interesa|no estamos interesados|no tenemos (inter[ée]s|necesidad)|ya (tenemos|usamos|trabajamos)|"
        r"pas int[ée]ress[ée]s?|pas (de )?besoin|aucun int[ée]r[êe]t|nous avons d[ée]j[àa]|ne nous int[ée]resse pas)",
        _F)),
    (ReplyIntent.interested, re.compile(
        r"\b(interested|sounds (good|great|interesting)|let'?s (talk|chat|connect|meet|set up|schedule|find)|"
        r"happy to (talk|chat|connect|meet|hop on)|tell me more|send (me )?(more )?(info|details|information|a deck|"
        r"pricing)|book a (call|meeting|time|slot)|set up a (call|meeting|time)|schedule a (call|meeting|demo)|"
        r"what does your (calendar|schedule|week) look|(do|would) you have (time|a few minutes)|"
        r"when are you (free|available)|are you (free|available)|"
        r"(works|work) for me|can we (talk|meet|chat|schedule)|love to (learn|hear|see|talk|chat)|"
        r"would like (to learn|a demo|to see|to talk|more)|keen to|curious|worth a (chat|call|look)|"
        r"interessiert|interessant|spannend|zeit f[üu]r ein|gerne (mehr|einen termin|sprechen|telefonieren)|"
        r"lassen sie uns|termin|"
        r"schicken sie (mir )?(mehr|unterlagen|infos)|"
        r"me interesa|nos interesa|me gustar[íi]a saber|disponibilidad|interesante|hablemos|agendemos|"
        r"env[íi]e(me)? m[áa]s informaci[óo]n|"
        r"(una|agendar una) (llamada|reuni[óo]n)|"
        r"int[ée]ress[ée]|int[ée]ressant|parlons|un (appel|rendez-vous)|envoyez[- ]moi|volontiers|"
        r"disponible)", _F)),
]


def classify_offline(text: str) -> ReplyIntent:
    """First matching intent in precedence order; neutral when nothing matches."""
    sample = text[:3000]
    for intent, pattern in _PATTERNS:
        if pattern.search(sample):
            return intent
    return ReplyIntent.neutral


class ReplyClassification(BaseModel):
    intent: ReplyIntent


_SYSTEM = ("You classify a prospect's reply to a B2B sales email. Answer only with JSON matching the schema. "
           "intent: interested (wants to talk, asks for details), not_interested, unsubscribe_request (asks to "
           "stop or be removed), referral (points to someone else), out_of_office, or neutral (none of these).")


def classify_reply_intent(text: str, *, llm: Any) -> tuple[ReplyIntent, str]:
    """(intent, who decided): the configured model when it is not the offline composer, else offline rules."""
    structured = getattr(llm, "structured", None)
    if llm is not None and not getattr(llm, "offline", True) and callable(structured):
        from core.ai.schemas import Purpose

        try:
            result, _usage = structured(Purpose.classification, _SYSTEM, "<reply>\n" + text[:4000] + "\n</reply>",
                                        ReplyClassification, "reply_intent")
            return ReplyIntent(result.intent), "model"
        except ConnectorError as exc:  # the reply is still handled; the rules decide instead
            log.warning("reply intent by the model failed; offline rules used", error=exc.message)
    return classify_offline(text), "offline"
