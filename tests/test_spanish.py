"""The default flow in Spanish (issue 4, "A second language"), through the real engine.

A person whose Telegram is set to Spanish ("es", "es-MX") reads the welcome, every question,
every button and every outcome in Spanish, with the local numbers from settings; Spanish
warning words typed at any step reach the emergency advice; the checker finds no missing
translation; and the Spanish buttons fit a phone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.callback import MAX_BYTES, size
from bot.engine import (
    Action,
    Choose,
    Done,
    Engine,
    Input,
    Number,
    Reply,
    ReplyKind,
    Session,
    Text,
    Toggle,
)
from bot.flow import check_flow, load_compiled
from bot.flow.model import Flow, LocalText, StepKind

ROOT = Path(__file__).resolve().parents[1]
FLOW_FILE = ROOT / "flows" / "sciatica.yaml"
SETTINGS = {
    "booking_url": "https://example.com/book",
    "emergency_number": "112",
    "urgent_advice": "llama a tu centro de salud hoy",
    "doctor": "GP",
    "doctor:es": "médico de familia",
}
MAX_BUTTON_LABEL = 32  # fits a full-width button on a phone without being cut
SPANISH = ("es", "es-MX")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_compiled(FLOW_FILE), SETTINGS)


def every_text(flow: Flow) -> dict[str, LocalText]:
    """Every text of the flow by a readable name: what a translator has to cover."""
    texts: dict[str, LocalText] = {}
    for name, text in (
        ("title", flow.title),
        ("disclaimer", flow.disclaimer),
        ("urgent_disclaimer", flow.urgent_disclaimer),
        ("safety_line", flow.safety_line),
    ):
        assert text is not None, name
        texts[name] = text
    texts |= {f"reasons.{key}": text for key, text in flow.reasons.items()}
    texts |= {f"ui.{key}": text for key, text in flow.ui.items()}
    for step in flow.steps.values():
        texts[f"{step.id}.text"] = step.text
        texts |= {f"{step.id}.more[{n}]": p.text for n, p in enumerate(step.more)}
        texts |= {f"{step.id}.{o.id}": o.label for o in step.options}
    return texts


def answer(engine: Engine, session: Session, *inputs: Input) -> tuple[Session, tuple[Reply, ...]]:
    replies: tuple[Reply, ...] = ()
    for message in inputs:
        result = engine.handle(session, message)
        assert result.accepted, (message, [r.text for r in result.replies])
        session, replies = result.session, result.replies
    return session, replies


def question(replies: Sequence[Reply]) -> Reply:
    asked = [r for r in replies if r.kind is ReplyKind.QUESTION]
    assert asked, [r.text for r in replies]
    return asked[-1]


def outcome(replies: Sequence[Reply]) -> Reply:
    assert replies and replies[-1].kind is ReplyKind.OUTCOME, [r.text for r in replies]
    return replies[-1]


# --- the checker ------------------------------------------------------------------------------


def test_the_flow_is_in_english_and_spanish_with_no_missing_translation(engine: Engine) -> None:
    assert engine.flow.languages == ("en", "es")
    assert engine.flow.default_language == "en"
    problems = check_flow(FLOW_FILE)
    assert [p for p in problems if "translation" in p.message] == []
    # no other warning either, but for labels a small phone cuts (tests/test_default_flow.py)
    assert [p for p in problems if "longer than a phone shows" not in p.message] == []


def test_the_checker_would_notice_one_missing_spanish_label() -> None:
    """The check above means something: drop one Spanish label and it is reported."""
    text = FLOW_FILE.read_text(encoding="utf-8")
    wanted = 'tailbone: { en: "On the tailbone", es: "En el coxis" }'
    assert text.count(wanted) == 1
    broken = text.replace(wanted, 'tailbone: "On the tailbone"')
    missing = [p for p in check_flow(FLOW_FILE, text=broken) if "translation" in p.message]
    assert len(missing) == 1
    assert missing[0].severity == "warning"
    assert "'es'" in missing[0].message


def test_every_text_has_its_own_spanish_with_the_same_placeholders(engine: Engine) -> None:
    placeholder = re.compile(r"\{[A-Za-z_]\w*\}")
    for name, text in every_text(engine.flow).items():
        en, es = text.by_language.get("en"), text.by_language.get("es")
        assert en and es, name
        assert es != en or en in {"Cáncer"}, name  # not the English copied across
        assert sorted(placeholder.findall(es)) == sorted(placeholder.findall(en)), name
        # Numbers differ by country: they come from settings, never from the text.
        assert not re.search(r"\b(999|911|112|111|061|091)\b", es), name


# --- welcome, questions and buttons -------------------------------------------------------------


@pytest.mark.parametrize("language", SPANISH)
def test_the_welcome_is_in_spanish_with_the_local_number(engine: Engine, language: str) -> None:
    start = engine.start(language=language)
    assert start.session.language == "es"
    welcome = start.replies[0]
    assert welcome.step == "welcome"
    assert "Hola, y gracias por escribirnos" in welcome.text
    assert "dolor de espalda, de nalga o de pierna" in welcome.text
    # The safety line: numbness between the legs, bladder or bowels, the local number.
    assert "adormecimiento entre las piernas" in welcome.text
    assert "vejiga o el intestino" in welcome.text
    assert "llama al 112" in welcome.text
    assert "urgencias" in welcome.text
    for english in ("Hello", "thank you", "Safety first", "numbness", "call 112"):
        assert english not in welcome.text
    assert question(start.replies).text.startswith("**¿Dónde te duele más?**")


def test_other_languages_still_read_english(engine: Engine) -> None:
    for language in ("en", "en-GB", "de", None):
        welcome = engine.start(language=language).replies[0]
        assert welcome.text.startswith("Hello, and thank you")
        assert "Hola" not in welcome.text and "call 112" in welcome.text


# Every question of the longest path (buttock pain above the knee, aged 17), with words the
# Spanish question must say, its Spanish buttons, and how to answer it.
QUESTIONS: list[tuple[str, list[str], list[str], list[Input]]] = [
    (
        "location",
        ["¿Dónde te duele más?", "hoyuelo", "coxis", "columna", "cadera"],
        [
            "En lo profundo de una nalga",
            "Junto a un hoyuelo de la nalga",
            "En el coxis",
            "A lo ancho de la zona lumbar",
            "Por fuera de la cadera",
            "En otro lugar",
        ],
        [Choose("location", "buttock")],
    ),
    (
        "radiation",
        ["¿Hasta dónde bajan el dolor", "hormigueo"],
        [
            "Se queda donde está",
            "Solo hasta la nalga",
            "Al muslo, sin pasar la rodilla",
            "A la pantorrilla o la espinilla",
            "Hasta el pie o los dedos",
        ],
        [Choose("radiation", "none")],
    ),
    (
        "severity",
        ["últimas 24 horas", "¿cuánto te duele?", "peor dolor que puedas imaginar"],
        [str(n) for n in range(11)],
        [Number("severity", 3)],
    ),
    (
        "emergency_flags",
        ["preguntas de seguridad", "¿Tienes alguno de estos?", "pulsa Listo", "genitales"],
        [
            "Adormecido entre las piernas",
            "Problemas nuevos al orinar",
            "Cambios en el intestino",
            "Cambios genitales o sexuales",
            "Síntomas nuevos en ambas piernas",
            "Pierna cada vez más débil",
            "Accidente o caída grave",
            "Dolor de pecho o falta de aire",
            "Dolor abdominal y desmayo",
            "Ninguno de estos",
            "Listo ✔",
        ],
        [Toggle("emergency_flags", "none"), Done("emergency_flags")],
    ),
    ("age", ["¿Cuántos años tienes?", "Escribe tu edad"], [], [Number("age", 17)]),
    (
        "first_episode",
        ["¿Es la primera vez que tienes un dolor así?"],
        ["Sí, es la primera vez", "No, ya me ha pasado antes"],
        [Choose("first_episode", "no")],
    ),
    (
        "doctor_flags",
        ["¿Te pasa alguna de estas cosas?", "fiebre alta", "warfarina", "embarazada"],
        [
            "Fiebre o malestar",
            "Cáncer",
            "Pérdida de peso",
            "Dolor en reposo o de noche",
            "Constante y cada vez peor",
            "Tras una caída o un golpe",
            "Osteoporosis o corticoides",
            "Defensas bajas o drogas por vena",
            "Pantorrilla hinchada",
            "Anticoagulantes",
            "Embarazo",
            "Ninguna de estas",
            "Listo ✔",
        ],
        [Toggle("doctor_flags", "none"), Done("doctor_flags")],
    ),
    (
        "worse_sitting",
        ["¿El dolor empeora al sentarte?"],
        ["Sí, sentarme lo empeora", "No, en realidad no"],
        [Choose("worse_sitting", "yes")],
    ),
    (
        "leg_symptoms",
        ["Última pregunta", "¿Tienes algo de esto en la pierna o el pie?"],
        ["Adormecimiento u hormigueo", "Noto débil la pierna o el pie", "Nada de esto", "Listo ✔"],
        [Toggle("leg_symptoms", "none"), Done("leg_symptoms")],
    ),
]


@pytest.mark.parametrize("language", SPANISH)
def test_every_question_and_button_is_in_spanish(engine: Engine, language: str) -> None:
    start = engine.start(language=language)
    session, replies = start.session, start.replies
    english_labels = {
        o.label.get("en", "en") for step in engine.flow.questions for o in step.options
    }
    for step_id, words, buttons, inputs in QUESTIONS:
        asked = question(replies)
        assert asked.step == step_id
        for word in words:
            assert word in asked.text, (step_id, word)
        english = engine.flow.steps[step_id].text.get("en", "en").replace("**", "")
        assert english[:30] not in asked.text.replace("**", ""), step_id
        labels = [b.label for b in asked.buttons]
        assert labels == buttons, step_id
        assert not english_labels & set(labels), step_id
        session, replies = answer(engine, session, *inputs)
    assert outcome(replies).outcome == "likely_piriformis"


def test_a_typed_spanish_label_answers_a_button_question(engine: Engine) -> None:
    session = engine.start(language="es").session
    result = engine.handle(session, Text("en el coxis"))
    assert result.accepted
    assert result.session.answers["location"] == "tailbone"


def test_notices_name_the_spanish_buttons(engine: Engine) -> None:
    session, _ = answer(
        engine,
        engine.start(language="es").session,
        Choose("location", "buttock"),
        Choose("radiation", "none"),
        Number("severity", 3),
    )
    result = engine.handle(session, Done("emergency_flags"))  # nothing ticked yet
    assert not result.accepted
    notice = result.replies[0]
    assert notice.kind is ReplyKind.NOTICE
    assert "«Ninguno de estos»" in notice.text and "«Listo»" in notice.text


# --- outcomes ---------------------------------------------------------------------------------

# answers that reach each outcome, with words its Spanish message must say
ADULT: list[Input] = [
    Choose("location", "buttock"),
    Choose("radiation", "none"),
    Number("severity", 4),
    Toggle("emergency_flags", "none"),
    Done("emergency_flags"),
    Number("age", 30),
    Toggle("doctor_flags", "none"),
    Done("doctor_flags"),
]
OUTCOMES: list[tuple[str, list[Input], list[str]]] = [
    (
        "emergency",
        [
            Choose("location", "buttock"),
            Choose("radiation", "none"),
            Number("severity", 4),
            Toggle("emergency_flags", "saddle_numbness"),
            Toggle("emergency_flags", "chest_or_breathing"),
            Done("emergency_flags"),
        ],
        [
            "busca ayuda médica ahora",
            "**llama al 112 y pide una ambulancia**",
            "servicio de urgencias",
            "no vayas conduciendo",
            "no reserves un masaje",
            "entre las piernas, alrededor de los genitales o del ano",
            "dolor en el pecho o falta de aire repentina",
        ],
    ),
    (
        "see_doctor_soon",
        [
            *ADULT[:5],
            Number("age", 55),
            Choose("first_episode", "yes"),
            Toggle("doctor_flags", "calf_swelling"),
            Toggle("doctor_flags", "pregnant"),
            Done("doctor_flags"),
        ],
        [
            "consulta antes a un médico",
            "médico de familia",
            "Pide atención médica urgente (llama a tu centro de salud hoy)",
            "llama al 112 y pide una ambulancia",
            "tienes 55 años y es la primera vez",
            "pantorrilla o una pierna está hinchada",
            "estás embarazada",
        ],
    ),
    (
        "likely_nerve_root",
        [
            Choose("location", "hip_side"),
            Choose("radiation", "foot"),
            *ADULT[2:],
            Toggle("leg_symptoms", "numbness_tingling"),
            Done("leg_symptoms"),
        ],
        [
            "pueden estar relacionadas con una raíz nerviosa irritada",
            "ciática",
            "fisioterapeuta",
            "(llama a tu centro de salud hoy)",
            "el dolor baja hasta el pie",
            "adormecimiento u hormigueo en la pierna",
        ],
    ),
    (
        "likely_piriformis",
        [
            *ADULT,
            Choose("worse_sitting", "yes"),
            Toggle("leg_symptoms", "none"),
            Done("leg_symptoms"),
        ],
        [
            "pueden estar relacionadas con el músculo piriforme",
            "músculo pequeño en lo profundo de la nalga",
            "sacro",
            "fémur",
            "cruza el nervio ciático",
            "empeora al sentarte",
        ],
    ),
    (
        "likely_sacroiliac",
        [
            Choose("location", "low_back_near_dimples"),
            *ADULT[1:],
            Toggle("leg_symptoms", "none"),
            Done("leg_symptoms"),
        ],
        [
            "pueden estar relacionadas con la zona de la articulación",
            "sacroilíacas están a cada lado de la base de la columna",
            "hoyuelos",
            "(no en el coxis)",
            "en el hoyuelo de la parte alta de la nalga",
        ],
    ),
    (
        "non_specific",
        [
            Choose("location", "tailbone"),
            *ADULT[1:],
            Toggle("leg_symptoms", "none"),
            Done("leg_symptoms"),
        ],
        [
            "encajan con el tipo de dolor de espalda más común",
            "suele mejorar en pocas semanas",
            "ninguna de las señales de alarma",
            "justo en el coxis",
        ],
    ),
]


@pytest.mark.parametrize(("outcome_id", "inputs", "words"), OUTCOMES, ids=[o[0] for o in OUTCOMES])
@pytest.mark.parametrize("language", SPANISH)
def test_each_outcome_is_in_spanish(
    engine: Engine, language: str, outcome_id: str, inputs: list[Input], words: list[str]
) -> None:
    _, replies = answer(engine, engine.start(language=language).session, *inputs)
    reply = outcome(replies)
    assert reply.outcome == outcome_id
    text = reply.text
    for word in words:
        assert word in text, (outcome_id, word)
    assert "**Por qué te lo sugerimos:**" in text
    assert "no puede diagnosticar" in text  # the disclaimer
    step = engine.flow.steps[outcome_id]
    # The safety line closes every outcome except the emergency (where it leads anyway).
    assert ("Lo primero, tu seguridad" in text) == (not step.urgent)
    if step.booking:
        assert reply.link is not None and reply.link.label == "Reservar un masaje"
    else:
        assert reply.link is None
    for english in (
        "may involve",
        "Why we suggest this",
        "cannot diagnose",
        "you told us",
        "Safety first",
        "What to do",
        "GP",
        step.text.get("en", "en")[:40],
    ):
        assert english not in text, (outcome_id, english)


def test_pattern_outcomes_say_may_be_related_and_never_diagnose(engine: Engine) -> None:
    for step in engine.flow.outcomes:
        text = step.text.get("es", "en")
        assert not re.search(r"\btienes (ciática|un síndrome|una? \w+ irritad[oa])", text)
        if step.id.startswith("likely_"):
            assert "pueden estar relacionadas con" in text, step.id


# --- the safety net ---------------------------------------------------------------------------

# How to reach each step of the longest path, so that a phrase can be typed there.
PATH = {step_id: inputs for step_id, _, _, inputs in QUESTIONS}
STEPS = list(PATH)


def waiting_at(engine: Engine, target: str, language: str = "es") -> Session:
    session = engine.start(language=language).session
    for step_id in STEPS:
        if step_id == target:
            break
        session, _ = answer(engine, session, *PATH[step_id])
    assert session.step == target
    return session


@pytest.mark.parametrize(
    "typed",
    [
        "No puedo orinar",
        "no puedo hacer pis desde ayer",
        "Me he orinado encima!",
        "me hice pis encima",
        "No siento al limpiarme...",
        "lo tengo entumecido ahí abajo",
        "estoy adormecida entre las piernas",
        "NO CONTROLO LA VEJIGA",
        "no controlo el intestino",
        "pérdida de control de esfínteres",
        "perdida de control de esfinteres",  # typed without accents
        "¿Será el síndrome de cola de caballo?",
        "cauda equina",
        "no siento las piernas",
        "tengo ambas piernas dormidas",
    ],
)
def test_a_spanish_warning_phrase_goes_to_emergency(engine: Engine, typed: str) -> None:
    result = engine.handle(waiting_at(engine, "location"), Text(typed))
    assert result.session.outcome == "emergency", typed
    (concept,) = result.session.reasons
    reply = outcome(result.replies)
    assert reply.urgent and reply.link is None
    assert "llama al 112" in reply.text
    # the sign recognised is the reason, in Spanish
    assert engine.flow.reasons[concept].get("es", "en") in reply.text


@pytest.mark.parametrize("step", STEPS)
def test_the_spanish_safety_net_works_at_every_step(engine: Engine, step: str) -> None:
    result = engine.handle(waiting_at(engine, step), Text("creo que no puedo orinar"))
    assert result.session.outcome == "emergency", step
    assert outcome(result.replies).urgent


def test_phrases_of_both_languages_are_heard_in_every_conversation(engine: Engine) -> None:
    english = engine.handle(waiting_at(engine, "age", "en"), Text("me he orinado encima"))
    spanish = engine.handle(waiting_at(engine, "age", "es"), Text("I can't pee"))
    assert english.session.outcome == spanish.session.outcome == "emergency"
    assert "call 112" in outcome(english.replies).text  # in the person's own language
    assert "llama al 112" in outcome(spanish.replies).text


@pytest.mark.parametrize(
    "typed",
    [
        "me duele la nalga",
        "empeora al sentarme",
        "orino mucho por la noche",
        "no puedo dormir",
        "tengo la pierna dormida",
        "no",
    ],
)
def test_ordinary_spanish_words_do_not_trigger_the_safety_net(engine: Engine, typed: str) -> None:
    result = engine.handle(waiting_at(engine, "location"), Text(typed))
    assert result.session.outcome is None, typed
    assert not result.accepted
    assert result.replies[0].text == "Por favor, elige una de las opciones de abajo."


def test_a_doubtful_spanish_mention_asks_in_spanish(engine: Engine) -> None:
    result = engine.handle(waiting_at(engine, "location"), Text("me duelen las piernas"))
    assert result.session.outcome is None and result.session.pending == "both_legs"
    (question,) = result.replies
    assert question.text.startswith("Antes de seguir") and "las dos piernas" in question.text
    assert [b.label for b in question.buttons] == ["Sí", "No"]


# --- buttons fit a phone and Telegram -----------------------------------------------------------


def test_spanish_buttons_are_short_and_their_data_fits_telegram(engine: Engine) -> None:
    for step in engine.flow.questions:
        for option in step.options:
            label = option.label.get("es", "en")
            assert len(label) <= MAX_BUTTON_LABEL, (step.id, label)
            action = Action.TOGGLE if step.kind is StepKind.MULTI else Action.CHOOSE
            assert size(action, step.id, option.id) <= MAX_BYTES, (step.id, option.id)
    assert len(engine.ui("book_button", "es")) <= MAX_BUTTON_LABEL
    assert engine.ui("book_button", "es") == "Reservar un masaje"


def test_a_spanish_urgent_advice_setting_is_used_for_spanish_speakers() -> None:
    compiled = load_compiled(FLOW_FILE)
    texts = {
        "emergency_number": "112",
        "urgent_advice": "call 111",
        "urgent_advice:es": "llama al 061",
    }
    engine = Engine(compiled, texts)
    for language, wanted, unwanted in (
        ("es", "llama al 061", "call 111"),
        ("en", "call 111", "061"),
    ):
        session, _ = answer(
            engine,
            engine.start(language=language).session,
            Choose("location", "buttock"),
            Choose("radiation", "none"),
            Number("severity", 3),
            Toggle("emergency_flags", "none"),
            Done("emergency_flags"),
            Number("age", 40),
            Toggle("doctor_flags", "fever_unwell"),
        )
        outcome = engine.handle(session, Done("doctor_flags")).replies[-1]
        assert outcome.outcome == "see_doctor_soon"
        assert wanted in outcome.text and unwanted not in outcome.text
