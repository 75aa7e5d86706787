"""NN305: an nn.Parameter made from uninitialised memory (`torch.empty`, `torch.Tensor(n, m)`) that nothing initialises."""

from __future__ import annotations

import re
import weakref
from typing import List, Optional, Set

import libcst as cst

from nnlint.rule import StaticRule
from nnlint.static import classes, torch_api
from nnlint.static.fastwalk import walk
from nnlint.static.semantics import argument
from nnlint.types import Severity

_TENSOR_PASSTHROUGH = frozenset(
    {"to", "cuda", "cpu", "float", "double", "half", "bfloat16", "contiguous", "requires_grad_"}
)
# Calls that (re)initialise values: nn.init functions, in-place fills, timm's `trunc_normal_` and the like.
_INIT_CALLS = frozenset(
    {
        "uniform_",
        "normal_",
        "zero_",
        "zeros_",
        "ones_",
        "fill_",
        "copy_",
        "constant_",
        "orthogonal_",
        "xavier_uniform_",
        "xavier_normal_",
        "kaiming_uniform_",
        "kaiming_normal_",
        "trunc_normal_",
        "trunc_normal_tf_",
        "lecun_normal_",
        "variance_scaling_",
        "eye_",
        "dirac_",
        "sparse_",
        "random_",
        "bernoulli_",
        "exponential_",
        "geometric_",
        "log_normal_",
        "cauchy_",
        "fill_diagonal_",
        "set_",
        "apply",
        "named_apply",
        "load_state_dict",
    }
)
_FROZEN_DTYPE = re.compile(r"(^|\.|_)(u?int\d*|long|short|bool|float8\w*|fp8|qu?int\w*)($|_)", re.IGNORECASE)
_SKIPS_INIT = re.compile(r"\b(skip_init|init_empty_weights|no_init_weights)\b")
# Arithmetic that keeps integer sizes integers (`/` makes a float, which no constructor takes as a size).
_SIZE_ARITHMETIC = (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide, cst.Power)
# Builtins and math functions that return an integer: a size when passed to a legacy constructor.
_INTEGER_BUILTINS = frozenset({"int", "len", "round", "max", "min"})
_INTEGER_MATH = frozenset({"prod", "ceil", "floor", "comb", "gcd", "lcm", "isqrt"})
_INIT_METHOD = re.compile(r"init|reset", re.IGNORECASE)
_SIZE_NAME = re.compile(
    r"^(n|d|k|m|dim|size|num|len|width|height)($|_)|(dim|dims|size|features|channels|classes|heads|units|len|length|num|width)s?$",
    re.IGNORECASE,
)


class UninitializedParameter(StaticRule):
    """An nn.Parameter made from uninitialised memory that nothing in its class initialises (rules/NN305.md)."""

    code = "NN305"
    name = "uninitialized-parameter"
    needles = torch_api.needles(torch_api.PARAMETER_SPELLINGS)
    severity = Severity.WARNING

    def visit_Call(self, node: cst.Call) -> None:
        semantics = self.context.semantics
        if not classes.is_parameter(semantics.qualified_name(node.func)):
            return
        data = argument(node, 0, "data")
        source = _uninitialised(semantics, data) if data is not None else None
        if source is None:
            return
        owner = classes.owner(semantics, node)
        if owner is None or not classes.is_module_like(semantics, owner[1]):
            return
        if _initialises(semantics, owner[1], set()) or self._initialised_elsewhere(owner[1], node):
            return
        if _holds_loaded_storage(semantics, owner[1]):
            return
        self.report(
            node,
            f"This `nn.Parameter` wraps `{source}(...)`, which is uninitialised memory, and nothing in the class "
            "initialises it (no `nn.init.*`, no `reset_parameters`, no in-place fill): its values are whatever "
            "was in memory — often zeros, sometimes huge or NaN — so training starts from garbage and can "
            "diverge or differ from run to run. Initialise it: call `nn.init.kaiming_uniform_(...)` (or similar) "
            "in a `reset_parameters` method, or create it with `torch.randn(...) * scale` / `torch.zeros(...)`.",
        )

    def _initialised_elsewhere(self, klass: cst.ClassDef, node: cst.Call) -> bool:
        """A model-wide `_init_weights(module)` that names this class (in any checked file) or this parameter (in this file)."""
        semantics = self.context.semantics
        if _SKIPS_INIT.search(self.context.source):
            return True  # the file skips initialisation on purpose: weights always come from a checkpoint
        here = _init_functions(semantics)
        attribute = _parameter_attribute(semantics, node)
        if attribute is not None and any(_mentions(text, attribute) for text in here):
            return True
        name = klass.name.value
        if any(_mentions(text, name) for text in here):
            return True
        # Every other file of the project that could mention the class in an init function
        elsewhere = semantics.project.function_sources(
            (name, "init"),
            _INIT_METHOD,
            exclude=semantics.path,
            tokens=(name,),  # _mentions wants it whole
        )
        return any(_mentions(text, name) for text in elsewhere)


_INIT_TEXTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _init_functions(semantics) -> List[str]:
    """The source of every function or method of a file whose name says it initialises or resets (cached)."""
    texts = _INIT_TEXTS.get(semantics)
    if texts is None:
        finder = _InitFunctions()
        walk(semantics.module, finder)
        texts = _INIT_TEXTS[semantics] = finder.texts
    return texts


def _mentions(text: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}\b", text) is not None


def _holds_loaded_storage(semantics, klass: cst.ClassDef) -> bool:
    """A quantised or frozen layer: some parameter is not trainable, so its values come from a checkpoint."""
    finder = _FrozenParameters(semantics)
    walk(klass.body, finder)
    return finder.found


class _FrozenParameters(cst.CSTVisitor):
    # module level: a class made per call is cyclic garbage holding the file's semantics (see classes.names_in)
    def __init__(self, semantics) -> None:
        super().__init__()
        self.semantics, self.found = semantics, False

    def visit_Call(self, node: cst.Call) -> None:
        if classes.is_parameter(self.semantics.qualified_name(node.func)) and _not_trainable(self.semantics, node):
            self.found = True


def _not_trainable(semantics, parameter: cst.Call) -> bool:
    """`nn.Parameter(..., requires_grad=False)`, or data of an integer or float8 dtype."""
    flag = argument(parameter, 1, "requires_grad")
    if isinstance(flag, cst.Name) and flag.value == "False":
        return True
    data = argument(parameter, 0, "data")
    while isinstance(data, cst.Call) and isinstance(data.func, cst.Attribute) and isinstance(data.func.value, cst.Call):
        data = data.func.value
    if not isinstance(data, cst.Call):
        return False
    dtype = argument(data, -1, "dtype")
    if dtype is None:
        return False
    qualified = semantics.qualified_name(dtype) or ""
    written = cst.Module([]).code_for_node(dtype)
    return bool(_FROZEN_DTYPE.search(qualified) or _FROZEN_DTYPE.search(written))


def _parameter_attribute(semantics, node: cst.Call) -> Optional[str]:
    """`w` for `self.w = nn.Parameter(...)`."""
    parent = semantics.parents.get(node)
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        return classes.self_attribute_name(parent.targets[0].target)
    return None


class _InitFunctions(cst.CSTVisitor):
    """The source of every function or method whose name says it initialises or resets."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: List[str] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.name.value != "__init__" and _INIT_METHOD.search(node.name.value):
            self.texts.append(cst.Module([]).code_for_node(node))


def _uninitialised(semantics, expr: cst.BaseExpression) -> Optional[str]:
    """The allocating call, as written, when `expr` allocates memory without setting it."""
    expr = semantics.resolve(expr)  # `w = torch.Tensor(n, m)` then `nn.Parameter(w)`
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and isinstance(expr.func.value, cst.Call):
        if expr.func.attr.value not in _TENSOR_PASSTHROUGH:
            return None  # `.uniform_()`, `.normal_()`: initialised in place
        expr = expr.func.value
    if not isinstance(expr, cst.Call):
        return None
    qualified = semantics.qualified_name(expr.func)
    sizes = [arg for arg in expr.args if arg.keyword is None]
    if any(_is_zero(arg.value) for arg in sizes):
        return None  # an empty placeholder
    if qualified in torch_api.EMPTY_FACTORIES and sizes:
        return qualified
    if qualified in torch_api.LEGACY_TENSOR_TYPES and sizes and _are_sizes(sizes):
        return (
            qualified  # `torch.Tensor(n, m)` allocates; `torch.Tensor([1., 2.])` or `torch.Tensor(array)` copies data
        )
    return None


def _is_zero(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Integer) and expr.value == "0"


def _are_sizes(sizes: List[cst.Arg]) -> bool:
    """Whether the positional arguments of a legacy constructor are sizes rather than data to copy.

    Data comes as one argument (`torch.Tensor(array)`): two or more positional arguments are always
    sizes, whatever they are (`torch.Tensor(len(vocab), dim)`, `torch.Tensor(n + int(flag), m)`).
    """
    if len(sizes) >= 2 or sizes[0].star == "*":
        return True
    return _looks_like_size(sizes[0].value)


def _looks_like_size(value: cst.BaseExpression) -> bool:
    """An integer, a name that says it is a size, an integer-valued call, or arithmetic on such operands."""
    if isinstance(value, cst.Integer) or _is_integer_call(value):
        return True
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, _SIZE_ARITHMETIC):
        return all(_is_size_operand(side) for side in (value.left, value.right))
    name = (
        value.value if isinstance(value, cst.Name) else value.attr.value if isinstance(value, cst.Attribute) else None
    )
    return name is not None and bool(_SIZE_NAME.search(name))


def _is_size_operand(value: cst.BaseExpression) -> bool:
    """An operand of size arithmetic: any name or attribute (`self.hidden * 2`), a number, an integer call, or more arithmetic."""
    if isinstance(value, (cst.Integer, cst.Name, cst.Attribute)) or _is_integer_call(value):
        return True
    return isinstance(value, cst.BinaryOperation) and _looks_like_size(value)


def _is_integer_call(value: cst.BaseExpression) -> bool:
    """`int(...)`, `len(...)`, `math.prod(...)` and the like: calls that return an integer."""
    if not isinstance(value, cst.Call):
        return False
    func = value.func
    if isinstance(func, cst.Name):
        return func.value in _INTEGER_BUILTINS
    return (
        isinstance(func, cst.Attribute)
        and isinstance(func.value, cst.Name)
        and func.value.value in ("math", "np", "numpy")
        and func.attr.value in _INTEGER_MATH
    )


def _initialises(semantics, klass: cst.ClassDef, seen: Set[int]) -> bool:
    """Whether a class, or a base class in the checked files, initialises values anywhere (or its bases are unknown)."""
    if id(klass) in seen:
        return False
    seen.add(id(klass))
    if any(_INIT_METHOD.search(m.name.value) and m.name.value != "__init__" for m in classes.methods(klass)):
        return True
    finder = _InitFinder(semantics)
    walk(klass.body, finder)
    if finder.found:
        return True
    for base in klass.bases:
        qualified = semantics.qualified_name(base.value)
        if (
            base.keyword is not None
            or (qualified or "").startswith("torch")
            or classes.is_external_non_module(qualified)
        ):
            continue
        found = classes.base_class(semantics, base.value)
        if found is None:
            return True  # an unknown base may initialise its subclasses' parameters
        if _initialises(found[0], found[1], seen):
            return True
    return False


class _InitFinder(cst.CSTVisitor):
    """Finds any initialising call or `.data` assignment in a class body."""

    def __init__(self, semantics) -> None:
        super().__init__()
        self.semantics = semantics
        self.found = False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        name = (
            func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else None
        )
        qualified = self.semantics.qualified_name(func)
        if name in _INIT_CALLS or (qualified or "").startswith(torch_api.INIT_MODULE):
            self.found = True
        elif name is not None and name != "__init__" and _INIT_METHOD.search(name):
            self.found = True  # `self.init_weights()`, `init_params(self)`

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        target: cst.BaseExpression = node.target
        while isinstance(target, cst.Subscript):
            target = target.value
        if isinstance(target, cst.Attribute) and target.attr.value == "data":
            self.found = True
