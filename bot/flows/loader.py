"""Load a flow from YAML and validate it, naming the node and field at fault.

Errors read like ``flow 'intake' node 'ask_city' routes[1].goto: unknown node 'cty'``
so an admin editing a flow in the console knows exactly what to fix.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.flows.schema import (
    RESUME,
    SPEC_VERSION,
    Action,
    Ask,
    Choice,
    Condition,
    Flow,
    Node,
    Route,
)
from bot.types import INTENTS, VARIETIES, Variety

# Placeholders a text may use: slots the engine fills, and `reference`, which the host
# fills once the case exists.
SLOT_PLACEHOLDERS = frozenset({"city", "province", "needs"})
HOST_PLACEHOLDERS = frozenset({"reference"})
# Texts Amane itself sends, outside any node: every flow it runs must have them.
REQUIRED_TEXTS: dict[str, str] = {
    "not_understood": "sent when an answer is not understood",
    "emergency_numbers": "sent at once when she is in danger after her case exists",
    "quick_exit_done": "sent when she stops after her case exists, or sends STOP",
    "case_ack": "sent when she writes while her case waits (at most once an hour)",
    "case_taken": "sent when a counselor takes her case",
    "case_moved": "sent when her case moves to another center (transfer, escalation)",
    "case_closed": "sent when her case is closed, with how to come back",
    "received": "sent when she sends a voice note, a photo or a location",
    "help": "sent when she asks for HELP",
    "private_only": "sent to a group chat that adds the bot",
}
# Texts Amane sends when a flow has them, and `not_understood` in their place when it
# has not (a flow written before they existed still runs).
OPTIONAL_TEXTS: dict[str, str] = {
    "disclosure_kept": "sent when she tells what happened where a choice was expected: "
                       "kept for the counselor, then the question again",
    "still_here": "sent when she greets or sends only an emoji mid-conversation",
}
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class FlowError(Exception):
    """A flow file is invalid. `problems` lists every problem found, each naming where."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class _Checker:
    def __init__(self, flow_name: str) -> None:
        self.flow_name = flow_name
        self.problems: list[str] = []

    def where(self, node: str | None, path: str) -> str:
        prefix = f"flow '{self.flow_name}'"
        if node is not None:
            prefix += f" node '{node}'"
        return f"{prefix} {path}".rstrip()

    def add(self, node: str | None, path: str, message: str) -> None:
        self.problems.append(f"{self.where(node, path)}: {message}")


def _keys(check: _Checker, node: str | None, path: str, data: Mapping[str, Any],
          allowed: Iterable[str]) -> None:
    allowed_set = set(allowed)
    for key in data:
        if key not in allowed_set:
            check.add(node, path, f"unknown field '{key}' (expected one of: "
                      f"{', '.join(sorted(allowed_set))})")


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return (str(value),)


def _condition(check: _Checker, node: str | None, path: str, data: Any) -> Condition | None:
    if not isinstance(data, Mapping):
        check.add(node, path, "must be a mapping of tests, e.g. {choice: 'yes'}")
        return None
    _keys(check, node, path, data, Condition.__dataclass_fields__)
    try:
        attempts = data.get("attempts_at_least")
        return Condition(
            choice=None if data.get("choice") is None else str(data["choice"]),
            intent=_as_tuple(data.get("intent")),
            slot=None if data.get("slot") is None else str(data["slot"]),
            is_set=None if data.get("is_set") is None else bool(data["is_set"]),
            equals=None if data.get("equals") is None else str(data["equals"]),
            urgent=None if data.get("urgent") is None else bool(data["urgent"]),
            quick_exit=None if data.get("quick_exit") is None else bool(data["quick_exit"]),
            erase_request=(None if data.get("erase_request") is None
                           else bool(data["erase_request"])),
            place_guessed=(None if data.get("place_guessed") is None
                           else bool(data["place_guessed"])),
            attempts_at_least=None if attempts is None else int(attempts),
            otherwise=bool(data.get("otherwise", False)),
        )
    except (TypeError, ValueError) as exc:
        check.add(node, path, f"bad value ({exc})")
        return None


def _routes(check: _Checker, node: str | None, path: str, data: Any) -> tuple[Route, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        check.add(node, path, "must be a list of {when: ..., goto: ...}")
        return ()
    routes = []
    for index, item in enumerate(data):
        here = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            check.add(node, here, "must be a mapping with 'goto' (and 'when')")
            continue
        _keys(check, node, here, item, ("when", "goto"))
        goto = item.get("goto")
        if not isinstance(goto, str) or not goto:
            check.add(node, f"{here}.goto", "missing")
            continue
        if "when" in item:
            condition = _condition(check, node, f"{here}.when", item["when"])
            if condition is None:
                continue
        else:
            condition = Condition(otherwise=True)
        routes.append(Route(when=condition, goto=goto))
    return tuple(routes)


def _choice(check: _Checker, node: str, path: str, data: Any) -> Choice | None:
    if not isinstance(data, Mapping):
        check.add(node, path, "must be a mapping with 'id' and 'text'")
        return None
    _keys(check, node, path, data, Choice.__dataclass_fields__)
    choice_id, text = data.get("id"), data.get("text")
    if not isinstance(choice_id, str) or not choice_id:
        check.add(node, f"{path}.id", "missing")
        return None
    if not isinstance(text, str) or not text:
        check.add(node, f"{path}.text", "missing (a text id)")
        return None
    intents = _as_tuple(data.get("intent"))
    for intent in intents:
        if intent not in INTENTS:
            check.add(node, f"{path}.intent", f"unknown intent '{intent}'")
    value = data.get("value")
    return Choice(
        id=choice_id,
        text=text,
        intent=intents,
        synonyms=_as_tuple(data.get("synonyms")),
        keywords=_as_tuple(data.get("keywords")),
        value=None if value is None else str(value),
    )


def _ask(check: _Checker, node: str, data: Any) -> Ask | None:
    if isinstance(data, str):
        data = {"text": data}
    if not isinstance(data, Mapping):
        check.add(node, "ask", "must be a text id or a mapping")
        return None
    _keys(check, node, "ask", data, Ask.__dataclass_fields__)
    text = data.get("text")
    if not isinstance(text, str) or not text:
        check.add(node, "ask.text", "missing (a text id)")
        return None
    kind = data.get("input", "choice")
    if kind not in ("choice", "text", "place"):
        check.add(node, "ask.input", f"must be choice, text or place, not '{kind}'")
        return None
    raw_choices = data.get("choices") or []
    if not isinstance(raw_choices, list):
        check.add(node, "ask.choices", "must be a list")
        raw_choices = []
    choices = []
    for index, raw in enumerate(raw_choices):
        choice = _choice(check, node, f"ask.choices[{index}]", raw)
        if choice is not None:
            choices.append(choice)
    seen: set[str] = set()
    for choice in choices:
        if choice.id in seen:
            check.add(node, "ask.choices", f"choice id '{choice.id}' is used twice")
        seen.add(choice.id)
    if kind == "choice" and not choices:
        check.add(node, "ask.choices", "a question with input 'choice' needs choices")
    slot = data.get("slot")
    if slot is not None and (not isinstance(slot, str) or not NAME_RE.match(slot)):
        check.add(node, "ask.slot", f"'{slot}' is not a valid slot name")
    return Ask(
        text=text,
        input=kind,
        slot=slot,
        choices=tuple(choices),
        multiple=bool(data.get("multiple", False)),
    )


ACTION_KINDS = ("send", "set", "clear", "handoff", "update_case", "erase", "quick_exit", "end")


def _action(check: _Checker, node: str, path: str, data: Any) -> Action | None:
    if isinstance(data, str) and data in ("handoff", "update_case", "erase", "quick_exit", "end"):
        return Action(kind=data)  # type: ignore[arg-type]
    if not isinstance(data, Mapping) or len(data) != 1:
        check.add(node, path, f"must be one of {', '.join(ACTION_KINDS)} "
                  "written as a one-key mapping, e.g. {send: greeting}")
        return None
    (kind, arg), = data.items()
    if kind not in ACTION_KINDS:
        check.add(node, path, f"unknown action '{kind}' (expected one of: "
                  f"{', '.join(ACTION_KINDS)})")
        return None
    if kind == "send":
        if not isinstance(arg, str) or not arg:
            check.add(node, f"{path}.send", "must be a text id")
            return None
        return Action(kind="send", text=arg)
    if kind == "set":
        if not isinstance(arg, Mapping) or set(arg) != {"slot", "value"}:
            check.add(node, f"{path}.set", "must be {slot: name, value: value}")
            return None
        value = arg["value"]
        if not isinstance(value, (str, bool)) and value is not None:
            value = str(value)
        return Action(kind="set", slot=str(arg["slot"]), value=value)
    if kind == "clear":
        if not isinstance(arg, str):
            check.add(node, f"{path}.clear", "must be a slot name")
            return None
        return Action(kind="clear", slot=arg)
    if kind == "handoff":
        arg = arg or {}
        if not isinstance(arg, Mapping):
            check.add(node, f"{path}.handoff", "must be a mapping, e.g. {urgent: true}")
            return None
        _keys(check, node, f"{path}.handoff", arg, ("urgent",))
        return Action(kind="handoff", urgent=bool(arg.get("urgent", False)))
    if arg not in (None, {}, True):
        check.add(node, f"{path}.{kind}", "takes no arguments")
    return Action(kind=kind)


def _placeholders(template: str) -> set[str]:
    names = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None:
            names.add(name)
    return names


def _texts(check: _Checker, data: Any) -> dict[str, dict[Variety, str]]:
    texts: dict[str, dict[Variety, str]] = {}
    if not isinstance(data, Mapping):
        check.add(None, "texts", "must be a mapping of text id -> {ary, ary_latn, ar, fr}")
        return texts
    for text_id, variants in data.items():
        path = f"texts.{text_id}"
        if not isinstance(text_id, str):
            check.add(None, path, "a text id must be a word; put it in quotes "
                      "(YAML reads yes/no/on/off as true/false)")
            continue
        if not isinstance(variants, Mapping):
            check.add(None, path, "must be a mapping of variety -> text")
            continue
        _keys(check, None, path, variants, VARIETIES)
        entry: dict[Variety, str] = {}
        for variety in VARIETIES:
            value = variants.get(variety)
            if not isinstance(value, str) or not value.strip():
                check.add(None, f"{path}.{variety}", "missing (every text needs all four "
                          "varieties: ary, ary_latn, ar, fr)")
                continue
            try:
                names = _placeholders(value)
            except ValueError as exc:
                check.add(None, f"{path}.{variety}", f"bad placeholder ({exc}); write "
                          "{{ and }} for literal braces")
                continue
            unknown = names - SLOT_PLACEHOLDERS - HOST_PLACEHOLDERS
            if unknown:
                check.add(None, f"{path}.{variety}", f"unknown placeholder "
                          f"{{{sorted(unknown)[0]}}} (allowed: "
                          f"{', '.join(sorted(SLOT_PLACEHOLDERS | HOST_PLACEHOLDERS))})")
            entry[variety] = value.strip()
        texts[str(text_id)] = entry
    return texts


TOP_LEVEL_FIELDS = ("spec_version", "name", "start", "interrupts", "texts", "nodes",
                    "quick_exit_words", "erase_phrases", "language_words")
NODE_FIELDS = ("on_enter", "actions", "ask", "routes", "goto")


def _yaml_mapping(source: str, name_hint: str) -> Mapping[str, Any]:
    """The flow file read as YAML; it must be a mapping. Problems here stop the check:
    nothing else can be read."""
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise FlowError([f"flow '{name_hint}': not valid YAML{where}"]) from None
    if not isinstance(data, Mapping):
        raise FlowError([f"flow '{name_hint}': must be a YAML mapping"])
    return data


def _check_top_level(check: _Checker, data: Mapping[str, Any]) -> None:
    _keys(check, None, "", data, TOP_LEVEL_FIELDS)
    if data.get("spec_version") != SPEC_VERSION:
        check.add(None, "spec_version", f"must be {SPEC_VERSION}, "
                  f"not {data.get('spec_version')!r}")


def _check_required_texts(check: _Checker, texts: Mapping[str, Any]) -> None:
    for required, use in REQUIRED_TEXTS.items():
        if required not in texts:
            check.add(None, f"texts.{required}", f"missing ({use})")


def _actions(check: _Checker, node: str, data: Any) -> tuple[Action, ...]:
    if not isinstance(data, list):
        check.add(node, "actions", "must be a list")
        return ()
    actions = []
    for index, raw in enumerate(data):
        action = _action(check, node, f"actions[{index}]", raw)
        if action is not None:
            actions.append(action)
    return tuple(actions)


def _node(check: _Checker, node_id: str, data: Mapping[str, Any]) -> Node:
    _keys(check, node_id, "", data, NODE_FIELDS)
    actions = _actions(check, node_id, data.get("actions") or [])
    ask = _ask(check, node_id, data["ask"]) if "ask" in data else None
    goto = data.get("goto")
    if goto is not None and not isinstance(goto, str):
        check.add(node_id, "goto", "must be a node id")
        goto = None
    return Node(
        id=node_id,
        on_enter=_routes(check, node_id, "on_enter", data.get("on_enter")),
        actions=actions,
        ask=ask,
        routes=_routes(check, node_id, "routes", data.get("routes")),
        goto=goto,
    )


def _nodes(check: _Checker, data: Any) -> dict[str, Node]:
    """The flow's nodes by id; a node whose id or body cannot be read is left out."""
    nodes: dict[str, Node] = {}
    if not isinstance(data, Mapping) or not data:
        check.add(None, "nodes", "must be a non-empty mapping of node id -> node")
        return nodes
    for node_id, raw in data.items():
        if not isinstance(node_id, str):
            check.add(str(node_id), "", "a node id must be a word; put it in quotes "
                      "(YAML reads yes/no/on/off as true/false)")
            continue
        if not NAME_RE.match(node_id):
            check.add(node_id, "", "node ids are lowercase letters, digits and _")
        if not isinstance(raw, Mapping):
            check.add(node_id, "", "must be a mapping")
            continue
        nodes[node_id] = _node(check, node_id, raw)
    return nodes


def _language_words(check: _Checker, data: Any) -> dict[Variety, tuple[str, ...]]:
    language_words: dict[Variety, tuple[str, ...]] = {}
    if not isinstance(data, Mapping):
        check.add(None, "language_words", "must be a mapping of variety -> words")
        return language_words
    for variety, words in data.items():
        if variety not in VARIETIES:
            check.add(None, f"language_words.{variety}", "unknown variety")
            continue
        language_words[variety] = _as_tuple(words)
    return language_words


def parse_flow(source: str, *, name_hint: str = "?") -> Flow:
    """Parse and validate flow YAML text. Raises `FlowError` listing every problem."""
    data = _yaml_mapping(source, name_hint)
    declared_name = data.get("name")
    name = declared_name if isinstance(declared_name, str) else name_hint
    check = _Checker(name)
    _check_top_level(check, data)
    texts = _texts(check, data.get("texts", {}))
    _check_required_texts(check, texts)
    nodes = _nodes(check, data.get("nodes"))
    interrupts = _routes(check, None, "interrupts", data.get("interrupts"))
    language_words = _language_words(check, data.get("language_words") or {})
    start = data.get("start")
    if not isinstance(start, str) or start not in nodes:
        check.add(None, "start", f"unknown node {start!r}")

    _check_references(check, nodes, texts, interrupts)

    if check.problems:
        raise FlowError(check.problems)
    version = hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]
    return Flow(
        name=name,
        spec_version=SPEC_VERSION,
        start=str(start),
        nodes=nodes,
        texts=texts,
        interrupts=interrupts,
        quick_exit_words=_as_tuple(data.get("quick_exit_words")),
        erase_phrases=_as_tuple(data.get("erase_phrases")),
        language_words=language_words,
        version=version,
    )


def _check_references(check: _Checker, nodes: dict[str, Node],
                      texts: dict[str, dict[Variety, str]],
                      interrupts: tuple[Route, ...]) -> None:
    def text_ok(node: str | None, path: str, text_id: str | None) -> None:
        if text_id is not None and text_id not in texts:
            check.add(node, path, f"unknown text '{text_id}'")

    def goto_ok(node: str | None, path: str, target: str) -> None:
        if target not in nodes and target != RESUME:
            check.add(node, path, f"unknown node '{target}'")

    def routes_ok(node: str | None, path: str, routes: tuple[Route, ...],
                  choice_ids: set[str] | None) -> None:
        for index, route in enumerate(routes):
            goto_ok(node, f"{path}[{index}].goto", route.goto)
            for intent in route.when.intent:
                if intent not in INTENTS:
                    check.add(node, f"{path}[{index}].when.intent", f"unknown intent '{intent}'")
            if route.when.choice is not None:
                if choice_ids is None:
                    check.add(node, f"{path}[{index}].when.choice",
                              "only a node that asks with choices can route on a choice")
                elif route.when.choice not in choice_ids:
                    check.add(node, f"{path}[{index}].when.choice",
                              f"unknown choice '{route.when.choice}'")

    routes_ok(None, "interrupts", interrupts, None)
    for node in nodes.values():
        routes_ok(node.id, "on_enter", node.on_enter, None)
        choice_ids = {c.id for c in node.ask.choices} if node.ask else None
        routes_ok(node.id, "routes", node.routes, choice_ids)
        for index, action in enumerate(node.actions):
            text_ok(node.id, f"actions[{index}].send", action.text)
        terminal = any(a.kind in ("end", "quick_exit") for a in node.actions)
        if node.ask is not None:
            text_ok(node.id, "ask.text", node.ask.text)
            for index, choice in enumerate(node.ask.choices):
                text_ok(node.id, f"ask.choices[{index}].text", choice.text)
            if node.goto is not None:
                check.add(node.id, "goto", "a node that asks routes with 'routes', not 'goto'")
            if not node.routes:
                check.add(node.id, "routes", "a node that asks needs routes")
        elif node.routes:
            check.add(node.id, "routes", "only a node that asks can have routes "
                      "(use goto or on_enter)")
        if node.goto is not None:
            goto_ok(node.id, "goto", node.goto)
            if terminal:
                check.add(node.id, "goto", "a node that ends the conversation cannot go on")
        if node.ask is None and node.goto is None and not terminal:
            check.add(node.id, "", "must ask a question, go to another node, or end")
    # A chain of nodes that neither asks nor ends would loop forever.
    for start in nodes:
        seen: list[str] = []
        current: str | None = start
        while current is not None and current in nodes:
            node = nodes[current]
            if node.ask is not None or any(a.kind in ("end", "quick_exit") for a in node.actions):
                break
            if current in seen:
                check.add(start, "goto", "loops back to itself without asking anything: "
                          + " -> ".join(seen + [current]))
                break
            seen.append(current)
            current = node.goto


def load_flow(path: Path) -> Flow:
    return parse_flow(path.read_text(encoding="utf-8"), name_hint=path.stem)


def load_flows(directory: Path) -> dict[str, Flow]:
    """Load every `*.yaml` in `directory`; raise one `FlowError` with all problems."""
    flows: dict[str, Flow] = {}
    problems: list[str] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            flow = load_flow(path)
        except FlowError as exc:
            problems.extend(f"{path.name}: {p}" for p in exc.problems)
            continue
        if flow.name in flows:
            problems.append(f"{path.name}: flow name '{flow.name}' is used by another file")
        flows[flow.name] = flow
    if problems:
        raise FlowError(problems)
    return flows
