"""What the transport itself says to people (commands, groups, /forget, the practice's offers
and check-ins), in the flow's languages: one catalogue, read with :func:`say`.

The conversation's own words live in the flow file and in ``bot.engine.UI_DEFAULTS``; these
are only the texts around it. ``**bold**`` is allowed (``bot.markup``), ``{name}``
placeholders are filled by :func:`say`. The therapist's own messages (lead cards, /stats) are
English and live with the practice's commands.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.text import FALLBACK, Catalogue

__all__ = ["COMMANDS", "FALLBACK", "TEXTS", "checkin_booked", "checkin_button", "say"]

TEXTS: Mapping[str, Mapping[str, str]] = {
    "slow_down": {
        "en": "I'm still answering your earlier messages, so I skipped the messages you sent "
        "after them. Please wait for my answer, then carry on.",
        "es": "Todavía estoy respondiendo a tus mensajes anteriores, así que he omitido los "
        "que enviaste después. Espera mi respuesta y luego continúa.",
    },
    "help": {
        "en": "I ask a few short questions about your pain and suggest what to do next: "
        "see a doctor, or book a massage.\n\n"
        "/start – begin the questions\n"
        "/back – change your last answer\n"
        "/restart – start again from the beginning\n"
        "/language – change the language\n"
        "/privacy – what we store and how to delete it\n"
        "/mydata – get a copy of what we store about you\n"
        "/forget – delete everything about you\n\n"
        "**This is not a diagnosis, and it is not for emergencies.** If you get numbness "
        "between your legs or around your bottom, new trouble with your bladder or bowels, a "
        "leg or foot getting weaker, new symptoms in both legs, chest pain or sudden "
        "breathlessness, or sudden severe pain in your back and tummy with fainting, call "
        "{emergency_number} straight away. For any other worry, speak to your doctor.",
        "es": "Te hago unas preguntas breves sobre tu dolor y te sugiero qué hacer: "
        "ver a un médico o reservar un masaje.\n\n"
        "/start – empezar las preguntas\n"
        "/back – cambiar tu última respuesta\n"
        "/restart – empezar de nuevo\n"
        "/language – cambiar el idioma\n"
        "/privacy – qué guardamos y cómo borrarlo\n"
        "/mydata – recibir una copia de lo que guardamos sobre ti\n"
        "/forget – borrar todo lo tuyo\n\n"
        "**Esto no es un diagnóstico ni sirve para urgencias.** Si notas adormecimiento entre "
        "las piernas o alrededor del ano, problemas nuevos con la vejiga o el intestino, una "
        "pierna o un pie cada vez más débil, síntomas nuevos en las dos piernas, dolor en el "
        "pecho o falta de aire repentina, o un dolor fuerte y repentino en la espalda y el "
        "abdomen con desmayo, llama al {emergency_number} de inmediato. Para cualquier otra "
        "preocupación, habla con tu médico.",
    },
    "privacy": {
        "en": "**What we store, and why**\n"
        "• Nothing about your health until you agree to it, and then when you agreed.\n"
        "• Your answers to the questions and how far you got, so that you can carry on "
        "where you left off.\n"
        "• The language you chose, and the link you came from if any.\n"
        "• Only if you press the button to send your summary to the practice: your Telegram "
        "name and @username with your answers, so that the therapist can contact you; and, if "
        "you ask for one, the date of a check-in message.\n"
        "• For statistics, anonymous counts only (how many people reached each question or "
        "result), with nothing that points to you.\n\n"
        "**Who sees it:** nobody, unless you send your summary to the practice; then the "
        "therapist sees that summary.\n\n"
        "**For how long:** at most {retention_days} days after it was last changed, then it "
        "is deleted automatically.\n\n"
        "**Your choices:** /mydata sends you a copy of everything we hold about you; /forget "
        "deletes it all now.",
        "es": "**Qué guardamos y por qué**\n"
        "• Nada sobre tu salud hasta que lo aceptes, y desde entonces cuándo lo aceptaste.\n"
        "• Tus respuestas a las preguntas y hasta dónde llegaste, para que puedas seguir "
        "donde lo dejaste.\n"
        "• El idioma que elegiste y, si lo hay, el enlace por el que llegaste.\n"
        "• Solo si pulsas el botón para enviar tu resumen a la consulta: tu nombre y tu "
        "@usuario de Telegram con tus respuestas, para que el terapeuta pueda contactarte; y, "
        "si lo pides, la fecha de un mensaje de seguimiento.\n"
        "• Para estadísticas, solo recuentos anónimos (cuántas personas llegaron a cada "
        "pregunta o resultado), sin nada que apunte a ti.\n\n"
        "**Quién lo ve:** nadie, salvo que envíes tu resumen a la consulta; entonces el "
        "terapeuta ve ese resumen.\n\n"
        "**Durante cuánto tiempo:** como mucho {retention_days} días desde el último cambio; "
        "después se borra automáticamente.\n\n"
        "**Tú decides:** /mydata te envía una copia de todo lo que guardamos sobre ti; "
        "/forget lo borra todo ya.",
    },
    "consent_ask": {
        "en": "**Before we start:** your answers are about your health, so we need your OK to "
        "keep them.\n"
        "• We keep them for {retention_days} days, only to suggest your next step, then "
        "delete them.\n"
        "• Only you see them, unless you choose to send them to the therapist. /privacy has "
        "the rest.",
        "es": "**Antes de empezar:** tus respuestas son sobre tu salud, así que necesitamos tu "
        "permiso para guardarlas.\n"
        "• Las guardamos {retention_days} días, solo para sugerirte el siguiente paso, y "
        "después las borramos.\n"
        "• Solo las ves tú, salvo que decidas enviárselas al terapeuta. En /privacy tienes "
        "el resto.",
    },
    "consent_yes": {"en": "Agree and start", "es": "Acepto y empiezo"},
    "consent_no": {"en": "No thanks", "es": "No, gracias"},
    "consent_declined": {
        "en": "No problem: nothing about your health has been kept. If you change your mind, "
        "send /start.",
        "es": "Sin problema: no hemos guardado nada sobre tu salud. Si cambias de idea, envía "
        "/start.",
    },
    "consent_contact": {
        "en": "You can also reach the practice directly:",
        "es": "También puedes contactar directamente con la consulta:",
    },
    "mydata_consent": {
        "en": "You agreed to us keeping your answers on {when}.",
        "es": "Aceptaste que guardemos tus respuestas el {when}.",
    },
    "forget_ask": {
        "en": "Delete everything we store about you (your answers, this conversation, any "
        "summary you sent to the practice and any planned check-in)? This cannot be undone.",
        "es": "¿Borrar todo lo que guardamos sobre ti (tus respuestas, esta conversación, el "
        "resumen que enviaste a la consulta y cualquier seguimiento previsto)? No se puede "
        "deshacer.",
    },
    "forget_yes": {"en": "Yes, delete everything", "es": "Sí, borrarlo todo"},
    "forget_no": {"en": "No, keep it", "es": "No, mantenerlo"},
    "forgotten": {
        "en": "Done: everything we stored about you is deleted. Send /start whenever you "
        "want to begin again.",
        "es": "Hecho: hemos borrado todo lo que guardábamos sobre ti. Envía /start cuando "
        "quieras empezar de nuevo.",
    },
    "kept": {
        "en": "Nothing was deleted.",
        "es": "No se ha borrado nada.",
    },
    "language_ask": {
        "en": "Which language would you like?",
        "es": "¿En qué idioma prefieres que te escriba?",
    },
    "language_set": {"en": "Language: {name} ✔", "es": "Idioma: {name} ✔"},
    "language_start": {"en": "Send /start to begin.", "es": "Envía /start para empezar."},
    "mydata_title": {"en": "**What we hold about you**", "es": "**Lo que guardamos sobre ti**"},
    "mydata_nothing": {
        "en": "We hold nothing about you: no answers, no summaries, no check-ins.",
        "es": "No guardamos nada sobre ti: ni respuestas, ni resúmenes, ni seguimientos.",
    },
    "mydata_answers": {
        "en": "**Your answers** (last changed {when}):",
        "es": "**Tus respuestas** (último cambio: {when}):",
    },
    "mydata_no_answers": {"en": "No answers yet.", "es": "Todavía ninguna respuesta."},
    "mydata_now": {"en": "Now at: {question}", "es": "Ahora en: {question}"},
    "mydata_result": {"en": "Result: {outcome}", "es": "Resultado: {outcome}"},
    "mydata_language": {"en": "Language: {name}", "es": "Idioma: {name}"},
    "mydata_source": {
        "en": "You came from the link: {source}",
        "es": "Llegaste por el enlace: {source}",
    },
    "mydata_leads": {
        "en": "**Summaries you sent to the practice:**",
        "es": "**Resúmenes que enviaste a la consulta:**",
    },
    "mydata_lead": {
        "en": "{when}, as {who}; result: {outcome}",
        "es": "{when}, como {who}; resultado: {outcome}",
    },
    "mydata_followups": {"en": "**Check-ins:**", "es": "**Seguimientos:**"},
    "mydata_followup_planned": {"en": "{when}, planned", "es": "{when}, previsto"},
    "mydata_followup_sent": {"en": "{when}, sent", "es": "{when}, enviado"},
    "mydata_followup_cancelled": {"en": "{when}, cancelled", "es": "{when}, cancelado"},
    "mydata_pending": {
        "en": "Messages to you not delivered yet: {count}",
        "es": "Mensajes para ti aún sin entregar: {count}",
    },
    "mydata_footer": {
        "en": "Statistics keep only anonymous counts, nothing that points to you. "
        "Everything above is deleted after {retention_days} days, or now with /forget.",
        "es": "Las estadísticas solo guardan recuentos anónimos, nada que apunte a ti. "
        "Todo lo anterior se borra a los {retention_days} días, o ya mismo con /forget.",
    },
    "mydata_more": {
        "en": "… and more: the full copy is in the file below.",
        "es": "… y más: la copia completa está en el archivo de abajo.",
    },
    "mydata_file": {
        "en": "Everything we hold about you, as a JSON file.",
        "es": "Todo lo que guardamos sobre ti, en un archivo JSON.",
    },
    "unknown_command": {
        "en": "I don't know that command. Send /help to see what I can do.",
        "es": "No conozco ese comando. Envía /help para ver lo que puedo hacer.",
    },
    "group": {
        "en": "Hello! I ask private health questions, so I only talk one to one. "
        "Please message me privately:",
        "es": "¡Hola! Hago preguntas privadas de salud, así que solo hablo en privado. "
        "Escríbeme por privado:",
    },
    "group_button": {"en": "Talk to me privately", "es": "Hablar en privado"},
    # -- the practice's offers under an outcome, and the check-in ---------------------------
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

# The bot's command menu (setMyCommands), per language.
COMMANDS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("start", "Begin the questions"),
        ("back", "Change your last answer"),
        ("restart", "Start again from the beginning"),
        ("help", "What this bot does"),
        ("language", "Change the language"),
        ("privacy", "What we store and for how long"),
        ("mydata", "Get a copy of your data"),
        ("forget", "Delete everything about you"),
    ),
    "es": (
        ("start", "Empezar las preguntas"),
        ("back", "Cambiar tu última respuesta"),
        ("restart", "Empezar de nuevo"),
        ("help", "Qué hace este bot"),
        ("language", "Cambiar el idioma"),
        ("privacy", "Qué guardamos y durante cuánto tiempo"),
        ("mydata", "Recibir una copia de tus datos"),
        ("forget", "Borrar todo lo tuyo"),
    ),
}


CATALOGUE = Catalogue(TEXTS)
say = CATALOGUE.say


def checkin_button(days: int, language: str | None) -> str:
    if days == 1:
        return say("checkin_button_one", language)
    return say("checkin_button", language, days=str(days))


def checkin_booked(days: int, language: str | None) -> str:
    if days == 1:
        return say("checkin_booked_one", language)
    return say("checkin_booked", language, days=str(days))
