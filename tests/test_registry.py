"""Cheap structural checks on the registry: distinct codes and names, valid metadata, selection."""

from __future__ import annotations

import re

import pytest

from nnlint import registry
from nnlint.rule import BaselineRule, GraphRule, Need, ProbeRule, StaticRule
from nnlint.rules import ALL_RULES
from nnlint.types import Pass, Severity


def test_codes_and_names_are_distinct_and_sorted():
    codes = [rule.code for rule in ALL_RULES]
    names = [rule.name for rule in ALL_RULES]
    assert len(set(codes)) == len(codes)
    assert len(set(names)) == len(names)
    assert codes == sorted(codes)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_rule_metadata(rule):
    assert re.fullmatch(r"NN\d{3}", rule.code)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
    assert isinstance(rule.severity, Severity)
    assert rule.passes and all(isinstance(p, Pass) for p in rule.passes)
    assert rule.fix_availability in ("never", "sometimes", "always")
    assert rule.summary() and not rule.summary().endswith(".md)")


def test_rule_module_named_after_code():
    for rule in ALL_RULES:
        module = rule.__module__.rsplit(".", 1)[-1]
        assert module.startswith(rule.code.lower() + "_"), module
        assert module == rule.code.lower() + "_" + rule.name.replace("-", "_")


def test_expand_by_code_prefix_name_and_all():
    assert registry.expand(["NN201"]) == {"NN201"}
    assert registry.expand(["nn201"]) == {"NN201"}
    assert registry.expand(["softmax-before-cross-entropy"]) == {"NN201"}
    assert "NN201" in registry.expand(["NN2"]) and "NN401" not in registry.expand(["NN2"])
    assert registry.expand(["NN"]) == registry.expand(["ALL"]) == set(registry.BY_CODE)


def test_select_ignore_and_extend():
    assert registry.select(["NN2"], ["NN201"]) == registry.expand(["NN2"]) - {"NN201"}
    assert registry.select(["NN201"], [], ["NN401"]) == {"NN201", "NN401"}


def test_unknown_selector_is_an_error():
    with pytest.raises(registry.UnknownRule, match="NN999"):
        registry.expand(["NN999"])
    with pytest.raises(registry.UnknownRule):
        registry.expand(["softmax"])


HOOK_BASES = {"check_graph": GraphRule, "check_probe": ProbeRule, "check_baseline": BaselineRule}


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_hooks_sit_on_their_bases(rule):
    """A rule defines check_graph/check_probe/check_baseline only with the matching base (the engines call no
    other), and libcst hooks only on a StaticRule."""
    for klass in rule.__mro__:
        if klass.__module__.startswith("nnlint.rules"):
            for method, base in HOOK_BASES.items():
                if method in vars(klass):
                    assert issubclass(rule, base), f"{klass.__name__}.{method} without {base.__name__}"
            if any(name.startswith(("visit_", "leave_")) for name in vars(klass)):
                assert issubclass(rule, StaticRule), f"{klass.__name__} has libcst hooks without StaticRule"


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_passes_come_from_the_hook_bases(rule):
    """Passes are derived from the hook bases; only rules without hooks (reported by the engines: NN0xx, and
    NN301 when no input runs) set them by hand."""
    if rule.passes_declared:
        assert not rule.derived_passes(), f"{rule.code} has hook bases and sets passes by hand"
        assert rule.code.startswith("NN0") or rule.code == "NN301"
    else:
        assert rule.passes == rule.derived_passes()


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_options_are_declared_once_with_their_types(rule):
    names = [option.name for option in rule.options]
    assert len(set(names)) == len(names)
    for option in rule.options:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", option.name) and option.help
        assert option.accepts(option.default)
        assert rule.option_value(option.name, {}) == option.default
    if rule.options:
        first = rule.options[0]
        assert rule.option_value(first.name, {rule.name: {first.name: "given"}}) == "given"
        with pytest.raises(KeyError, match=rule.code):
            rule.option_value("no_such_option", {})


def test_needs_of_the_selected_rules():
    assert registry.needs(["NN313", "NN201"]) == {Need.ACTIVATIONS}
    assert registry.needs(["NN411", "NN412", "NN208"]) == {Need.USER_OPTIMIZER}
    assert registry.needs(["NN301", "NN003"]) == frozenset()
    assert all(rule.needs <= set(Need) for rule in ALL_RULES)
    needing = {rule.code for rule in ALL_RULES if rule.needs}
    assert needing == {"NN101", "NN208", "NN309", "NN312", "NN313", "NN314", "NN318", "NN401", "NN411", "NN412"}


def test_hooked_rules_of_a_pass():
    rules = registry.rules_for(["NN201", "NN301", "NN309", "NN313", "NN502"])
    assert [r.code for r in registry.hooked(rules, GraphRule)] == ["NN309"]
    assert [r.code for r in registry.hooked(rules, ProbeRule)] == ["NN201", "NN309", "NN313"]
    assert [r.code for r in registry.hooked(rules, BaselineRule)] == ["NN502"]
