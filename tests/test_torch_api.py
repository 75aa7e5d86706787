"""The torch vocabulary (`nnlint/static/torch_api/`): tidy, consistent tables whose names all resolve in torch."""

from __future__ import annotations

import ast
import enum
import importlib
import inspect
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

from nnlint.static import torch_api

PACKAGE = Path(torch_api.__file__).resolve().parent

# Bare-name tables, resolved under a prefix: (prefix of the items or dict keys, prefix of the dict's string values).
BARE: Dict[str, Tuple[str, Optional[str]]] = {
    "ACTIVATION_METHODS": ("torch.Tensor.", None),
    "LOGIT_LOSSES": ("torch.nn.functional.", None),
    "LOSS_CLASSES": ("torch.nn.", "torch.nn.functional."),
    "LOSS_FUNCTIONS": ("torch.nn.functional.", None),
    "METHOD_KINDS": ("torch.Tensor.", None),
    "MODULE_PASSTHROUGH_METHODS": ("torch.nn.Module.", None),
    "PASSTHROUGH_METHODS": ("torch.Tensor.", None),
    "REGRESSION_LOSSES": ("torch.nn.functional.", None),
    "SELECTION_METHODS": ("torch.Tensor.", None),
}
# Tables of third-party names: nothing to resolve in torch.
NOT_TORCH = frozenset({"FOREIGN_FRAMEWORKS", "LIGHTNING_MODULE_BASES", "PREPARING_METHODS", "TORCH_FRAMEWORKS"})
# Names kept although the installed torch lacks them, with the reason (older or newer torch versions have them).
KEPT_FOR_OTHER_VERSIONS: Dict[str, str] = {}


def _tables() -> Iterator[Tuple[str, Any]]:
    """Every public data table of the vocabulary: strings, sets, tuples and dicts (not functions or classes)."""
    for name in torch_api.__all__:
        value = getattr(torch_api, name)
        if isinstance(value, (str, frozenset, tuple, dict)):
            yield name, value


def _strings(value: Any, values_too: bool = True) -> List[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        keys = list(value)
        extra = [v for v in value.values() if isinstance(v, str) and not isinstance(v, enum.Enum)]
        return keys + (extra if values_too else [])
    return list(value)


def _qualified_names() -> Iterator[Tuple[str, str]]:
    """(table, qualified name) for every torch name listed, bare names given their prefix; prefixes lose their dot."""
    for table, value in _tables():
        if table in NOT_TORCH:
            continue
        if table in BARE:
            prefix, value_prefix = BARE[table]
            for name in _strings(value, values_too=False):
                yield table, prefix + name
            if value_prefix is not None:
                for name in value.values():
                    yield table, value_prefix + name
            continue
        for name in _strings(value):
            yield table, name.rstrip(".")


def _resolve(qualified: str) -> bool:
    """Import the longest importable module prefix, then getattr the rest."""
    parts = qualified.split(".")
    for end in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:end]))
        except ImportError:
            continue
        for part in parts[end:]:
            if not hasattr(found, part):
                return False
            found = getattr(found, part)
        return True
    return False


# -- without torch: the tables are tidy and agree with one another ---------------------------------------------------


def test_every_table_is_resolved_or_declared_third_party():
    """A name the resolve test would skip must sit in a declared bare or third-party table."""
    for table, value in _tables():
        names = _strings(value, values_too=table not in BARE)
        if table in BARE:
            assert all("." not in name for name in names), table
        elif table not in NOT_TORCH:
            strays = [name for name in names if name != "torch" and not name.startswith("torch.")]
            assert not strays, f"{table} lists non-torch names {strays}: declare the table in NOT_TORCH or BARE"


def test_names_are_in_the_normal_form_the_static_pass_matches():
    """`torch.nn.modules.linear.Linear` is normalised to `torch.nn.Linear` before matching: listed, it never matches."""
    unmatched = [name for _, name in _qualified_names() if torch_api.normalize(name) != name]
    assert not unmatched


def test_literal_lists_are_sorted_and_deduplicated():
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            items: List[ast.expr] = []
            if isinstance(node, (ast.Tuple, ast.Set, ast.List)):
                items = list(node.elts)
            elif isinstance(node, ast.Dict):
                items = [key for key in node.keys if key is not None]
            strings = [item.value for item in items if isinstance(item, ast.Constant) and isinstance(item.value, str)]
            if len(strings) == len(items) > 1:
                assert strings == sorted(set(strings)), f"{path.name}:{node.lineno} not sorted or has duplicates"


def test_every_public_table_has_a_comment():
    """Each table says in one comment line what it lists (a table right below a commented one shares it)."""
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name == "__init__.py":
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        previous_end = -1
        for node in ast.parse("\n".join(lines)).body:
            if isinstance(node, ast.Assign) and all(
                isinstance(t, ast.Name) and t.id.isupper() and not t.id.startswith("_") for t in node.targets
            ):
                above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
                assert above.startswith("#") or previous_end == node.lineno - 1, f"{path.name}:{node.lineno}"
            previous_end = node.end_lineno or node.lineno


def test_layer_tables_agree():
    owns = torch_api.PARAMETERIZED
    assert not owns & torch_api.AFFINE_OPTIONAL
    assert not owns & torch_api.CONTAINERS
    assert not owns & torch_api.STATELESS
    assert not torch_api.STATELESS & (torch_api.AFFINE_OPTIONAL | torch_api.CONTAINERS)
    assert torch_api.MAY_HOLD_PARAMETERS == owns | torch_api.AFFINE_OPTIONAL | torch_api.CONTAINERS
    assert torch_api.UNORDERED_CONTAINERS <= torch_api.CONTAINERS
    assert torch_api.BATCHNORM_MODULES <= owns
    assert set(torch_api.BIAS_POSITION) <= owns
    assert torch_api.ACTIVATION_MODULES <= torch_api.STATELESS
    assert not torch_api.DROPOUT_MODULES & (owns | torch_api.STATELESS)  # no parameters, but train/eval behaviour
    assert torch_api.NO_ARGUMENT_MODULES - {torch_api.MODULE, torch_api.NN + "Identity"} <= torch_api.CONTAINERS
    assert set(torch_api.REGRESSION_LOSSES | torch_api.LOGIT_LOSSES) <= torch_api.LOSS_FUNCTIONS


def test_needles_are_the_shortest_last_segments():
    assert torch_api.needles(torch_api.DROPOUT_MODULES, torch_api.DROPOUT_FUNCTIONS) == ("Dropout", "dropout")
    assert torch_api.needles((torch_api.OPTIM,)) == ("optim",)
    assert torch_api.loss_needles({"cross_entropy"}) == ("CrossEntropyLoss", "cross_entropy")


# -- with torch: every name exists, and the layer tables tell the truth ----------------------------------------------


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.torch
def test_every_listed_name_resolves_in_the_installed_torch(torch):
    missing = sorted(
        f"{table}: {name}"
        for table, name in _qualified_names()
        if name not in KEPT_FOR_OTHER_VERSIONS and not _resolve(name)
    )
    assert not missing, f"not in torch {torch.__version__} (fix, or list in KEPT_FOR_OTHER_VERSIONS): {missing}"


@pytest.mark.torch
def test_module_tables_name_module_classes(torch):
    tables = {
        "PARAMETERIZED": torch_api.PARAMETERIZED,
        "AFFINE_OPTIONAL": torch_api.AFFINE_OPTIONAL,
        "CONTAINERS": torch_api.CONTAINERS,
        "STATELESS": torch_api.STATELESS,
        "DROPOUT_MODULES": torch_api.DROPOUT_MODULES,
        "MODULE_KINDS": frozenset(torch_api.MODULE_KINDS),
        "NO_ARGUMENT_MODULES": torch_api.NO_ARGUMENT_MODULES,
        "TORCH_MODULE_BASES": torch_api.TORCH_MODULE_BASES,
        "LOSS_CLASSES": frozenset(torch_api.NN + name for name in torch_api.LOSS_CLASSES),
    }
    wrong = [
        f"{table}: {name}"
        for table, names in tables.items()
        for name in sorted(names)
        if _resolve(name) and not issubclass(_lookup(name), torch.nn.Module)
    ]
    assert not wrong
    not_modules = [name for name in sorted(torch_api.NOT_MODULES) if issubclass(_lookup(name), torch.nn.Module)]
    assert not not_modules


def _lookup(qualified: str) -> Any:
    module, _, attribute = qualified.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def _layer_builders(torch) -> Dict[str, Callable[[], Any]]:
    nn = torch.nn
    return {
        "Transformer": lambda: nn.Transformer(2, 1, 1, 1, 2),
        "TransformerEncoder": lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(2, 1, 2), 1),
        "TransformerDecoder": lambda: nn.TransformerDecoder(nn.TransformerDecoderLayer(2, 1, 2), 1),
        "Unflatten": lambda: nn.Unflatten(1, (2, 1)),
    }


def _build(torch, qualified: str, **keywords: Any) -> Any:
    """The layer built with small sizes: the first of a few argument lists its constructor accepts."""
    special = _layer_builders(torch).get(qualified.rsplit(".", 1)[-1])
    cls = _lookup(qualified)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if special is not None and not keywords:
            return special()
        for args in ((), (2,), (2, 2), (2, 2, 1)):
            try:
                return cls(*args, **keywords)
            except Exception:  # noqa: BLE001 - wrong arguments for this layer: try the next list
                continue
    raise AssertionError(f"cannot build {qualified}: add it to _layer_builders")


def _owns(layer: Any) -> bool:
    return any(True for _ in layer.parameters())


@pytest.mark.torch
def test_parameterized_layers_own_parameters_with_default_arguments(torch):
    without = [name for name in sorted(torch_api.PARAMETERIZED) if not _owns(_build(torch, name))]
    assert not without


@pytest.mark.torch
def test_affine_optional_layers_own_parameters_only_with_affine(torch):
    for name in sorted(torch_api.AFFINE_OPTIONAL):
        assert not _owns(_build(torch, name)), name
        assert _owns(_build(torch, name, affine=True)), name


@pytest.mark.torch
def test_stateless_layers_hold_neither_parameters_nor_buffers(torch):
    stateful = []
    for name in sorted(torch_api.STATELESS):
        layer = _build(torch, name)
        if _owns(layer) or any(True for _ in layer.buffers()):
            stateful.append(name)
    assert not stateful


@pytest.mark.torch
def test_bias_positions_match_the_constructors(torch):
    for name, position in torch_api.BIAS_POSITION.items():
        parameters = list(inspect.signature(_lookup(name).__init__).parameters)[1:]  # drop `self`
        assert parameters.index("bias") == position, name
