"""A rep's regeneration instruction ("shorter", "more formal", "mention their expansion") read into what the
offline composer can do deterministically, and what it cannot (said back as content warnings).

A model endpoint gets the instruction as text (core.queue.work); nothing here is used on that path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.ai.schemas import Fact, Rewrite, VoiceRules

# Shown next to the instruction box while the offline composer drafts.
OFFLINE_FOLLOWS = ("shorter", "longer", "more formal", "more casual", "ask a question",
                   "mention <a fact listed under research>")
OFFLINE_NOTICE = ("No language model is configured, so the offline composer drafts. It follows only these "
                  "instructions: " + " · ".join(OFFLINE_FOLLOWS) + ". Anything else is not followed, and the "
                  "regenerated proposal says so in a warning.")
NOT_FOLLOWED = "Instruction not followed"

_DIRECTIVE_START = (r"(?:make|be|sound|keep|ask|end|add|mention|reference|refer|include|talk|bring|cite|use|"
                    r"write|more|less|shorter|longer|finish|close|put|point|note|a bit|slightly)\b")
_SPLIT = re.compile(rf"[,;.!\n]+|\s+(?:and|also|then|plus|but)\s+(?={_DIRECTIVE_START})", re.IGNORECASE)
_MENTION = re.compile(r"\b(?:mention|reference|refer to|talk about|bring up|include|cite|point out|note)\s+"
                      r"(?P<what>.+)", re.IGNORECASE)
_SHORTER = re.compile(r"\b(short|shorter|brief|briefer|concise|cut|trim|tighten|tighter|less wordy|fewer words|"
                      r"too long)\b", re.IGNORECASE)
_LONGER = re.compile(r"\b(longer|more details?|more detailed|elaborate|expand on|fuller|lengthen|too short|"
                     r"more words|flesh (it )?out)\b", re.IGNORECASE)
_CASUAL = re.compile(r"\b(casual|informal|friendl(y|ier)|relaxed|conversational|less formal|warmer|chatty|"
                     r"laid[- ]back)\b", re.IGNORECASE)
_FORMAL = re.compile(r"\b(formal|professional|polite|less casual|respectful)\b", re.IGNORECASE)
_QUESTION = re.compile(r"\b(questions?|ask(?!\s+for)|asking)\b|\?", re.IGNORECASE)
_FILLER = {"please", "make", "it", "a", "an", "the", "bit", "little", "slightly", "much", "more", "less", "and",
           "also", "then", "plus", "just", "can", "you", "could", "be", "sound", "keep", "way", "lot", "some"}
_STOP = {"their", "the", "our", "its", "his", "her", "they", "them", "a", "an", "of", "about", "that", "this",
         "recent", "new", "to", "in", "on", "for", "with", "how", "what", "and", "or", "fact", "facts"}
# Words a rep uses for a fact whose label says it otherwise.
_SYNONYMS = {"headcount": "employees", "size": "employees", "staff": "employees", "people": "employees",
             "team": "employees", "stack": "technology", "tools": "technology", "software": "technology",
             "site": "website", "web": "website", "homepage": "website", "role": "title", "position": "title",
             "job": "title", "sector": "industry", "vertical": "industry", "location": "city",
             "turnover": "revenue"}
_NOT_MENTIONABLE = {"company"}  # the company's name is in every draft already


@dataclass(frozen=True)
class ReadInstruction:
    """One instruction as the offline composer understands it."""

    text: str
    shorter: bool = False
    longer: bool = False
    formal: bool = False
    casual: bool = False
    question: bool = False
    mention: tuple[Fact, ...] = ()
    not_followed: tuple[str, ...] = ()  # content warnings, known before drafting

    def rewrite(self) -> Rewrite:
        return Rewrite(longer=self.longer, question=self.question, mention=list(self.mention))


def _tokens(text: str) -> list[str]:
    return re.findall(r"[\w'-]+", text.lower())


def _same_word(a: str, b: str) -> bool:
    """"expansion" ~ "expanding", "tech" ~ "technology": a shared start of five letters, or one word
    starting the other (four letters at least)."""
    if a == b:
        return True
    if min(len(a), len(b)) >= 5 and a[:5] == b[:5]:
        return True
    return min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a))


def find_fact(what: str, facts: Sequence[Fact]) -> Fact | None:
    """The research fact that best matches what the rep asked to mention, or None."""
    wanted = [_SYNONYMS.get(w, w) for w in _tokens(what) if w not in _STOP and len(w) >= 3]
    best, score = None, 0
    for fact in facts:
        if fact.label in _NOT_MENTIONABLE:
            continue
        words = _tokens(f"{fact.label} {fact.value}")
        found = sum(1 for w in wanted if any(_same_word(w, t) for t in words))
        if found > score:
            best, score = fact, found
    return best


def _meaningful(clause: str) -> bool:
    return any(w not in _FILLER for w in _tokens(clause))


def read_instruction(text: str, facts: Sequence[Fact], *, language: str = "en") -> ReadInstruction:
    """Split the instruction into clauses and match each to something the offline composer can do."""
    flags = dict.fromkeys(("shorter", "longer", "formal", "casual", "question"), False)
    mention: list[Fact] = []
    not_followed: list[str] = []
    for clause in (c.strip() for c in _SPLIT.split(text)):
        if not clause or not _meaningful(clause):
            continue
        if match := _MENTION.search(clause):
            what = match.group("what").strip()
            fact = find_fact(what, facts)
            if fact is None:
                not_followed.append(f'{NOT_FOLLOWED}: asked to mention "{what}", but no research fact is about '
                                    "it, so nothing was added (a draft states only what the research supports).")
            elif fact not in mention:
                mention.append(fact)
            continue
        found = {name for name, pattern in (("shorter", _SHORTER), ("longer", _LONGER), ("casual", _CASUAL),
                                            ("question", _QUESTION), ("formal", _FORMAL)) if pattern.search(clause)}
        if "casual" in found:  # "less formal"
            found.discard("formal")
        flags.update(dict.fromkeys(found, True))
        matched = bool(found)
        if not matched:
            not_followed.append(f'{NOT_FOLLOWED}: "{clause}" is not an instruction the offline composer can '
                                "follow; configure a language model for free-form instructions.")
    for a, b in (("shorter", "longer"), ("formal", "casual")):
        if flags[a] and flags[b]:
            flags[a] = flags[b] = False
            not_followed.append(f"{NOT_FOLLOWED}: {a} and {b} contradict each other, so neither was applied.")
    if flags["casual"] and language != "en":
        flags["casual"] = False
        not_followed.append(f"{NOT_FOLLOWED}: the offline composer writes {language} with formal address only, "
                            "so it could not be made more casual.")
    return ReadInstruction(text=text, mention=tuple(mention), not_followed=tuple(not_followed), **flags)


def adjust_voice(voice: VoiceRules, read: ReadInstruction, language: str) -> VoiceRules:
    """More formal: no contractions, "Dear" and "Kind regards" (English, unless the voice has its own);
    more casual: contractions, "Hey" and "Cheers". The voice's own greeting and sign-off always win."""
    if read.formal:
        english = language == "en"
        return voice.model_copy(update={
            "use_contractions": False, "tone": "formal",
            "greeting": voice.greeting or ("Dear {first_name}" if english else None),
            "sign_off": voice.sign_off or ("Kind regards," if english else None)})
    if read.casual:
        return voice.model_copy(update={"use_contractions": True, "tone": "casual",
                                        "greeting": voice.greeting or "Hey {first_name}",
                                        "sign_off": voice.sign_off or "Cheers,"})
    return voice


def length_warnings(read: ReadInstruction, *, words_before: int, words_after: int, limit: int | None) -> list[str]:
    """What the drafted text shows was not achieved: shorter or longer against the text the rep had."""
    if read.shorter and words_after >= words_before:
        return [f"{NOT_FOLLOWED}: not shorter ({words_after} words, was {words_before}); only the greeting, "
                "the call to action and the sign-off were left to keep."]
    if read.longer and words_after <= words_before:
        why = f"the voice allows {limit} words" if limit else "no further research fact was left to add"
        return [f"{NOT_FOLLOWED}: not longer ({words_after} words, was {words_before}); {why}."]
    return []
