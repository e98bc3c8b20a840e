"""The bot's own words that a flow may change under ``ui:``, with their defaults.

The engine says these itself (a notice when a button has moved on, the Done button, the
yes/no question of the safety net, ...); a flow changes any of them by name::

    ui:
      book_button: { en: "Book a massage", es: "Reservar un masaje" }

They live in the flow layer because a flow names them: the reader checks the names, the
validator checks their ``{placeholders}`` and lengths, and the engine falls back on these
defaults where the flow says nothing. docs/flow-language.md (section 9) lists them for the
therapist.
"""

from __future__ import annotations

from collections.abc import Mapping

UI_DEFAULTS: Mapping[str, Mapping[str, str]] = {
    "tap_button": {
        "en": "Please choose one of the options below.",
        "es": "Por favor, elige una de las opciones de abajo.",
    },
    "tick_then_done": {
        "en": "Please tick what applies below, then press “{done}”.",
        "es": "Marca lo que corresponda abajo y después pulsa «{done}».",
    },
    "tick_at_least_one": {
        "en": "Please tick at least one option (or “{none}”), then press “{done}”.",
        "es": "Marca al menos una opción (o «{none}») y después pulsa «{done}».",
    },
    "number_range": {
        "en": "Please send a whole number from {min} to {max}.",
        "es": "Por favor, envía un número entero del {min} al {max}.",
    },
    "moved_on": {
        "en": "That question has moved on. Here is where we are now:",
        "es": "Esa pregunta ya quedó atrás. Estamos aquí:",
    },
    "finished": {
        "en": "We have finished this check. Send /restart to go through it again.",
        "es": "Hemos terminado esta consulta. Envía /restart para empezar de nuevo.",
    },
    "nothing_to_undo": {
        "en": "There is nothing to go back to yet.",
        "es": "Todavía no hay nada a lo que volver.",
    },
    "flow_changed": {
        "en": "We have updated our questions since we last spoke, so let's start again "
        "from the beginning.",
        "es": "Hemos actualizado nuestras preguntas desde la última vez, así que "
        "empecemos de nuevo.",
    },
    "unsupported": {
        "en": "I can only read text and button presses here.",
        "es": "Aquí solo puedo leer texto y botones.",
    },
    "too_long": {
        "en": "That message is longer than I can use here.",
        "es": "Ese mensaje es más largo de lo que puedo usar aquí.",
    },
    "reasons_header": {
        "en": "**Why we suggest this:**",
        "es": "**Por qué te lo sugerimos:**",
    },
    "safety_net_reason": {
        "en": "what you wrote may be a warning sign that needs urgent care",
        "es": "lo que escribiste puede ser una señal de alarma que necesita atención urgente",
    },
    "confirm_sign": {
        "en": "Before we go on, I need to check one thing to keep you safe. Do you have "
        "{sign} right now?",
        "es": "Antes de seguir, necesito comprobar una cosa por tu seguridad. ¿Tienes ahora "
        "{sign}?",
    },
    "confirm_no": {
        "en": "Thank you for checking. Let's carry on where we were.",
        "es": "Gracias por comprobarlo. Sigamos donde lo dejamos.",
    },
    "confirm_no_finished": {
        "en": "Thank you for checking. If that changes, please send a message at any time.",
        "es": "Gracias por comprobarlo. Si eso cambia, escríbenos cuando quieras.",
    },
    "undo_emergency": {
        "en": "Was that answer a mistake? If you do have that sign, please follow the advice "
        "above now.",
        "es": "¿Esa respuesta fue un error? Si tienes esa señal, sigue ahora el consejo de arriba.",
    },
    "undo_kept": {
        "en": "Thank you. Please follow the advice above now.",
        "es": "Gracias. Sigue ahora el consejo de arriba.",
    },
    "yes_button": {"en": "Yes", "es": "Sí"},
    "no_button": {"en": "No", "es": "No"},
    "mistake_yes_button": {"en": "Yes, it was a mistake", "es": "Sí, fue un error"},
    "mistake_no_button": {"en": "No, it was right", "es": "No, era correcto"},
    "book_button": {"en": "Book an appointment", "es": "Reservar una cita"},
    "done_button": {"en": "Done ✔", "es": "Listo ✔"},
}
