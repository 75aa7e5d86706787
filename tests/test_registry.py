"""Cheap structural checks on the registry: distinct codes and names, valid metadata, selection."""

from __future__ import annotations

import re

import pytest

from nnlint import registry
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
