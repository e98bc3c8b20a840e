"""The pure conversation engine, on a small flow built in Python (no YAML involved)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.engine import (
    UNDO_EMERGENCY,
    Action,
    Amend,
    Back,
    Choose,
    Confirm,
    Done,
    Engine,
    Number,
    Repeat,
    ReplyKind,
    Restart,
    Session,
    SessionError,
    Start,
    Text,
    Toggle,
    fill,
    normalise_phrase,
)
from bot.flow.compiler import compile_flow
from bot.flow.conditions import compile_condition, parse_condition
from bot.flow.model import (
    Condition,
    Flow,
    LocalText,
    Option,
    Paragraph,
    ReasonRule,
    Route,
    SafetyConcept,
    SafetyNet,
    Step,
    StepKind,
)
from bot.flow.safety import Concept


def t(en: str, es: str | None = None) -> LocalText:
    return LocalText({"en": en, **({"es": es} if es else {})})


def cond(source: str) -> Condition:
    tree = parse_condition(source)
    return Condition(source, tree, compile_condition(tree))


def mini_flow() -> Flow:
    steps = [
        Step("hello", StepKind.MESSAGE, t("Hello!", "¡Hola!"), routes=(Route("where"),)),
        Step(
            "where",
            StepKind.CHOICE,
            t("Where does it hurt?", "¿Dónde duele?"),
            options=(
                Option("buttock", t("Buttock", "Nalga")),
                Option("back", t("Lower back", "Zona lumbar")),
            ),
            routes=(Route("flags"),),
        ),
        Step(
            "flags",
            StepKind.MULTI,
            t("Any of these?"),
            options=(
                Option("numb", t("Numb between the legs")),
                Option("fever", t("Fever")),
                Option("none", t("None of these"), exclusive=True),
            ),
            routes=(
                Route("urgent", cond('"numb" in flags')),
                Route("pain"),
            ),
        ),
        Step(
            "pain",
            StepKind.NUMBER,
            t("How bad, 0-10? You chose {where}."),
            minimum=0,
            maximum=10,
            columns=6,
            routes=(
                Route("doctor", cond('pain >= 7 or flags has any of ["fever"]')),
                Route("book"),
            ),
        ),
        Step(
            "urgent",
            StepKind.OUTCOME,
            t("Call {emergency_number} now."),
            urgent=True,
            reasons=(ReasonRule(reason="numb", condition=cond('"numb" in flags')),),
        ),
        Step(
            "doctor",
            StepKind.OUTCOME,
            t("Please see your doctor."),
            reasons=(
                ReasonRule(reason="severe", condition=cond("pain >= 7")),
                ReasonRule(each="flags"),
            ),
        ),
        Step("book", StepKind.OUTCOME, t("A massage may help."), booking=True),
    ]
    return Flow(
        id="mini",
        version="1-test",
        title=t("Mini"),
        default_language="en",
        languages=("en", "es"),
        start="hello",
        steps={s.id: s for s in steps},
        disclaimer=t("A massage therapist cannot diagnose."),
        safety_line=t("Numb between the legs? Call {emergency_number}."),
        safety_net=SafetyNet(
            "urgent",
            words={
                "cannot": {"en": ("cannot",)},
                "pee": {"en": ("pee",)},
                "numb": {"en": ("numb",)},
                "saddle": {"en": ("down there",)},
            },
            concepts=(
                SafetyConcept(Concept("bladder", (("cannot", "pee"),)), t("trouble peeing")),
                SafetyConcept(Concept("numb", (("numb", "saddle"),)), t("numbness down there")),
            ),
            negations={"en": ("no", "not")},
            doubts={"en": ("maybe",)},
        ),
        reasons={
            "severe": t("your pain is {pain} out of 10"),
            "numb": t("numbness"),
            "bladder": t("you wrote that you cannot pee"),
        },
    )


SETTINGS = {"booking_url": "https://example.com/book", "emergency_number": "999"}


@pytest.fixture
def engine() -> Engine:
    return Engine(compile_flow(mini_flow()), SETTINGS)


def walk_to_pain(engine: Engine) -> Session:
    session = engine.start().session
    session = engine.handle(session, Choose("where", "buttock")).session
    session = engine.handle(session, Toggle("flags", "none")).session
    return engine.handle(session, Done("flags")).session


def test_start_shows_message_then_first_question_with_safety_line(engine: Engine) -> None:
    result = engine.start(source="website")
    kinds = [r.kind for r in result.replies]
    assert kinds == [ReplyKind.MESSAGE, ReplyKind.QUESTION]
    assert "Call 999" in result.replies[0].text  # the safety line, filled from settings
    assert result.session.step == "where"
    assert result.session.source == "website"
    assert [b.value for b in result.replies[1].buttons] == ["buttock", "back"]


def test_language_is_picked_from_telegram_code_with_fallback(engine: Engine) -> None:
    assert engine.start(language="es-ES").replies[0].text.startswith("¡Hola!")
    flags = walk_to_pain(Engine(compile_flow(mini_flow()), SETTINGS))
    assert flags.language == "en"
    assert engine.pick_language("de") == "en"


def test_route_by_rule_and_reasons_collected(engine: Engine) -> None:
    session = engine.start().session
    session = engine.handle(session, Choose("where", "back")).session
    session = engine.handle(session, Toggle("flags", "fever")).session
    session = engine.handle(session, Done("flags")).session
    result = engine.handle(session, Number("pain", 8))
    assert result.session.outcome == "doctor"
    assert result.session.reasons == ["severe", "fever"]
    text = result.replies[-1].text
    assert "your pain is 8 out of 10" in text and "• Fever" in text
    assert "cannot diagnose" in text
    assert result.replies[-1].link is None  # no booking at a see-a-doctor outcome


def test_booking_link_only_where_the_outcome_offers_it(engine: Engine) -> None:
    result = engine.handle(walk_to_pain(engine), Number("pain", 2))
    assert result.session.outcome == "book"
    assert result.replies[-1].link is not None
    assert result.replies[-1].link.url == "https://example.com/book"


def test_emergency_multi_select_goes_straight_to_urgent_outcome(engine: Engine) -> None:
    session = engine.handle(engine.start().session, Choose("where", "back")).session
    session = engine.handle(session, Toggle("flags", "numb")).session
    result = engine.handle(session, Done("flags"))
    assert result.session.outcome == "urgent"
    reply = result.replies[-1]
    assert reply.urgent and "Call 999 now." in reply.text
    assert "pain" not in result.session.answers


def test_an_urgent_outcome_closes_with_the_urgent_disclaimer_when_the_flow_has_one() -> None:
    flow = replace(mini_flow(), urgent_disclaimer=t("We cannot diagnose; the emergency team will."))
    engine = Engine(compile_flow(flow), SETTINGS)
    urgent = engine.handle(engine.start().session, Text("can't pee")).replies[-1].text
    assert urgent.endswith("We cannot diagnose; the emergency team will.")
    assert "A massage therapist cannot diagnose." not in urgent  # not both closings
    calm = engine.handle(walk_to_pain(engine), Number("pain", 2)).replies[-1].text
    assert "A massage therapist cannot diagnose." in calm
    assert "the emergency team" not in calm


def with_paragraphs(step_id: str, *paragraphs: Paragraph) -> Engine:
    flow = mini_flow()
    steps = dict(flow.steps)
    steps[step_id] = replace(steps[step_id], more=paragraphs)
    return Engine(compile_flow(replace(flow, steps=steps)), SETTINGS)


def test_paragraphs_whose_condition_holds_follow_the_text_in_order() -> None:
    engine = with_paragraphs(
        "doctor",
        Paragraph(t("Severe: see them today."), cond("pain >= 7")),
        Paragraph(t("Fever: call {emergency_number} if you get worse."), cond('flags has "fever"')),
        Paragraph(t("Mild.", "Leve."), cond("pain < 7")),
        Paragraph(t("Thank you.")),  # no condition: always
    )
    session = engine.handle(engine.start().session, Choose("where", "back")).session
    session = engine.handle(session, Toggle("flags", "fever")).session
    session = engine.handle(session, Done("flags")).session
    text = engine.handle(session, Number("pain", 8)).replies[-1].text
    assert text.startswith(
        "Please see your doctor.\n\nSevere: see them today.\n\n"
        "Fever: call 999 if you get worse.\n\nThank you.\n\n**Why we suggest this:**"
    )
    assert "Mild." not in text


def test_a_paragraph_over_an_answer_never_given_is_not_shown_and_never_fails() -> None:
    engine = with_paragraphs(
        "urgent",
        Paragraph(t("Painful."), cond("pain >= 0")),  # pain is asked after the flags
        Paragraph(t("Not a severe pain."), cond("not (pain >= 7)")),  # `not` of false holds
        Paragraph(t("You chose {where}."), cond('where in ["back", "buttock"]')),
    )
    # The safety net reaches the outcome at the very first question: no answer at all yet.
    early = engine.handle(engine.start().session, Text("can't pee")).replies[-1].text
    assert "Painful." not in early and "You chose" not in early
    assert "Not a severe pain." in early
    later = engine.handle(walk_to_pain(engine), Text("numb down there")).replies[-1].text
    assert "You chose Buttock." in later and "Painful." not in later


def test_paragraphs_are_in_the_persons_language() -> None:
    engine = with_paragraphs("book", Paragraph(t("Mild.", "Leve."), cond("pain < 7")))
    session = engine.start(language="es").session
    session = engine.handle(session, Choose("where", "back")).session
    session = engine.handle(session, Toggle("flags", "none")).session
    session = engine.handle(session, Done("flags")).session
    assert "Leve." in engine.handle(session, Number("pain", 2)).replies[-1].text


def test_without_an_urgent_disclaimer_urgent_outcomes_keep_the_disclaimer(engine: Engine) -> None:
    urgent = engine.handle(engine.start().session, Text("can't pee")).replies[-1].text
    assert "A massage therapist cannot diagnose." in urgent


def test_exclusive_option_clears_the_others_and_vice_versa(engine: Engine) -> None:
    session = engine.handle(engine.start().session, Choose("where", "back")).session
    session = engine.handle(session, Toggle("flags", "fever")).session
    session = engine.handle(session, Toggle("flags", "numb")).session
    assert session.draft == ["numb", "fever"]  # option order, not tick order
    result = engine.handle(session, Toggle("flags", "none"))
    assert result.refresh and result.session.draft == ["none"]
    selected = [b.value for b in result.replies[0].buttons if b.selected]
    assert selected == ["none"]
    session = engine.handle(result.session, Toggle("flags", "fever")).session
    assert session.draft == ["fever"]


def test_done_with_nothing_ticked_asks_again_without_change(engine: Engine) -> None:
    session = engine.handle(engine.start().session, Choose("where", "back")).session
    result = engine.handle(session, Done("flags"))
    assert not result.accepted
    assert result.session is session
    assert "at least one" in result.replies[0].text
    assert result.replies[-1].step == "flags"


def test_number_out_of_range_and_typed_digits(engine: Engine) -> None:
    session = walk_to_pain(engine)
    result = engine.handle(session, Text("11"))
    assert not result.accepted and result.session.step == "pain"
    assert "from 0 to 10" in result.replies[0].text
    result = engine.handle(session, Text(" 4/10 "))
    assert result.accepted and result.session.answers["pain"] == 4


def test_typing_when_buttons_expected_matches_label_or_asks_kindly(engine: Engine) -> None:
    session = engine.start().session
    result = engine.handle(session, Text("lower BACK"))
    assert result.session.answers["where"] == "back"
    result = engine.handle(session, Text("it hurts everywhere"))
    assert not result.accepted
    assert result.replies[0].kind is ReplyKind.NOTICE
    assert result.replies[1].step == "where"


def test_stale_or_forged_button_leaves_session_unchanged(engine: Engine) -> None:
    session = walk_to_pain(engine)
    for message in (Choose("where", "back"), Choose("pain", "x"), Toggle("flags", "numb")):
        result = engine.handle(session, message)
        assert not result.accepted
        assert result.session.to_json() == session.to_json()
        assert "moved on" in result.replies[0].text


def test_back_follows_the_real_path_and_restores_ticks(engine: Engine) -> None:
    session = walk_to_pain(engine)
    result = engine.handle(session, Back())
    assert result.session.step == "flags"
    assert "flags" not in result.session.answers
    assert result.session.draft == ["none"]
    again = engine.handle(engine.handle(result.session, Done("flags")).session, Number("pain", 3))
    direct = engine.handle(session, Number("pain", 3))
    assert again.session.to_json() == direct.session.to_json()


def test_back_from_an_outcome_reopens_the_last_question(engine: Engine) -> None:
    done = engine.handle(walk_to_pain(engine), Number("pain", 2)).session
    result = engine.handle(done, Back())
    assert result.session.outcome is None and result.session.step == "pain"


def test_back_at_the_start_says_there_is_nothing_to_undo(engine: Engine) -> None:
    result = engine.handle(engine.start().session, Back())
    assert not result.accepted and "nothing to go back" in result.replies[0].text


def test_a_clear_warning_jumps_to_urgent_from_any_step(engine: Engine) -> None:
    session = walk_to_pain(engine)
    result = engine.handle(session, Text("Honestly I CAN’T pee since yesterday!!"))
    assert result.session.outcome == "urgent"
    assert result.session.reasons == ["bladder"]  # the concept, explained by its reason text
    assert "you wrote that you cannot pee" in result.replies[-1].text
    assert result.screening is not None and result.screening.evidence == "CAN’T pee"


def test_back_after_an_emergency_asks_whether_it_was_a_mistake(engine: Engine) -> None:
    urgent = engine.handle(walk_to_pain(engine), Text("cant pee")).session
    asked = engine.handle(urgent, Back())
    assert asked.session.pending == UNDO_EMERGENCY and asked.session.step == "urgent"
    assert "mistake" in asked.replies[0].text
    assert [b.action for b in asked.replies[0].buttons] == [Action.CONFIRM, Action.CONFIRM]
    kept = engine.handle(asked.session, Confirm("urgent", yes=False))
    assert kept.session.outcome == "urgent" and kept.session.pending is None
    assert not kept.withdrawn
    undone = engine.handle(asked.session, Confirm("urgent", yes=True))
    assert undone.withdrawn and undone.session.withdrawn
    assert undone.session.step == "pain" and undone.session.outcome is None  # where they were


def test_a_negated_warning_asks_one_yes_no_question_naming_the_sign(engine: Engine) -> None:
    session = walk_to_pain(engine)
    asked = engine.handle(session, Text("there is no numbness down there"))
    assert asked.session.pending == "numb" and asked.session.outcome is None
    (question,) = asked.replies
    assert "numbness down there" in question.text
    assert [b.value for b in question.buttons] == ["yes", "no"]
    yes = engine.handle(asked.session, Confirm("pain", yes=True))
    assert yes.session.outcome == "urgent" and yes.session.reasons == ["numb"]


def test_no_to_the_safety_question_returns_to_exactly_where_they_were(engine: Engine) -> None:
    session = engine.start().session
    session = engine.handle(session, Choose("where", "buttock")).session
    ticked = engine.handle(session, Toggle("flags", "fever")).session
    asked = engine.handle(ticked, Text("maybe a bit numb down there?")).session
    assert asked.pending == "numb"
    answered = engine.handle(asked, Text("no"))
    assert answered.session.pending is None
    assert answered.session.step == "flags" and answered.session.draft == ["fever"]  # kept
    assert answered.replies[-1].kind is ReplyKind.QUESTION and answered.replies[-1].step == "flags"


def test_anything_but_yes_or_no_asks_the_safety_question_again(engine: Engine) -> None:
    asked = engine.handle(walk_to_pain(engine), Text("no numbness down there")).session
    for other in (Text("what?"), Number("pain", 3), Choose("where", "buttock")):
        result = engine.handle(asked, other)
        assert not result.accepted and result.session.pending == "numb"
        assert result.replies[-1].buttons[0].action is Action.CONFIRM


def test_a_clear_warning_in_the_first_message_is_answered_without_a_conversation() -> None:
    engine = Engine(compile_flow(mini_flow()), SETTINGS)
    result = engine.handle(None, Text("i cant pee"))
    assert result.session.outcome == "urgent" and result.replies[-1].urgent
    doubtful = engine.handle(None, Text("not sure, maybe numb down there"))
    assert doubtful.session.pending == "numb"


def test_a_warning_is_heard_when_the_flow_changed_under_the_conversation(engine: Engine) -> None:
    stale = walk_to_pain(engine)
    stale.flow_version = "an older version"
    stale.step = "a step that is gone"
    result = engine.handle(stale, Text("numb down there"))
    assert result.session.outcome == "urgent" and result.session.flow_version == "1-test"


def test_a_warning_typed_after_an_outcome_still_leads_to_urgent(engine: Engine) -> None:
    done = engine.handle(walk_to_pain(engine), Number("pain", 2)).session
    assert done.outcome == "book"
    assert engine.handle(done, Text("now i cannot pee")).session.outcome == "urgent"


def test_the_whole_of_a_long_message_is_read(engine: Engine) -> None:
    long = "the pain started when I lifted a box. " * 200 + "and now I cannot pee"
    assert len(long) > 5000
    assert engine.handle(walk_to_pain(engine), Text(long)).session.outcome == "urgent"


def test_an_edited_last_answer_corrects_it_while_the_next_question_is_open() -> None:
    flow = mini_flow()
    engine = Engine(compile_flow(flow), SETTINGS)
    pain = walk_to_pain(engine)
    # the "where" question is a choice; amending "flags" (a multi) cannot be typed, so
    # amend the typed number on a fresh session: answer pain, then correct it.
    done = engine.handle(pain, Text("8")).session
    assert done.outcome == "doctor"
    # Finished: an edit is read as a new message (the outcome stays).
    assert engine.handle(done, Amend("pain", "2")).session.outcome == "doctor"
    # Before the outcome: the last answer is corrected.
    where = engine.start().session
    where = engine.handle(where, Choose("where", "buttock")).session
    corrected = engine.handle(where, Amend("where", "buttock"))
    assert corrected.session.step == "flags" and corrected.session.answers == {"where": "buttock"}


def test_safety_net_needs_whole_words(engine: Engine) -> None:
    result = engine.handle(walk_to_pain(engine), Text("scan't peel"))
    assert result.session.outcome is None


def test_finished_conversation_explains_how_to_restart(engine: Engine) -> None:
    done = engine.handle(walk_to_pain(engine), Number("pain", 2)).session
    result = engine.handle(done, Text("thanks"))
    assert not result.accepted and "/restart" in result.replies[0].text
    restarted = engine.handle(done, Restart())
    assert restarted.session.step == "where" and restarted.session.answers == {}


def test_repeat_shows_notice_and_current_question(engine: Engine) -> None:
    session = walk_to_pain(engine)
    result = engine.handle(session, Repeat(notice="unsupported"))
    assert "only read text" in result.replies[0].text
    assert result.replies[1].step == "pain"
    assert len(result.replies[1].buttons) == 11
    assert {b.action for b in result.replies[1].buttons} == {Action.NUMBER}


def test_very_long_text_gets_a_kind_answer(engine: Engine) -> None:
    result = engine.handle(engine.start().session, Text("x" * 5000))
    assert not result.accepted and "longer" in result.replies[0].text


def test_session_from_another_flow_version_with_vanished_step_restarts_politely(
    engine: Engine,
) -> None:
    session = walk_to_pain(engine)
    session.step = "gone"
    result = engine.handle(session, Number("pain", 3))
    assert "updated our questions" in result.replies[0].text
    assert result.session.step == "where" and result.session.answers == {}


def test_start_again_keeps_language(engine: Engine) -> None:
    session = engine.start(language="es").session
    assert engine.handle(session, Start()).session.language == "es"


def test_session_json_round_trip_and_garbage(engine: Engine) -> None:
    session = walk_to_pain(engine)
    assert Session.from_json(session.to_json()) == session
    for garbage in ("", "[]", '{"flow": 1}', "nope"):
        with pytest.raises(SessionError):
            Session.from_json(garbage)


def test_answers_appear_in_texts_as_labels(engine: Engine) -> None:
    session = walk_to_pain(engine)
    assert "You chose Buttock." in engine.current(session)[0].text


def test_fill_never_reaches_into_objects() -> None:
    values = {"name": "Ann"}
    assert fill("Hi {name}", values) == "Hi Ann"
    assert fill("{name.__class__} {0} {unknown}", values) == "{name.__class__} {0} {unknown}"


def test_engine_does_not_mutate_the_input_session(engine: Engine) -> None:
    session = walk_to_pain(engine)
    before = session.to_json()
    engine.handle(session, Number("pain", 9))
    engine.handle(session, Back())
    assert session.to_json() == before


def test_typing_a_label_at_a_multi_select_ticks_it_and_done_confirms(engine: Engine) -> None:
    session = engine.handle(engine.start().session, Choose("where", "back")).session
    result = engine.handle(session, Text("none of these"))
    assert result.accepted and result.refresh and result.session.draft == ["none"]
    result = engine.handle(result.session, Text("Done"))
    assert result.session.answers["flags"] == ["none"]
    assert result.session.step == "pain"


def test_phrase_matching_ignores_case_accents_and_curly_apostrophes() -> None:
    assert normalise_phrase("PÉRDIDA  de control!") == normalise_phrase("perdida de control")
    assert normalise_phrase("Can’t  PEE...") == "can't pee"


def test_words_of_a_term_may_have_one_other_word_between_them() -> None:
    flow = mini_flow()
    engine = Engine(compile_flow(flow), SETTINGS)
    session = engine.start().session
    assert engine.handle(session, Text("I can't sleep, so I peeled")).session.outcome is None
    assert engine.handle(session, Text("I can't really pee")).session.outcome == "urgent"
    assert engine.handle(session, Text("numb right down there")).session.outcome == "urgent"
    assert engine.handle(session, Text("I can pee")).session.outcome is None


def test_the_safety_line_and_a_sign_question_for_the_transport(engine: Engine) -> None:
    """The transport's own messages (an unreadable message, a check-in, consent) carry the
    safety line; before consent it asks about a sign without a session."""
    assert engine.safety_line("en") == "Numb between the legs? Call 999."
    assert (
        engine.safety_line(None) == engine.safety_line("de") == "Numb between the legs? Call 999."
    )
    asked = engine.sign_question("numb", "en")
    assert asked == engine.current(replace(walk_to_pain(engine), pending="numb"))[0].text
    assert "numbness down there" in asked
    bare = Engine(compile_flow(replace(mini_flow(), safety_line=None)), SETTINGS)
    assert bare.safety_line("en") is None
