"""What the practice features say to the person (in the flow's languages) and to the therapist.

The person's texts follow :mod:`bot.telegram.texts`: ``**bold**`` allowed, ``{name}`` filled
by :func:`say`. The therapist's texts are English only: the admin chats are the practice's own.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.engine import fill

FALLBACK = "en"

TEXTS: Mapping[str, Mapping[str, str]] = {
    "consent_button": {
        "en": "Send my answers to the therapist",
        "es": "Enviar mis respuestas al terapeuta",
    },
    "consent_line": {
        "en": "“Send my answers to the therapist” shares your name, your Telegram username and "
        "the answers above with the practice, so that they can contact you. Nothing is shared "
        "unless you press it.",
        "es": "«Enviar mis respuestas al terapeuta» comparte tu nombre, tu usuario de Telegram "
        "y las respuestas de arriba con la consulta, para que puedan contactarte. No se "
        "comparte nada si no lo pulsas.",
    },
    "consent_sent": {
        "en": "Thank you. Your name, username and answers are now with the therapist, who will "
        "get in touch with you here on Telegram.\n\nChanged your mind? /forget deletes "
        "everything we hold about you, this summary included.",
        "es": "Gracias. Tu nombre, tu usuario y tus respuestas ya le han llegado al terapeuta, "
        "que se pondrá en contacto contigo aquí en Telegram.\n\n¿Has cambiado de idea? "
        "/forget borra todo lo que guardamos sobre ti, también este resumen.",
    },
    "checkin_button": {
        "en": "Check in with me in {days} days",
        "es": "Pregúntame en {days} días",
    },
    "checkin_button_one": {
        "en": "Check in with me tomorrow",
        "es": "Pregúntame mañana",
    },
    "checkin_booked": {
        "en": "I'll check in with you in {days} days to ask how your pain is. To cancel it, "
        "send /forget.",
        "es": "Te escribiré dentro de {days} días para preguntarte cómo va tu dolor. Para "
        "cancelarlo, envía /forget.",
    },
    "checkin_booked_one": {
        "en": "I'll check in with you tomorrow to ask how your pain is. To cancel it, send "
        "/forget.",
        "es": "Te escribiré mañana para preguntarte cómo va tu dolor. Para cancelarlo, envía "
        "/forget.",
    },
    "checkin_question": {
        "en": "Hello again 👋 You asked us to check in with you.\n\n**How is your pain now?** "
        "0 means no pain and 10 the worst pain you can imagine.",
        "es": "Hola de nuevo 👋 Nos pediste que te preguntáramos qué tal estás.\n\n**¿Cómo "
        "va tu dolor ahora?** 0 es nada de dolor y 10, el peor dolor que puedas imaginar.",
    },
    "pain_better": {
        "en": "Thank you for letting us know. We're glad to hear from you, and we hope it keeps "
        "easing. Keep gently active, and if you'd like a massage, we'd be happy to see you.",
        "es": "Gracias por contárnoslo. Nos alegra saber de ti y esperamos que siga mejorando. "
        "Sigue moviéndote con suavidad y, si quieres un masaje, estaremos encantados de verte.",
    },
    # The replies to a check-in's answer; the flow's safety line follows each of them.
    "pain_severe": {
        "en": "Thank you for telling us, and I'm sorry it is still so painful. Pain this strong "
        "after several days is worth a doctor's check, so please see your GP soon, or "
        "{urgent_advice} if it is getting worse.",
        "es": "Gracias por contárnoslo, y siento que siga doliendo tanto. Un dolor tan fuerte "
        "después de varios días merece que lo revise un médico, así que consulta pronto a tu "
        "médico de familia o, si va a peor, pide atención urgente ({urgent_advice}).",
    },
    "pain_worse": {
        "en": "Thank you for telling us, and I'm sorry it has got worse: {now} now, against "
        "{before} when you first told us. Pain that is getting worse is worth a doctor's check "
        "before a massage, so please see your GP soon, or {urgent_advice} if it keeps getting "
        "worse.",
        "es": "Gracias por contárnoslo, y siento que haya empeorado: ahora un {now}, frente al "
        "{before} de la primera vez. Un dolor que va a peor merece que lo revise un médico "
        "antes de un masaje, así que consulta pronto a tu médico de familia o, si sigue "
        "empeorando, pide atención urgente ({urgent_advice}).",
    },
    "checkin_numbers": {
        "en": "To answer the check-in, please tap or send a number from 0 (no pain) to 10 "
        "(the worst pain you can imagine).",
        "es": "Para responder al seguimiento, pulsa o envía un número del 0 (nada de dolor) al "
        "10 (el peor dolor que puedas imaginar).",
    },
}


def say(key: str, language: str | None, **values: str) -> str:
    texts = TEXTS[key]
    text = texts.get(language or FALLBACK) or texts[FALLBACK]
    return fill(text, values)


def checkin_button(days: int, language: str | None) -> str:
    if days == 1:
        return say("checkin_button_one", language)
    return say("checkin_button", language, days=str(days))


def checkin_booked(days: int, language: str | None) -> str:
    if days == 1:
        return say("checkin_booked_one", language)
    return say("checkin_booked", language, days=str(days))
