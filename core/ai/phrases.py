"""Sentences the offline composer writes with, per language (en, es, de, fr). Formal address in es/de/fr.

Placeholders: {company} {industry} {title} {pain} {value} {n} {tech} {quote} {subject} {interaction} {first_name}
{label}. mention, ask_question (and value_more in English) serve a rep's regeneration instruction
(core.ai.instructions).
English sentences carry contractions; the composer expands them when a voice turns contractions off.
"""

from __future__ import annotations

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "pain_generic": "growing pipeline with the same team",
        "value_generic": "more qualified meetings from the same effort",
        "open_employees": "I saw that {company} has grown to about {n} people, which usually means the "
                          "processes that worked at half the size start to creak.",
        "open_tech": "I noticed your team at {company} works with {tech}.",
        "open_web": "Your website puts it this way: \"{quote}\".",
        "open_industry": "I work with {industry} teams like yours at {company}.",
        "open_pain": "Most people in your seat at {industry} companies tell me {pain} is what keeps them busy.",
        "open_role": "As {title} at {company}, you're probably measured on results that depend on {pain}.",
        "bridge": "We help teams like yours get {value}.",
        "bridge_pain": "That's usually where {pain} starts to hurt, and it's exactly what we help with.",
        "cta": "Would a short call next week be useful?",
        "cta_slots": "Would any of these times work for a short call?",
        "cta_question": "Is {pain} on your list this quarter?",
        "follow_up": "I'm following up on my note about \"{subject}\".",
        "nurture": "Following our {interaction}, I'd like to share one idea that fits what we discussed.",
        "reply": "Thanks for getting back to me.",
        "sign_off": "Best,",
        "subject_fact": "{company}: an idea",
        "subject_pain": "{pain} at {company}",
        "subject_question": "{first_name}, a question about {pain}",
        "subject_nurture": "Following our {interaction}",
        "mention": "I also noted this about {company} ({label}): {value}.",
        "ask_question": "How are you handling {pain} today?",
        "value_more": "It also means {value}.",
    },
    "es": {
        "pain_generic": "hacer crecer el pipeline con el mismo equipo",
        "value_generic": "más reuniones cualificadas con el mismo esfuerzo",
        "open_employees": "He visto que {company} ya cuenta con unas {n} personas; a ese tamaño los procesos "
                          "de antes suelen quedarse cortos.",
        "open_tech": "He visto que su equipo en {company} trabaja con {tech}.",
        "open_web": "Su web lo resume así: «{quote}».",
        "open_industry": "Trabajo con equipos del sector {industry} como el suyo en {company}.",
        "open_pain": "Muchos responsables del sector {industry} me cuentan que {pain} es lo que más tiempo les ocupa.",
        "open_role": "Como {title} en {company}, seguramente sus resultados dependen de {pain}.",
        "bridge": "Ayudamos a equipos como el suyo a conseguir {value}.",
        "bridge_pain": "Ahí es donde {pain} empieza a pesar, y es justo en lo que ayudamos.",
        "cta": "¿Le vendría bien una breve llamada la semana que viene?",
        "cta_slots": "¿Le viene bien alguno de estos horarios para una breve llamada?",
        "cta_question": "¿Está {pain} entre sus prioridades este trimestre?",
        "follow_up": "Retomo mi mensaje sobre «{subject}».",
        "nurture": "Retomando nuestra última conversación ({interaction}), le comparto una idea.",
        "reply": "Gracias por su respuesta.",
        "sign_off": "Saludos,",
        "subject_fact": "{company}: una idea",
        "subject_pain": "{pain} en {company}",
        "subject_question": "{first_name}, una pregunta sobre {pain}",
        "subject_nurture": "Tras nuestra conversación ({interaction})",
        "mention": "También me llamó la atención este dato de {company} ({label}): {value}.",
        "ask_question": "¿Cómo están gestionando hoy {pain}?",
    },
    "de": {
        "pain_generic": "Pipeline-Wachstum mit demselben Team",
        "value_generic": "mehr qualifizierten Terminen mit demselben Aufwand",
        "open_employees": "Ich habe gesehen, dass {company} auf rund {n} Mitarbeitende gewachsen ist; ab dieser "
                          "Größe stoßen die alten Abläufe oft an Grenzen.",
        "open_tech": "Ich habe gesehen, dass Ihr Team bei {company} mit {tech} arbeitet.",
        "open_web": "Auf Ihrer Website heißt es: „{quote}“.",
        "open_industry": "Ich arbeite mit Teams aus der Branche {industry} wie Ihrem bei {company}.",
        "open_pain": "Viele Verantwortliche in der Branche {industry} sagen mir, dass {pain} sie am meisten "
                     "beschäftigt.",
        "open_role": "Als {title} bei {company} hängen Ihre Ziele vermutlich stark von {pain} ab.",
        "bridge": "Wir helfen Teams wie Ihrem zu {value}.",
        "bridge_pain": "Genau dort wird {pain} spürbar, und genau dabei helfen wir.",
        "cta": "Hätten Sie nächste Woche Zeit für ein kurzes Gespräch?",
        "cta_slots": "Passt Ihnen einer dieser Termine für ein kurzes Gespräch?",
        "cta_question": "Steht {pain} in diesem Quartal auf Ihrer Liste?",
        "follow_up": "Ich komme auf meine Nachricht zu „{subject}“ zurück.",
        "nurture": "Im Anschluss an unser letztes Gespräch ({interaction}) möchte ich eine Idee teilen.",
        "reply": "Vielen Dank für Ihre Antwort.",
        "sign_off": "Viele Grüße,",
        "subject_fact": "{company}: eine Idee",
        "subject_pain": "{pain} bei {company}",
        "subject_question": "{first_name}, eine Frage zu {pain}",
        "subject_nurture": "Nach unserem Gespräch ({interaction})",
        "mention": "Außerdem ist mir bei {company} aufgefallen ({label}): {value}.",
        "ask_question": "Wie gehen Sie heute mit {pain} um?",
    },
    "fr": {
        "pain_generic": "la croissance du pipeline avec la même équipe",
        "value_generic": "davantage de rendez-vous qualifiés pour le même effort",
        "open_employees": "J'ai vu que {company} compte désormais environ {n} collaborateurs ; à cette taille, "
                          "les processus d'avant montrent souvent leurs limites.",
        "open_tech": "J'ai vu que votre équipe chez {company} travaille avec {tech}.",
        "open_web": "Votre site le résume ainsi : « {quote} ».",
        "open_industry": "Je travaille avec des équipes du secteur {industry} comme la vôtre chez {company}.",
        "open_pain": "Beaucoup de responsables du secteur {industry} me disent que {pain} les occupe le plus.",
        "open_role": "En tant que {title} chez {company}, vos objectifs dépendent sans doute de {pain}.",
        "bridge": "Nous aidons des équipes comme la vôtre à obtenir {value}.",
        "bridge_pain": "C'est là que {pain} devient pesant, et c'est précisément ce sur quoi nous aidons.",
        "cta": "Un court appel la semaine prochaine vous serait-il utile ?",
        "cta_slots": "L'un de ces créneaux vous conviendrait-il pour un court appel ?",
        "cta_question": "{pain} fait-il partie de vos priorités ce trimestre ?",
        "follow_up": "Je reviens vers vous au sujet de mon message « {subject} ».",
        "nurture": "Suite à notre dernier échange ({interaction}), je souhaite partager une idée.",
        "reply": "Merci pour votre réponse.",
        "sign_off": "Cordialement,",
        "subject_fact": "{company} : une idée",
        "subject_pain": "{pain} chez {company}",
        "subject_question": "{first_name}, une question sur {pain}",
        "subject_nurture": "Suite à notre échange ({interaction})",
        "mention": "J'ai aussi noté ceci chez {company} ({label}) : {value}.",
        "ask_question": "Comment gérez-vous aujourd'hui {pain} ?",
    },
}

EXPANSIONS = {"That's": "That is", "that's": "that is", "it's": "it is", "It's": "It is", "I'm": "I am",
              "I'd": "I would", "you're": "you are", "You're": "You are", "we're": "we are", "don't": "do not",
              "isn't": "is not", "won't": "will not", "can't": "cannot", "I'll": "I will", "we'll": "we will"}


def expand_contractions(text: str) -> str:
    for short, long in EXPANSIONS.items():
        text = text.replace(short, long)
    return text
