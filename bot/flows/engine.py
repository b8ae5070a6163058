"""The flow engine: `(flow, session, input) -> (session, events)`, with no I/O.

The engine decides what happens; the conversation (`bot.conversation`) applies the
events: sends replies, creates or updates the case, wipes the session. Everything
the engine needs to know about her message (variety, intent, urgency, town) arrives
already computed in `Input`, so the engine stays deterministic and testable from
data files.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.flows.loader import HOST_PLACEHOLDERS
from bot.flows.matching import (
    any_equal,
    contains_keyword,
    fold,
    numbers_in_answer,
    pick_by_numbers,
    starts_with_words,
)
from bot.flows.schema import RESUME, Ask, Choice, Condition, Flow, Node, Route
from bot.types import DEFAULT_VARIETY, VARIETIES, Variety

MAX_STEPS = 64
# What she tells of her situation where a choice was expected, kept for the counselor.
DISCLOSURES = "disclosures"
MAX_DISCLOSURES = 5
MAX_DISCLOSURE_CHARS = 1000
_DISCLOSURE_WORDS = 4  # a sentence, not an answer ("oui bien sûr", "2 et 3")


class FlowRuntimeError(Exception):
    """The flow cannot go on (a loop or a missing node slipped past validation)."""


# --- input -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Input:
    """Her message, as the conversation understood it."""

    text: str = ""
    language: Variety = DEFAULT_VARIETY
    choice_id: str | None = None  # a pressed button (Telegram callback)
    intent: str | None = None
    intent_confidence: float = 0.0
    urgent: bool = False
    quick_exit: bool = False  # the NLU is confident she wants to stop
    needs: tuple[str, ...] = ()  # needs named in the message (NLU)
    violence: tuple[str, ...] = ()
    place: Mapping[str, Any] | None = None  # town found in the message, as a slot value
    names_a_town: bool = False  # her whole message is a known town's name ("Safi")


def is_disclosure(inp: Input) -> bool:
    """She tells something of her situation (violence named, a need, danger), in a
    sentence rather than an answer."""
    words = len(inp.text.split())
    if inp.violence:
        return words >= 2  # "rajli kaydrbni", "راجلي كيضربني"
    return (inp.urgent or bool(inp.needs)) and words >= _DISCLOSURE_WORDS


# --- events ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplyChoice:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Reply:
    text_id: str
    text: str
    choices: tuple[ReplyChoice, ...] = ()
    multiple: bool = False


@dataclass(frozen=True, slots=True)
class HandoffRequested:
    urgent: bool
    slots: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CaseUpdateRequested:
    slots: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class QuickExit:
    pass


@dataclass(frozen=True, slots=True)
class EraseRequested:
    """She confirmed that everything she wrote, and her address, be deleted."""


@dataclass(frozen=True, slots=True)
class ConversationEnded:
    node: str


@dataclass(frozen=True, slots=True)
class LanguageChanged:
    language: Variety


Event = (Reply | HandoffRequested | CaseUpdateRequested | EraseRequested | QuickExit
         | ConversationEnded | LanguageChanged)


# --- session -----------------------------------------------------------------------

SessionStatus = Literal["active", "ended", "quit"]


@dataclass(slots=True)
class CaseLink:
    """Her case, once the conversation has made one (or found it open). It belongs to
    the conversation (`bot.conversation`); the engine carries it and never reads it."""

    case_id: int | None = None
    reference: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "reference": self.reference}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CaseLink:
        """Also as sessions written before it had its name (`host`: `case_id`,
        `case_reference`), which may still be in the session store."""
        case_id = data.get("case_id")
        reference = data.get("reference", data.get("case_reference"))
        return cls(case_id=int(case_id) if case_id is not None else None,
                   reference=str(reference) if reference is not None else None)


@dataclass(slots=True)
class Session:
    """One conversation's state. `case` belongs to the conversation; the engine never
    reads or writes it."""

    flow: str
    conversation_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    language: Variety | None = None
    node: str | None = None  # the question she is being asked, if any
    resume: str | None = None  # the question to come back to after an interruption
    slots: dict[str, Any] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    status: SessionStatus = "active"
    case: CaseLink = field(default_factory=CaseLink)

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "conversation_id": self.conversation_id,
            "language": self.language,
            "node": self.node,
            "resume": self.resume,
            "slots": self.slots,
            "attempts": self.attempts,
            "status": self.status,
            "case": self.case.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Session:
        language = data.get("language")
        status = data.get("status", "active")
        return cls(
            flow=str(data["flow"]),
            conversation_id=str(data.get("conversation_id") or uuid.uuid4().hex),
            language=language if language in VARIETIES else None,
            node=data.get("node"),
            resume=data.get("resume"),
            slots=dict(data.get("slots") or {}),
            attempts={str(k): int(v) for k, v in (data.get("attempts") or {}).items()},
            status=status if status in ("active", "ended", "quit") else "active",
            case=CaseLink.from_dict(data.get("case") or data.get("host") or {}),
        )


# --- the engine ----------------------------------------------------------------------


def is_quick_exit(flow: Flow, text: str) -> bool:
    """A whole message that is one of the flow's quick-exit words."""
    return bool(text) and any_equal(fold(text), flow.quick_exit_words)


def is_erase_request(flow: Flow, text: str) -> bool:
    """The message asks that her data be deleted (one of the flow's phrases in it)."""
    folded = fold(text)
    return bool(folded) and any(contains_keyword(folded, p) for p in flow.erase_phrases)


def language_switch(flow: Flow, text: str) -> Variety | None:
    folded = fold(text)
    if not folded:
        return None
    for variety, words in flow.language_words.items():
        if any_equal(folded, words):
            return variety
    return None


def expected_input(flow: Flow, session: Session) -> str | None:
    """What the current question expects (`choice`, `text`, `place`), or None."""
    if session.node is None or session.node not in flow.nodes:
        return None
    ask = flow.nodes[session.node].ask
    return ask.input if ask else None


class _Run:
    def __init__(self, flow: Flow, session: Session, inp: Input) -> None:
        self.flow = flow
        self.session = session
        self.inp = inp
        self.events: list[Event] = []
        self.selected: list[str] = []
        self.erase = is_erase_request(flow, inp.text)
        # A quick-exit word always leaves. The NLU's quick-exit intent leaves too, but
        # not when she asks for erasure ("supprimez mes données" is no reason to drop
        # the request) nor when she picks a choice of the question asked ("Oui, tout
        # effacer").
        # A town that is also a quick-exit word ("Safi" at the town question) is the
        # town: the NLU says so (`names_a_town`), and reads it back to her.
        self.quick = (is_quick_exit(flow, inp.text) and not inp.names_a_town) or (
            inp.quick_exit and not self.erase and not self._picks_a_choice())

    @property
    def variety(self) -> Variety:
        return self.session.language or DEFAULT_VARIETY

    # conditions ---------------------------------------------------------------------

    def holds(self, cond: Condition, node_id: str | None) -> bool:
        if cond.otherwise:
            return True
        if cond.choice is not None and cond.choice not in self.selected:
            return False
        if cond.intent and self.inp.intent not in cond.intent:
            return False
        if cond.slot is not None:
            value = self.session.slots.get(cond.slot)
            present = value not in (None, "", [], {})
            if cond.is_set is not None and present != cond.is_set:
                return False
            if cond.equals is not None and str(value) != cond.equals:
                return False
        if cond.urgent is not None and self.inp.urgent != cond.urgent:
            return False
        if cond.quick_exit is not None and self.quick != cond.quick_exit:
            return False
        if cond.erase_request is not None and self.erase != cond.erase_request:
            return False
        if cond.place_guessed is not None:
            place = self.inp.place
            guessed = isinstance(place, Mapping) and bool(place.get("guessed"))
            if guessed != cond.place_guessed:
                return False
        if cond.attempts_at_least is not None:
            if node_id is None or self.session.attempts.get(node_id, 0) < cond.attempts_at_least:
                return False
        return True

    def _picks_a_choice(self) -> bool:
        """Her answer is one of the current question's choices, by button, number,
        label or synonym, whole (not by keyword, intent or its first words)."""
        node = self.flow.nodes.get(self.session.node or "")
        if node is None or node.ask is None or not node.ask.choices:
            return False
        if self.inp.choice_id is not None:
            return True
        folded = fold(self.inp.text)
        if numbers_in_answer(folded) is not None:
            return True
        # Only the whole answer counts: "لا تراسلني" ("do not write to me") opens with
        # "no" and is a quick exit all the same.
        return any(any_equal(folded, self._words_of(c)) for c in node.ask.choices)

    def keep_answer_before_interrupt(self) -> None:
        """She answered a question in her own words and the answer also raised an
        interrupt (danger in the few words about what happened, in her town...): her
        answer is kept, so the flow does not ask it again."""
        node = self.flow.nodes.get(self.session.node or "")
        if node is None or node.ask is None or node.ask.slot is None or self.quick:
            return
        if node.ask.input == "text" and self.inp.text.strip():
            self.session.slots[node.ask.slot] = self.inp.text.strip()
        elif node.ask.input == "place" and self.inp.place is not None:
            self.session.slots[node.ask.slot] = dict(self.inp.place)

    def first_route(self, routes: tuple[Route, ...], node_id: str | None) -> str | None:
        for route in routes:
            if self.holds(route.when, node_id):
                return route.goto
        return None

    # rendering ----------------------------------------------------------------------

    def render(self, text_id: str) -> str:
        template = self.flow.text(text_id, self.variety)
        values: dict[str, str] = {name: "{" + name + "}" for name in HOST_PLACEHOLDERS}
        values["city"] = self._city_label()
        values["province"] = self._city_label(province=True)
        values["needs"] = self._needs_label()
        return template.format_map(values)

    def _city_label(self, *, province: bool = False) -> str:
        """Her town's name (or its province's) in the script of her variety."""
        city = self.session.slots.get("city")
        if not isinstance(city, Mapping):
            return ""
        arabic = self.variety in ("ary", "ar")
        french, arab = ("province_fr", "province_ar") if province else ("name_fr", "name_ar")
        return str(city.get(arab) if arabic and city.get(arab) else city.get(french, ""))

    def _needs_label(self) -> str:
        needs = self.session.slots.get("needs") or []
        labels = []
        for need in needs if isinstance(needs, list) else [needs]:
            text_id = f"label_{need}"
            labels.append(self.flow.text(text_id, self.variety) if text_id in self.flow.texts
                          else str(need))
        return "، ".join(labels) if self.variety in ("ary", "ar") else ", ".join(labels)

    def reply_for_ask(self, node: Node) -> Reply:
        assert node.ask is not None
        return Reply(
            text_id=node.ask.text,
            text=self.render(node.ask.text),
            choices=tuple(ReplyChoice(c.id, self.render(c.text)) for c in node.ask.choices),
            multiple=node.ask.multiple,
        )

    # moving through nodes ---------------------------------------------------------------

    def enter(self, node_id: str) -> None:
        for _ in range(MAX_STEPS):
            if node_id == RESUME:
                target, self.session.resume = self.session.resume, None
                if target is not None and target in self.flow.nodes:
                    self.ask_again(target, with_apology=False)
                    return
                if self.session.slots.get("case_requested"):
                    # Nothing to come back to and her case exists: the conversation
                    # is over, her next messages go to the case.
                    self.session.status = "ended"
                    self.session.node = None
                    self.events.append(ConversationEnded(node=RESUME))
                    return
                node_id = self.flow.start
            node = self.flow.nodes.get(node_id)
            if node is None:
                raise FlowRuntimeError(f"flow '{self.flow.name}': unknown node '{node_id}'")
            redirect = self.first_route(node.on_enter, node_id)
            if redirect is not None:
                node_id = redirect
                continue
            if self.run_actions(node):
                return
            if node.ask is not None:
                self.session.node = node.id
                self.events.append(self.reply_for_ask(node))
                return
            if node.goto is None:
                raise FlowRuntimeError(f"flow '{self.flow.name}' node '{node.id}': nowhere to go")
            node_id = node.goto
        raise FlowRuntimeError(f"flow '{self.flow.name}': more than {MAX_STEPS} steps "
                               "without a question")

    def run_actions(self, node: Node) -> bool:
        """Run a node's actions; True when the conversation stops here."""
        slots = self.session.slots
        for action in node.actions:
            if action.kind == "send" and action.text is not None:
                self.events.append(Reply(text_id=action.text, text=self.render(action.text)))
            elif action.kind == "set" and action.slot is not None:
                slots[action.slot] = action.value
            elif action.kind == "clear" and action.slot is not None:
                slots.pop(action.slot, None)
            elif action.kind == "handoff":
                slots["case_requested"] = True
                if action.urgent:
                    slots["urgent"] = True
                self.events.append(HandoffRequested(urgent=action.urgent or bool(slots.get("urgent")),
                                                    slots=copy.deepcopy(slots)))
            elif action.kind == "update_case":
                self.events.append(CaseUpdateRequested(slots=copy.deepcopy(slots)))
            elif action.kind == "erase":
                self.events.append(EraseRequested())
            elif action.kind == "quick_exit":
                self.session.status = "quit"
                self.session.node = None
                self.events.append(QuickExit())
                return True
            elif action.kind == "end":
                self.session.status = "ended"
                self.session.node = None
                self.events.append(ConversationEnded(node=node.id))
                return True
        return False

    def ask_again(self, node_id: str, *, with_apology: bool) -> None:
        node = self.flow.nodes[node_id]
        if with_apology:
            text_id = self._why_asked_again()
            self.events.append(Reply(text_id=text_id, text=self.render(text_id)))
        self.session.node = node_id
        self.events.append(self.reply_for_ask(node))

    def _why_asked_again(self) -> str:
        """What she hears before a question comes again, as a person would answer:
        what she told is kept and thanked for ("my husband beats me" at the consent
        question), a greeting or an emoji is greeted, anything else gets the choices
        again and the offer of a person (`not_understood`)."""
        inp, texts = self.inp, self.flow.texts
        if is_disclosure(inp):
            kept = list(self.session.slots.get(DISCLOSURES) or [])
            if len(kept) < MAX_DISCLOSURES:
                kept.append(inp.text.strip()[:MAX_DISCLOSURE_CHARS])
                self.session.slots[DISCLOSURES] = kept
            if "disclosure_kept" in texts:
                return "disclosure_kept"
        elif (inp.intent == "greet" or not any(c.isalnum() for c in inp.text)) \
                and "still_here" in texts:
            return "still_here"
        return "not_understood"

    # answers ----------------------------------------------------------------------------

    def match_choices(self, ask: Ask) -> list[str]:
        inp, choices = self.inp, ask.choices
        by_id = {c.id: c for c in choices}
        if inp.choice_id is not None:
            return [inp.choice_id] if inp.choice_id in by_id else []
        folded = fold(inp.text)
        if not folded:
            return []
        numbers = numbers_in_answer(folded)
        if numbers is not None:
            return [choices[i].id for i in pick_by_numbers(numbers, len(choices), ask.multiple)]
        for choice in choices:
            labels = [self.flow.text(choice.text, v) for v in VARIETIES]
            if any_equal(folded, [*labels, *choice.synonyms]):
                return [choice.id]
        if ask.input == "choice" and not ask.multiple:
            # "oui je peux écrire", "ah n9der", "نعم أستطيع الكتابة الآن": an answer that
            # opens with one choice's words (and no other's) picks it.
            leading = [c.id for c in choices if any(starts_with_words(folded, word)
                                                    for word in self._words_of(c))]
            if len(leading) == 1:
                return leading
        hits = [c.id for c in choices if self._choice_named(c, folded)]
        if ask.multiple:
            return hits
        if len(hits) == 1:
            return hits
        if inp.intent is not None:  # several keywords: the NLU's best intent decides
            by_intent = [c.id for c in choices if inp.intent in c.intent]
            if len(by_intent) == 1:
                return by_intent
        return []

    def _words_of(self, choice: Choice) -> list[str]:
        return [*(self.flow.text(choice.text, v) for v in VARIETIES), *choice.synonyms]

    def _choice_named(self, choice: Choice, folded: str) -> bool:
        if any(contains_keyword(folded, keyword) for keyword in choice.keywords):
            return True
        if choice.intent:
            if self.inp.intent in choice.intent:
                return True
            if any(need in choice.intent for need in self.inp.needs):
                return True
        return False

    def answer(self, node: Node) -> None:
        ask = node.ask
        assert ask is not None
        self.session.attempts[node.id] = self.session.attempts.get(node.id, 0) + 1
        self.selected = self.match_choices(ask) if ask.choices else []
        if ask.slot is not None:
            value = self._slot_value(ask)
            if value is not None:
                self.session.slots[ask.slot] = value
        target = self.first_route(node.routes, node.id)
        if target is None:
            self.ask_again(node.id, with_apology=True)
            return
        self.session.node = None
        self.enter(target)

    def _slot_value(self, ask: Ask) -> Any:
        if self.selected:
            values = [self._choice_value(ask, cid) for cid in self.selected]
            return values if ask.multiple else values[0]
        if ask.input == "place" and self.inp.place is not None:
            return dict(self.inp.place)
        if ask.input == "text" and self.inp.text.strip():
            return self.inp.text.strip()
        return None

    @staticmethod
    def _choice_value(ask: Ask, choice_id: str) -> str:
        for choice in ask.choices:
            if choice.id == choice_id:
                return choice.value if choice.value is not None else choice.id
        return choice_id

    def absorb_first_message(self) -> None:
        """A first message that names a need or a town fills those slots, so the flow
        can confirm instead of asking again."""
        slots = self.session.slots
        if self.inp.needs and not slots.get("needs"):
            slots["needs"] = list(dict.fromkeys(self.inp.needs))
        if self.inp.place is not None and not slots.get("city"):
            slots["city"] = dict(self.inp.place)

    def absorb_every_message(self) -> None:
        if self.inp.violence:
            known = list(self.session.slots.get("violence") or [])
            known.extend(v for v in self.inp.violence if v not in known)
            self.session.slots["violence"] = known
        if self.inp.urgent:
            self.session.slots["urgent_signal"] = True

    # entry point ---------------------------------------------------------------------

    def run(self) -> None:
        session = self.session
        switched = language_switch(self.flow, self.inp.text)
        if switched is not None:
            session.language = switched
            self.events.append(LanguageChanged(language=switched))
            if session.node is not None:
                self.ask_again(session.node, with_apology=False)
            else:
                self.enter(self.flow.start)
            return
        first = session.node is None
        if first:
            self.absorb_first_message()
        self.absorb_every_message()
        interrupt = self.first_route(self.flow.interrupts, session.node)
        if interrupt is not None:
            if session.node is not None:
                self.keep_answer_before_interrupt()
                session.resume = session.node
            session.node = None
            self.enter(interrupt)
            return
        if first:
            self.enter(self.flow.start)
            return
        node = self.flow.nodes.get(session.node or "")
        if node is None or node.ask is None:  # the flow changed under her: start again
            session.node = None
            self.enter(self.flow.start)
            return
        self.answer(node)


def current_question(flow: Flow, session: Session) -> Reply | None:
    """The question she is at, asked again as it was (after an attachment, /start):
    None when she is at no question. Pure."""
    node = flow.nodes.get(session.node or "")
    if node is None or node.ask is None or session.status != "active":
        return None
    working = Session.from_dict(copy.deepcopy(session.to_dict()))
    return _Run(flow, working, Input(language=session.language or DEFAULT_VARIETY)
                ).reply_for_ask(node)


def run(flow: Flow, session: Session, inp: Input) -> tuple[Session, list[Event]]:
    """Advance one conversation by one message. Pure: the given session is not modified."""
    working = Session.from_dict(copy.deepcopy(session.to_dict()))
    if working.status != "active":
        working = Session(flow=flow.name, case=working.case)
    working.flow = flow.name
    working.language = inp.language
    state = _Run(flow, working, inp)
    state.run()
    return working, state.events
