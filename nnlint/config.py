"""`[tool.nnlint]` in the nearest pyproject.toml -> a frozen Config. Wrong keys or values raise ConfigError."""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, Mapping, Optional, Sequence, Set, Tuple, Type

from nnlint import registry
from nnlint.rule import Rule
from nnlint.types import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python < 3.11
    import tomli as tomllib

DEFAULT_EXCLUDE: Tuple[str, ...] = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "__pycache__",
    "build",
    "dist",
    "node_modules",
    ".eggs",
    "*.egg-info",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".nnlint_cache",
    "site-packages",
    "__pypackages__",
    ".ipynb_checkpoints",
)


class ConfigError(Exception):
    """A configuration problem: the message names the file, the key and what is allowed."""


@dataclass(frozen=True)
class InputSpec:
    """One forward argument of a configured model."""

    shape: Tuple[int, ...]
    dtype: str = "float32"
    low: Optional[float] = None
    high: Optional[float] = None
    name: Optional[str] = None  # a keyword argument of forward (`attention_mask`); None: the next positional one
    batched: bool = True  # False: the shape is used as given (a graph's edge_index [2, E] or adjacency [N, N])


@dataclass(frozen=True)
class ModelSpec:
    """A `[[tool.nnlint.models]]` entry, used by the graph and probe passes."""

    target: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    input_shape: Optional[Tuple[int, ...]] = None
    inputs: Optional[Tuple[InputSpec, ...]] = None
    task: Optional[str] = None
    num_classes: Optional[int] = None
    loss: Optional[str] = None


@dataclass(frozen=True)
class Config:
    """Settings for one run; `root` is the folder of the pyproject.toml they came from (or None)."""

    path: Optional[Path] = None
    root: Optional[Path] = None
    select: Tuple[str, ...] = ("ALL",)
    ignore: Tuple[str, ...] = ()
    extend_select: Tuple[str, ...] = ()
    exclude: Tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: Tuple[str, ...] = ()
    per_file_ignores: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)
    severity: Mapping[str, Severity] = field(default_factory=dict)
    models: Tuple[ModelSpec, ...] = ()
    graph: str = "auto"
    cache_dir: Optional[str] = None
    baseline: Optional[str] = None  # known findings not to report (nnlint/baseline.py); relative to `root`
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # rule code -> option -> value


_Validator = Callable[[Any, str], Any]


class _Invalid(Exception):
    """A bad key or value; the message names the key, and parse_table prefixes the file."""


# --- finding and reading the file -------------------------------------------------------------


def find_pyproject(start: Path) -> Optional[Path]:
    """The nearest pyproject.toml at or above `start` that has a [tool.nnlint] table."""
    found = _nearest(start)
    return found[0] if found else None


def load_config(paths: Sequence[Path], explicit: Optional[Path] = None) -> Config:
    """The Config for a run over `paths`: from `explicit`, else the nearest pyproject.toml, else defaults."""
    if explicit is not None:
        return _load_explicit(Path(explicit))
    found = _nearest(_common_ancestor(paths))
    if found is None:
        return Config()
    path, data = found
    return parse_table(_nnlint_table(data), path)


def _load_explicit(path: Path) -> Config:
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    resolved = path.resolve()
    table = _nnlint_table(_parse_toml(_read_text(resolved), resolved))
    return parse_table({} if table is None else table, resolved)


def _common_ancestor(paths: Sequence[Path]) -> Path:
    resolved = [Path(path).resolve() for path in paths] or [Path.cwd()]
    try:
        return Path(os.path.commonpath([str(path) for path in resolved]))
    except ValueError:  # paths on different drives have no common ancestor
        return Path.cwd()


def _nearest(start: Path) -> Optional[Tuple[Path, Dict[str, Any]]]:
    start = Path(start).resolve()
    folder = start.parent if start.is_file() else start
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if not path.is_file():
            continue
        text = _read_text(path)
        # Unrelated (possibly broken) pyproject.toml files above the project are skipped unparsed.
        if "nnlint" in text:
            data = _parse_toml(text, path)
            if _nnlint_table(data) is not None:
                return path, data
    return None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the file: {error}") from None


def _parse_toml(text: str, path: Path) -> Dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None


def _nnlint_table(data: Dict[str, Any]) -> Any:
    tool = data.get("tool")
    return tool.get("nnlint") if isinstance(tool, dict) else None


# --- validation -------------------------------------------------------------------------------


def parse_table(table: Dict[str, Any], source: Path) -> Config:
    """Validate a [tool.nnlint] table into a Config; raise ConfigError naming the key on any problem."""
    try:
        values = _fields(table, "tool.nnlint", _TOP_LEVEL)
    except _Invalid as error:
        raise ConfigError(f"{source}: {error}") from None
    return Config(path=source, root=source.parent, **values)


def _fields(value: Any, key: str, validators: Dict[str, _Validator], required: Tuple[str, ...] = ()) -> Dict[str, Any]:
    """A table's validated values, by dataclass field name (`extend-select` -> `extend_select`)."""
    table = _table(value, key)
    for name in table:
        if name not in validators:
            raise _Invalid(
                f"unknown key `{_join(key, name)}`; allowed keys: {', '.join(validators)}"
                f"{_did_you_mean(name, validators)}"
            )
    for name in required:
        if name not in table:
            raise _Invalid(f"missing required key `{_join(key, name)}`")
    return {name.replace("-", "_"): validators[name](item, _join(key, name)) for name, item in table.items()}


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f"{key}.{json.dumps(name)}"


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    matches = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean `{matches[0]}`?" if matches else ""


def _wrong(key: str, expected: str, value: Any) -> _Invalid:
    return _Invalid(f"`{key}` must be {expected}, got {_describe(value)}")


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return "an array" if value else "an empty array"
    if isinstance(value, dict):
        return "a table"
    kinds = ((bool, "boolean"), (int, "integer"), (float, "float"), (str, "string"))
    kind = next((name for cls, name in kinds if isinstance(value, cls)), type(value).__name__)
    shown = json.dumps(value) if isinstance(value, (bool, str)) else str(value)
    return f"{shown} ({kind})"


def _table(value: Any, key: str) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise _wrong(key, "a table", value)
    return value


def _plain_table(value: Any, key: str) -> Dict[str, Any]:
    return dict(_table(value, key))


def _string(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise _wrong(key, "a string", value)
    return value


def _array_of(item: _Validator, expected: str, non_empty: bool = False) -> _Validator:
    """A validator for an array whose items pass `item`; returns a tuple."""

    def check(value: Any, key: str) -> tuple:
        if not isinstance(value, list) or (non_empty and not value):
            raise _wrong(key, expected, value)
        return tuple(item(element, f"{key}[{index}]") for index, element in enumerate(value))

    return check


def _one_of(*allowed: str) -> _Validator:
    """A validator for a string from `allowed`."""

    def check(value: Any, key: str) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise _wrong(key, "one of " + ", ".join(json.dumps(choice) for choice in allowed), value)
        return value

    return check


def _int_at_least(minimum: int) -> _Validator:
    """A validator for an integer (not a boolean) >= `minimum`."""

    def check(value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise _wrong(key, f"an integer >= {minimum}", value)
        return value

    return check


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _wrong(key, "a finite number", value)
    return value


def _dotted_name(value: Any, key: str) -> str:
    if not re.fullmatch(r"[^\W\d]\w*(\.[^\W\d]\w*)*", _string(value, key)):
        raise _wrong(key, 'a dotted name like "torch.nn.CrossEntropyLoss"', value)
    return value


def _target(value: Any, key: str) -> str:
    module, colon, name = _string(value, key).partition(":")
    if not colon or not module.strip() or ":" in name or not re.fullmatch(r"[^\W\d]\w*(\.[^\W\d]\w*)*", name):
        raise _wrong(key, 'a string like "path/to/model.py:Net" or "package.module:Net"', value)
    return value


def _rule_words() -> Tuple[str, ...]:
    return ("ALL", *registry.BY_CODE, *registry.BY_NAME)


def _rule_selector(value: Any, key: str) -> str:
    selector = _string(value, key)
    try:
        registry.expand([selector])
    except registry.UnknownRule as error:
        raise _Invalid(f"`{key}`: {error}{_did_you_mean(selector, _rule_words())}") from None
    return selector


_rule_list = _array_of(_rule_selector, 'an array of rule codes, code prefixes, rule names or "ALL"')


def _per_file_ignores(value: Any, key: str) -> Dict[str, Tuple[str, ...]]:
    return {pattern: _rule_list(codes, _join(key, pattern)) for pattern, codes in _table(value, key).items()}


def _by_rule(value: Any, key: str, twice: str) -> Iterator[Tuple[str, Type[Rule], Any]]:
    """(entry, rule, value) for each `code-or-name = value` of a table keyed by rule; a rule may appear once
    (`twice`: the error's words for a repeat, with `{code}`)."""
    seen: Set[str] = set()
    for name, item in _table(value, key).items():
        entry = _join(key, name)
        rule = registry.lookup(name)
        if rule is None:
            raise _Invalid(
                f"`{entry}`: {name!r} is not a rule code or rule name (see `nnlint rules`)"
                f"{_did_you_mean(name, _rule_words())}"
            )
        if rule.code in seen:
            raise _Invalid(f"`{entry}`: " + twice.format(code=rule.code))
        seen.add(rule.code)
        yield entry, rule, item


def _severities(value: Any, key: str) -> Dict[str, Severity]:
    return {
        rule.code: Severity(_one_of(*(s.value for s in Severity))(level, entry))
        for entry, rule, level in _by_rule(value, key, "the severity of {code} is given twice")
    }


def _rule_options(value: Any, key: str) -> Dict[str, Dict[str, Any]]:
    """`[tool.nnlint.options.NN313]` tables: declared options of known rules, with values of the declared type."""
    options: Dict[str, Dict[str, Any]] = {}
    for entry, rule, table in _by_rule(value, key, "the options of {code} are given twice"):
        declared = {option.name: option for option in rule.options}
        if not declared:
            raise _Invalid(f"`{entry}`: {rule.code} ({rule.name}) has no options")
        values: Dict[str, Any] = {}
        for option_name, option_value in _table(table, entry).items():
            option_key = _join(entry, option_name)
            option = declared.get(option_name)
            if option is None:
                raise _Invalid(
                    f"unknown key `{option_key}`; {rule.code} has the options {', '.join(declared)}"
                    f"{_did_you_mean(option_name, declared)}"
                )
            if not option.accepts(option_value) or (
                isinstance(option_value, float) and not math.isfinite(option_value)
            ):
                expected = {
                    bool: "a boolean",
                    int: "an integer",
                    float: "a number",
                    str: "a string",
                    tuple: "a list of numbers",
                }.get(type(option.default), type(option.default).__name__)
                raise _wrong(option_key, f"{expected} (default {option.default!r})", option_value)
            values[option_name] = option_value
        options[rule.code] = values
    return options


def _input(value: Any, key: str) -> InputSpec:
    spec = InputSpec(**_fields(value, key, _INPUT_KEYS, required=("shape",)))
    if spec.low is not None and spec.high is not None and spec.low >= spec.high:
        raise _Invalid(f"`{key}`: `low` ({spec.low}) must be less than `high` ({spec.high})")
    return spec


def _boolean(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise _wrong(key, "a boolean", value)
    return value


def _identifier(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.isidentifier():
        raise _Invalid(f"`{key}` must be the name of a forward argument, got {value!r}")
    return value


def _model(value: Any, key: str) -> ModelSpec:
    values = _fields(value, key, _MODEL_KEYS, required=("target",))
    if "input_shape" in values and "inputs" in values:
        raise _Invalid(
            f"`{key}` has both `input_shape` and `inputs`; give `input_shape` for one input "
            "or `inputs` for several, not both"
        )
    return ModelSpec(**values)


_shape = _array_of(_int_at_least(1), "a non-empty array of positive integers", non_empty=True)

_INPUT_KEYS: Dict[str, _Validator] = {
    "shape": _shape,
    "dtype": _one_of("float32", "float16", "bfloat16", "float64", "int64", "int32", "bool"),
    "low": _number,
    "high": _number,
    "name": _identifier,
    "batched": _boolean,
}

_MODEL_KEYS: Dict[str, _Validator] = {
    "target": _target,
    "kwargs": _plain_table,
    "input_shape": _shape,
    "inputs": _array_of(_input, "a non-empty array of tables ([[tool.nnlint.models.inputs]])", non_empty=True),
    "task": _one_of("multiclass", "binary", "multilabel", "regression"),
    "num_classes": _int_at_least(1),
    "loss": _dotted_name,
}

_TOP_LEVEL: Dict[str, _Validator] = {
    "select": _rule_list,
    "ignore": _rule_list,
    "extend-select": _rule_list,
    "exclude": _array_of(_string, "an array of glob patterns (strings)"),
    "extend-exclude": _array_of(_string, "an array of glob patterns (strings)"),
    "per-file-ignores": _per_file_ignores,
    "severity": _severities,
    "graph": _one_of("auto", "configured", "off"),
    "cache-dir": _string,
    "baseline": _string,
    "models": _array_of(_model, "an array of tables ([[tool.nnlint.models]])"),
    "options": _rule_options,
}
