"""The loader names the node and field at fault, and refuses every broken flow."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.flows.loader import FlowError, load_flows, parse_flow
from bot.types import VARIETIES

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = """
spec_version: 1
name: mini
start: hello
texts:
  hello: {ary: "سلام", ary_latn: "salam", ar: "مرحبا", fr: "bonjour"}
  ask: {ary: "واش؟", ary_latn: "wach?", ar: "هل؟", fr: "oui ?"}
  label_yes: {ary: "ايه", ary_latn: "ah", ar: "نعم", fr: "oui"}
  not_understood: {ary: "ما فهمتش", ary_latn: "ma fhmtch", ar: "لم أفهم", fr: "pardon ?"}
  emergency_numbers: {ary: "19", ary_latn: "19", ar: "19", fr: "19"}
  quick_exit_done: {ary: "واخا", ary_latn: "wakha", ar: "حسنا", fr: "ok"}
  case_ack: {ary: "وصلات", ary_latn: "wslat", ar: "وصلت", fr: "reçu"}
  case_taken: {ary: "خدات", ary_latn: "khdat", ar: "أخذت", fr: "prise"}
  case_moved: {ary: "تعطى", ary_latn: "t3ta", ar: "أحيل", fr: "confiée"}
  case_closed: {ary: "سالات", ary_latn: "salat", ar: "انتهت", fr: "terminée"}
  received: {ary: "وصلات", ary_latn: "wslat", ar: "وصلت", fr: "reçu"}
  help: {ary: "عاونة", ary_latn: "3awna", ar: "مساعدة", fr: "aide"}
  private_only: {ary: "غير", ary_latn: "ghir", ar: "فقط", fr: "seul"}
nodes:
  hello:
    actions:
      - send: hello
    goto: ask_it
  ask_it:
    ask:
      text: ask
      choices:
        - {id: "yes", text: label_yes}
    routes:
      - when: {choice: "yes"}
        goto: done
  done:
    actions:
      - end
"""


def problems_of(source: str) -> list[str]:
    with pytest.raises(FlowError) as info:
        parse_flow(source)
    return info.value.problems


def test_the_shipped_flows_are_valid() -> None:
    flows = load_flows(ROOT / "config" / "flows")
    assert "intake" in flows
    for text_id, variants in flows["intake"].texts.items():
        assert set(variants) == set(VARIETIES), text_id


def test_minimal_flow_loads() -> None:
    flow = parse_flow(MINIMAL)
    assert flow.name == "mini" and flow.start == "hello"
    assert flow.nodes["ask_it"].ask is not None
    assert flow.version


def test_unknown_goto_names_node_and_field() -> None:
    source = MINIMAL.replace("goto: done", "goto: dne")
    assert problems_of(source) == [
        "flow 'mini' node 'ask_it' routes[0].goto: unknown node 'dne'"]


def test_missing_variety_names_the_text() -> None:
    source = MINIMAL.replace(', fr: "oui ?"', "")
    assert any(p.startswith("flow 'mini' texts.ask.fr: missing") for p in problems_of(source))


def test_typo_in_a_field_is_reported() -> None:
    source = MINIMAL.replace("      choices:", "      choises:")
    problems = problems_of(source)
    assert any("node 'ask_it' ask: unknown field 'choises'" in p for p in problems)
    assert any("node 'ask_it' ask.choices: a question with input 'choice' needs choices" in p
               for p in problems)


def test_unknown_text_in_send() -> None:
    source = MINIMAL.replace("- send: hello", "- send: helo")
    assert problems_of(source) == [
        "flow 'mini' node 'hello' actions[0].send: unknown text 'helo'"]


def test_route_on_unknown_choice() -> None:
    source = MINIMAL.replace('when: {choice: "yes"}', 'when: {choice: "yse"}')
    assert problems_of(source) == [
        "flow 'mini' node 'ask_it' routes[0].when.choice: unknown choice 'yse'"]


def test_unknown_intent_and_action() -> None:
    source = MINIMAL.replace('when: {choice: "yes"}', 'when: {intent: need_food}').replace(
        "      - end", "      - finish: {}")
    problems = problems_of(source)
    assert "flow 'mini' node 'ask_it' routes[0].when.intent: unknown intent 'need_food'" in problems
    assert any(p.startswith("flow 'mini' node 'done' actions[0]: unknown action 'finish'")
               for p in problems)


def test_a_loop_without_question_is_refused() -> None:
    source = MINIMAL.replace("    goto: ask_it", "    goto: loop_a") + """
  loop_a:
    goto: loop_b
  loop_b:
    goto: loop_a
"""
    assert any("loops back to itself without asking anything" in p for p in problems_of(source))


def test_unknown_placeholder() -> None:
    source = MINIMAL.replace('fr: "bonjour"', 'fr: "bonjour {name}"')
    assert problems_of(source) == [
        "flow 'mini' texts.hello.fr: unknown placeholder {name} "
        "(allowed: city, needs, province, reference)"]


def test_bad_yaml_gives_the_line() -> None:
    problems = problems_of("spec_version: 1\nnodes: [\n")
    assert len(problems) == 1 and problems[0].startswith("flow '?': not valid YAML at line")


def test_wrong_spec_version_and_start() -> None:
    source = MINIMAL.replace("spec_version: 1", "spec_version: 2").replace("start: hello",
                                                                           "start: nowhere")
    problems = problems_of(source)
    assert "flow 'mini' spec_version: must be 1, not 2" in problems
    assert "flow 'mini' start: unknown node 'nowhere'" in problems


def test_node_that_goes_nowhere() -> None:
    source = MINIMAL.replace("    actions:\n      - end", "    actions:\n      - send: hello")
    assert problems_of(source) == [
        "flow 'mini' node 'done': must ask a question, go to another node, or end"]


def test_the_texts_amane_itself_sends_are_required() -> None:
    source = MINIMAL.replace(
        '  not_understood: {ary: "ما فهمتش", ary_latn: "ma fhmtch", ar: "لم أفهم", fr: "pardon ?"}\n',
        "").replace('  emergency_numbers: {ary: "19", ary_latn: "19", ar: "19", fr: "19"}\n', "")
    problems = problems_of(source)
    assert "flow 'mini' texts.not_understood: missing (sent when an answer is not understood)" \
        in problems
    assert any(p.startswith("flow 'mini' texts.emergency_numbers: missing (sent at once when "
                            "she is in danger") for p in problems)


def test_load_flows_reports_the_file(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(MINIMAL.replace("name: mini", "name: other")
                                       .replace("goto: done", "goto: gone"), encoding="utf-8")
    with pytest.raises(FlowError) as info:
        load_flows(tmp_path)
    assert info.value.problems == [
        "bad.yaml: flow 'other' node 'ask_it' routes[0].goto: unknown node 'gone'"]


def test_unquoted_yes_as_a_text_id_is_explained() -> None:
    source = MINIMAL.replace("  label_yes:", "  yes:")
    assert any("texts.True: a text id must be a word; put it in quotes" in p
               for p in problems_of(source))


def test_a_file_that_is_not_a_mapping_names_the_file() -> None:
    for source in ("", "- a list\n", "just words\n"):
        with pytest.raises(FlowError) as info:
            parse_flow(source, name_hint="intake")
        assert info.value.problems == ["flow 'intake': must be a YAML mapping"], source


def test_without_a_name_the_file_names_the_flow() -> None:
    source = MINIMAL.replace("name: mini", "name: 5").replace("goto: done", "goto: dne")
    with pytest.raises(FlowError) as info:
        parse_flow(source, name_hint="intake")
    assert info.value.problems == [
        "flow 'intake' node 'ask_it' routes[0].goto: unknown node 'dne'"]


def test_unknown_top_level_field() -> None:
    assert problems_of(MINIMAL.replace("start: hello", "start: hello\nbegin: hello")) == [
        "flow 'mini': unknown field 'begin' (expected one of: erase_phrases, interrupts, "
        "language_words, name, nodes, quick_exit_words, spec_version, start, texts)"]


def test_nodes_must_be_a_mapping_that_is_not_empty() -> None:
    head = MINIMAL[:MINIMAL.index("nodes:")]
    for nodes in ("nodes: {}\n", "nodes: [hello]\n", ""):
        assert problems_of(head + nodes) == [
            "flow 'mini' nodes: must be a non-empty mapping of node id -> node",
            "flow 'mini' start: unknown node 'hello'"], nodes


def test_bad_node_ids_and_bodies() -> None:
    source = MINIMAL + "  yes:\n    goto: done\n  Shout:\n    goto: done\n  bare: 3\n"
    assert problems_of(source) == [
        "flow 'mini' node 'True': a node id must be a word; put it in quotes "
        "(YAML reads yes/no/on/off as true/false)",
        "flow 'mini' node 'Shout': node ids are lowercase letters, digits and _",
        "flow 'mini' node 'bare': must be a mapping"]


def test_unknown_node_field_bad_actions_and_goto() -> None:
    source = MINIMAL.replace("    goto: ask_it", "    goto: [ask_it]\n    next: ask_it").replace(
        "    actions:\n      - end", "    actions: end")
    assert problems_of(source) == [
        "flow 'mini' node 'hello': unknown field 'next' (expected one of: actions, ask, goto, "
        "on_enter, routes)",
        "flow 'mini' node 'hello' goto: must be a node id",
        "flow 'mini' node 'done' actions: must be a list",
        "flow 'mini' node 'hello': must ask a question, go to another node, or end",
        "flow 'mini' node 'done': must ask a question, go to another node, or end"]


def test_language_words() -> None:
    flow = parse_flow(MINIMAL + "language_words:\n  fr: [bonjour, salut]\n  ary_latn: salam\n")
    assert flow.language_words == {"fr": ("bonjour", "salut"), "ary_latn": ("salam",)}
    assert problems_of(MINIMAL + "language_words: [fr]\n") == [
        "flow 'mini' language_words: must be a mapping of variety -> words"]
    assert problems_of(MINIMAL + "language_words:\n  en: [hello]\n") == [
        "flow 'mini' language_words.en: unknown variety"]
