"""Every rule, by code, prefix and name; expands select/ignore lists. Never imports torch."""

from __future__ import annotations

from typing import Dict, FrozenSet, Iterable, List, Optional, Type, TypeVar

from nnlint.rule import Need, Rule
from nnlint.rules import ALL_RULES

BY_CODE: Dict[str, Type[Rule]] = {rule.code: rule for rule in ALL_RULES}
BY_NAME: Dict[str, Type[Rule]] = {rule.name: rule for rule in ALL_RULES}

HookBase = TypeVar("HookBase", bound=Rule)


class UnknownRule(ValueError):
    """A select/ignore entry that names no rule, prefix or rule name."""


def lookup(code_or_name: str) -> Optional[Type[Rule]]:
    """The rule with this exact code (any case) or name."""
    return BY_CODE.get(code_or_name.upper()) or BY_NAME.get(code_or_name.lower())


def expand(selectors: Iterable[str]) -> FrozenSet[str]:
    """Codes matched by codes, code prefixes (`NN2`, `NN`) or rule names; `ALL` matches every rule."""
    codes = set()
    for raw in selectors:
        selector = raw.strip()
        if not selector:
            continue
        rule = lookup(selector)
        if rule is not None:
            codes.add(rule.code)
            continue
        upper = selector.upper()
        matched = [code for code in BY_CODE if code.startswith(upper)] if upper.startswith("NN") else []
        if upper == "ALL":
            matched = list(BY_CODE)
        if not matched:
            raise UnknownRule(f"{selector!r} is not a rule code, code prefix or rule name (see `nnlint rules`)")
        codes.update(matched)
    return frozenset(codes)


def select(selected: Iterable[str], ignored: Iterable[str] = (), extended: Iterable[str] = ()) -> FrozenSet[str]:
    """The codes to run: (select + extend-select) - ignore."""
    return (expand(selected) | expand(extended)) - expand(ignored)


def rules_for(codes: Iterable[str]) -> List[Type[Rule]]:
    """Rule classes for these codes, sorted by code."""
    return [BY_CODE[code] for code in sorted(set(codes))]


def hooked(rules: Iterable[Type[Rule]], base: Type[HookBase]) -> List[Type[HookBase]]:
    """The rules with the hooks of `base` (GraphRule, ProbeRule...) whose `passes` include that base's pass."""
    return [rule for rule in rules if issubclass(rule, base) and base.hook_pass in rule.passes]


def needs(codes: Iterable[str]) -> FrozenSet[Need]:
    """Everything the rules with these codes declare they need of a pass."""
    found: FrozenSet[Need] = frozenset()
    for code in set(codes):
        found |= BY_CODE[code].needs
    return found
