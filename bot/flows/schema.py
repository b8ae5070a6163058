"""The flow format: what a flow file in `config/flows/*.yaml` may say.

A flow is data (nyaruka/goflow style): a map of nodes. Entering a node runs its
`actions` in order (send a text, set a slot, request a handoff, update the case,
quick exit, end); then the node either waits for her answer (`ask`) and picks the
next node with its `routes`, or moves on at once (`goto`). Flow-level `interrupts`
are checked on every message before the current node sees it (danger, quick exit).

Every text exists in the four varieties (`ary`, `ary_latn`, `ar`, `fr`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.types import Variety

SPEC_VERSION = 1
RESUME = "@resume"  # goto target: ask again the question she was at before an interrupt

InputKind = Literal["choice", "text", "place"]


@dataclass(frozen=True, slots=True)
class Condition:
    """One test on her input or the session. Every field that is set must hold."""

    choice: str | None = None  # this choice was selected
    intent: tuple[str, ...] = ()  # NLU intent is one of these (with enough confidence)
    slot: str | None = None  # the slot named here...
    is_set: bool | None = None  # ...is set (True) or not (False)
    equals: str | None = None  # ...equals this value
    urgent: bool | None = None  # the message is urgent
    quick_exit: bool | None = None  # the message is a quick-exit word / intent
    erase_request: bool | None = None  # she asks that her data be deleted
    place_guessed: bool | None = None  # the town in her message is a guess: read it back
    attempts_at_least: int | None = None  # she has answered this node at least N times
    otherwise: bool = False  # always true (last route)


@dataclass(frozen=True, slots=True)
class Route:
    when: Condition
    goto: str


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    text: str  # text id
    intent: tuple[str, ...] = ()  # NLU intents that select this choice
    synonyms: tuple[str, ...] = ()  # whole answers that select it (any variety)
    keywords: tuple[str, ...] = ()  # words that select it when found in the answer
    value: str | None = None  # stored in the slot instead of the id


@dataclass(frozen=True, slots=True)
class Ask:
    text: str  # text id of the question
    input: InputKind = "choice"
    slot: str | None = None
    choices: tuple[Choice, ...] = ()
    multiple: bool = False


@dataclass(frozen=True, slots=True)
class Action:
    kind: Literal["send", "set", "clear", "handoff", "update_case", "erase", "quick_exit", "end"]
    text: str | None = None  # send
    slot: str | None = None  # set / clear
    value: str | bool | None = None  # set
    urgent: bool = False  # handoff


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    on_enter: tuple[Route, ...] = ()  # checked before the actions: skip or redirect
    actions: tuple[Action, ...] = ()
    ask: Ask | None = None
    routes: tuple[Route, ...] = ()
    goto: str | None = None


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    spec_version: int
    start: str
    nodes: dict[str, Node]
    texts: dict[str, dict[Variety, str]]
    interrupts: tuple[Route, ...] = ()
    quick_exit_words: tuple[str, ...] = ()
    erase_phrases: tuple[str, ...] = ()  # "delete my data", in every variety
    language_words: dict[Variety, tuple[str, ...]] = field(default_factory=dict)
    # Labels used to render slot values inside texts ({needs}), per choice value.
    version: str = ""  # content hash, set by the loader

    def text(self, text_id: str, variety: Variety) -> str:
        return self.texts[text_id][variety]
