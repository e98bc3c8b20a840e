"""What the transport itself says (commands, groups, /forget), in the flow's languages.

The conversation's own words live in the flow file and in ``bot.engine.UI_DEFAULTS``; these
are only the texts around it. ``**bold**`` is allowed, ``{name}`` placeholders are filled by
:func:`say`.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.engine import fill

FALLBACK = "en"

TEXTS: Mapping[str, Mapping[str, str]] = {
    "help": {
        "en": "I ask a few short questions about your pain and suggest what to do next: "
        "see a doctor, or book a massage.\n\n"
        "/start – begin the questions\n"
        "/back – change your last answer\n"
        "/restart – start again from the beginning\n"
        "/privacy – what we store and how to delete it\n"
        "/forget – delete everything about you\n\n"
        "**This is not a diagnosis.** If you are worried, call {emergency_number}.",
        "es": "Te hago unas preguntas breves sobre tu dolor y te sugiero qué hacer: "
        "ver a un médico o reservar un masaje.\n\n"
        "/start – empezar las preguntas\n"
        "/back – cambiar tu última respuesta\n"
        "/restart – empezar de nuevo\n"
        "/privacy – qué guardamos y cómo borrarlo\n"
        "/forget – borrar todo lo tuyo\n\n"
        "**Esto no es un diagnóstico.** Si te preocupa, llama al {emergency_number}.",
    },
    "privacy": {
        "en": "**What we store:** your answers to these questions and your Telegram chat id, "
        "so that the conversation can carry on where you left it. Statistics keep only "
        "anonymous counts (no names, no answers). Nothing is passed to the practice unless "
        "you choose to send them your summary.\n\n"
        "**For how long:** at most {retention_days} days, then it is deleted.\n\n"
        "**To delete it now:** send /forget.",
        "es": "**Qué guardamos:** tus respuestas a estas preguntas y tu id de chat de "
        "Telegram, para poder seguir donde lo dejaste. Las estadísticas solo guardan "
        "recuentos anónimos (sin nombres ni respuestas). No se envía nada a la consulta "
        "salvo que decidas enviarles tu resumen.\n\n"
        "**Durante cuánto tiempo:** como mucho {retention_days} días; después se borra.\n\n"
        "**Para borrarlo ya:** envía /forget.",
    },
    "forget_ask": {
        "en": "Delete everything we store about you (your answers and this conversation)? "
        "This cannot be undone.",
        "es": "¿Borrar todo lo que guardamos sobre ti (tus respuestas y esta conversación)? "
        "No se puede deshacer.",
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
}

# The bot's command menu (setMyCommands), per language.
COMMANDS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("start", "Begin the questions"),
        ("back", "Change your last answer"),
        ("restart", "Start again from the beginning"),
        ("help", "What this bot does"),
        ("privacy", "What we store and for how long"),
        ("forget", "Delete everything about you"),
    ),
    "es": (
        ("start", "Empezar las preguntas"),
        ("back", "Cambiar tu última respuesta"),
        ("restart", "Empezar de nuevo"),
        ("help", "Qué hace este bot"),
        ("privacy", "Qué guardamos y durante cuánto tiempo"),
        ("forget", "Borrar todo lo tuyo"),
    ),
}


def say(key: str, language: str | None, **values: str) -> str:
    texts = TEXTS[key]
    text = texts.get(language or FALLBACK) or texts[FALLBACK]
    return fill(text, values)
