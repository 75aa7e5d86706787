"""NN410: an optimizer built over part of a model leaves out a trainable submodule that forward uses."""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Set, Tuple

import libcst as cst

from nnlint.static import classes, loops, torch_api
from nnlint.static.fastwalk import walk
from nnlint.static.loops import LoopRule
from nnlint.static.semantics import FileSemantics, argument
from nnlint.types import Severity

# Words that say part of a model is deliberately left alone (frozen, or pretrained and probed).
_DELIBERATE = (
    "requires_grad",
    "freeze",
    "frozen",
    "load_state_dict",
    "from_pretrained",
    "torch.load",
    "load_checkpoint",
)
_Term = Tuple[str, Optional[str]]


class OptimizerMissingParams(LoopRule):
    """The optimizer gets only some submodules' parameters; the others never train (rules/NN410.md)."""

    code = "NN410"
    name = "optimizer-missing-params"
    severity = Severity.WARNING
    needles = torch_api.needles((torch_api.OPTIM,))

    def check_model(self, model: loops.LoopModel) -> None:
        semantics = self.context.semantics
        constructions = _optimizers(semantics)
        if constructions and "add_param_group" not in self.context.source:
            for call, replacement in _late_replacements(semantics, constructions):
                self._report_late(semantics, call, replacement)
        if any(word in self.context.source for word in _DELIBERATE):
            return
        terms_of = {id(call): _terms(semantics, _params(call)) for call in constructions}
        for call in constructions:
            terms = terms_of[id(call)]
            if not terms or any(sub is None for _, sub in terms):
                continue
            bases = {base for base, _ in terms}
            if len(bases) != 1:
                continue
            base = bases.pop()
            covered: Set[str] = set()
            unknown = False
            for other_call in constructions:
                other_terms = terms_of[id(other_call)]
                if other_terms is None:
                    unknown = True
                    continue
                for other_base, sub in other_terms:
                    if other_base == base:
                        if sub is None:
                            unknown = True
                        else:
                            covered.add(sub)
            if unknown:
                continue
            self._check(semantics, call, base, covered)

    def _check(self, semantics: FileSemantics, call: cst.Call, base: str, covered: Set[str]) -> None:
        if not _called(semantics, base):
            return
        params = _params(call)
        spelled = _name_at(semantics, call, base)
        if params is None or spelled is None:
            return
        library = _library_model(semantics, spelled)
        if library is not None:
            self._report_library_part(params, base, covered, library)
            return
        owner = semantics.module_class(spelled)
        if owner is None or owner[0].startswith("torch"):
            return
        found = semantics.project.definitions(owner[0])
        if len(found) != 1:
            return
        class_semantics, class_node = found[0]
        if class_semantics is not semantics and any(word in class_semantics.module.code for word in _DELIBERATE):
            return
        submodules = _submodules(class_semantics, class_node)
        used = _used_in_forward(class_semantics, class_node)
        if used is None or not covered <= set(submodules):
            return
        trainable = [name for name in submodules if name in used and submodules[name]]
        missing = [name for name in trainable if name not in covered]
        if len(trainable) < 2 or not missing:
            return
        listed = ", ".join(f"`self.{name}`" for name in missing)
        given = ", ".join(f"`{base}.{name}`" for name in sorted(covered))
        self.report(
            params,
            f"The optimizer gets the parameters of {given} only, but `{class_node.name.value}.forward` also uses "
            f"{listed}: those weights receive gradients and are never updated, so they stay at their random "
            f"initialisation and cap what the model can learn. Pass `{base}.parameters()` (or add a parameter "
            "group for each left-out submodule), or freeze them explicitly with `requires_grad_(False)`.",
        )

    def _report_library_part(self, params: cst.BaseExpression, base: str, covered: Set[str], library: str) -> None:
        given = ", ".join(f"`{base}.{name}`" for name in sorted(covered))
        self.report(
            params,
            f"The optimizer gets the parameters of {given} only, and nothing freezes the rest of `{base}` (a "
            f"`{library}`): the rest still receives gradients on every backward pass but is never updated, so it "
            "stays as it was built (random weights unless pretrained ones were loaded) while the run pays for its "
            f"backward pass. Pass `{base}.parameters()` to train the whole model, or freeze the rest with "
            f"`{base}.requires_grad_(False)` (then re-enable {given}) if only that part should train.",
        )

    def _report_late(self, semantics: FileSemantics, call: cst.Call, replacement: cst.Assign) -> None:
        code = semantics.module.code_for_node
        target = code(replacement.targets[0].target)
        params = _params(call)
        assert params is not None
        self.report(
            replacement,
            f"`{target}` is replaced after the optimizer was built over `{code(params)}` (line "
            f"{semantics.line(call)}): the optimizer holds the parameters of the old layer, so the new `{target}` "
            "receives gradients but is never updated and keeps its random initialisation. Replace the layer first "
            "and build the optimizer afterwards (or add the new parameters with `optimizer.add_param_group`).",
        )


def _late_replacements(semantics: FileSemantics, constructions: List[cst.Call]) -> List[Tuple[cst.Call, cst.Assign]]:
    """A layer of the optimized model assigned a new module after the optimizer was built, in the same function.

    `opt = SGD(model.parameters()); model.fc = nn.Linear(512, 10)`: the new layer's parameters are not in `opt`.
    An optimizer built again after the replacement covers them.
    """
    found: List[Tuple[cst.Call, cst.Assign]] = []
    code = semantics.module.code_for_node
    for call in constructions:
        terms = _terms(semantics, _params(call))
        if not terms:
            continue
        scope = semantics.enclosing(call, (cst.FunctionDef,)) or semantics.module
        layers = [base if sub is None else f"{base}.{sub}" for base, sub in terms]
        later = [
            other
            for other in constructions
            if other is not call and (semantics.enclosing(other, (cst.FunctionDef,)) or semantics.module) is scope
        ]
        assignments = _assignments(semantics, scope)
        bases = {base for base, _ in terms}
        for assign in assignments:
            if semantics.order[assign] < semantics.order[call] or len(assign.targets) != 1:
                continue
            target = code(assign.targets[0].target)
            if target in bases:
                break  # the model itself is bound to a new object: its layers are no longer the optimizer's
            if not any(_inside_layer(target, layer, sub is None) for layer, (_, sub) in zip(layers, terms)):
                continue
            if re.search(re.escape(target) + r"(?![\w.])", code(assign.value)) or not _builds_layer(
                semantics, assign.value
            ):
                continue  # `model.fc = nn.Sequential(nn.Dropout(), model.fc)` keeps the old parameters
            if any(semantics.order[other] > semantics.order[assign] for other in later):
                continue
            found.append((call, assign))
            break
    return found


def _assignments(semantics: FileSemantics, scope: cst.CSTNode) -> List[cst.Assign]:
    """The assignments written directly in a function (not in nested ones), in source order."""
    finder = _LayerAssignments()
    walk(scope.body if isinstance(scope, cst.FunctionDef) else scope, finder)
    return finder.found


class _LayerAssignments(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: List[cst.Assign] = []

    def visit_Assign(self, node: cst.Assign) -> None:
        self.found.append(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def _inside_layer(target: str, layer: str, whole_model: bool) -> bool:
    """`model.fc` is part of `model` (the whole model); `model.fc[0]` and `model.fc.weight` are part of `model.fc`."""
    if target.startswith((layer + ".", layer + "[")):
        return True
    return not whole_model and target == layer


def _builds_layer(semantics: FileSemantics, value: cst.BaseExpression, depth: int = 0) -> bool:
    """A new layer with parameters: a torch layer, a container of such, a `Parameter`, or a module class of the project."""
    if not isinstance(value, cst.Call) or not loops.dotted(value.func) or depth > 3:
        return False
    qualified = semantics.qualified_name(value.func)
    if qualified is not None and qualified.startswith("torch"):
        if qualified in torch_api.CONTAINERS:
            return any(_builds_layer(semantics, arg.value, depth + 1) for arg in value.args)
        return qualified in _PARAMETER or classes.owns_parameters(qualified, value)
    name = loops.last_name(value.func) or ""
    return name[:1].isupper() and semantics.project.has_class(name)


_PARAMETER = ("torch.nn.Parameter", "torch.nn.parameter.Parameter")
_LIBRARY_MODELS = ("torchvision.models.", "timm.create_model", "timm.models.")


def _library_model(semantics: FileSemantics, spelled: cst.BaseExpression) -> Optional[str]:
    """`resnet18` when the model is built by a model zoo (torchvision, timm) whose classes we cannot read."""
    construct = semantics.resolve(spelled)
    if not isinstance(construct, cst.Call) or not loops.dotted(construct.func):
        return None
    qualified = semantics.qualified_name(construct.func) or ""
    if not qualified.startswith(_LIBRARY_MODELS):
        return None
    return qualified.rsplit(".", 1)[-1]


def _optimizers(semantics: FileSemantics) -> List[cst.Call]:
    """`torch.optim.<Optimizer>(...)` constructions in a file."""
    found = []
    for call in loops.loop_model(semantics).index.all_calls:
        if not loops.dotted(call.func):
            continue
        qualified = semantics.qualified_name(call.func) or ""
        if qualified.startswith(torch_api.OPTIM) and not qualified.startswith(torch_api.NOT_OPTIMIZERS):
            if qualified.rsplit(".", 1)[-1][:1].isupper():
                found.append(call)
    return found


def _params(call: cst.Call) -> Optional[cst.BaseExpression]:
    return argument(call, 0, "params")


def _terms(semantics: FileSemantics, expr: Optional[cst.BaseExpression]) -> Optional[List[_Term]]:
    """(model, submodule) for each `model.sub.parameters()` in an optimizer's params; None if anything is unclear."""
    if expr is None:
        return None
    code = semantics.module.code_for_node
    if isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value == "parameters" and not expr.args:
            holder = func.value
            if isinstance(holder, cst.Attribute) and isinstance(holder.value, (cst.Name, cst.Attribute)):
                return [(code(holder.value), holder.attr.value)]
            if isinstance(holder, (cst.Name, cst.Attribute)):
                return [(code(holder), None)]
            return None
        name = loops.last_name(func)
        if name in ("list", "chain") and expr.args:
            return _combine(semantics, [arg.value for arg in expr.args])
        return None
    if isinstance(expr, (cst.List, cst.Tuple)):
        values = []
        for element in expr.elements:
            if isinstance(element, cst.StarredElement):
                return None
            value = element.value
            if isinstance(value, cst.Dict):
                params = [
                    e.value
                    for e in value.elements
                    if isinstance(e, cst.DictElement) and code(e.key).strip("'\"") == "params"
                ]
                if len(params) != 1:
                    return None
                value = params[0]
            values.append(value)
        return _combine(semantics, values)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        return _combine(semantics, [expr.left, expr.right])
    return None


def _combine(semantics: FileSemantics, values: List[cst.BaseExpression]) -> Optional[List[_Term]]:
    result: List[_Term] = []
    for value in values:
        terms = _terms(semantics, value)
        if terms is None:
            return None
        result.extend(terms)
    return result


def _name_at(semantics: FileSemantics, call: cst.Call, target: str) -> Optional[cst.BaseExpression]:
    """The node in the optimizer call that spells the model, so it resolves in its own scope."""
    params = _params(call)
    if params is None:
        return None
    finder = _Spelling(semantics, target)
    walk(params, finder)
    return finder.found


class _Spelling(cst.CSTVisitor):
    def __init__(self, semantics: FileSemantics, target: str) -> None:
        super().__init__()
        self.semantics, self.target = semantics, target
        self.found: Optional[cst.BaseExpression] = None

    def on_visit(self, node: cst.CSTNode) -> bool:
        if (
            self.found is None
            and isinstance(node, (cst.Name, cst.Attribute))
            and self.semantics.module.code_for_node(node) == self.target
        ):
            self.found = node
            return False
        return self.found is None


def _called(semantics: FileSemantics, base: str) -> bool:
    """Whether the model is called somewhere (`model(x)`): the loss is computed from its output."""
    for call in loops.loop_model(semantics).calls_named(base.rsplit(".", 1)[-1]):
        if semantics.module.code_for_node(call.func) == base:
            return True
    return False


def _methods(klass: cst.ClassDef) -> Dict[str, cst.FunctionDef]:
    return {s.name.value: s for s in klass.body.body if isinstance(s, cst.FunctionDef)}


def _submodules(semantics: FileSemantics, klass: cst.ClassDef) -> Dict[str, bool]:
    """`self.<name> = <module>` in `__init__`: name -> whether it owns parameters."""
    init = _methods(klass).get("__init__")
    result: Dict[str, bool] = {}
    if init is None:
        return result
    for statement in init.body.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, cst.Assign) or len(small.targets) != 1:
                continue
            target = small.targets[0].target
            if not (
                isinstance(target, cst.Attribute)
                and isinstance(target.value, cst.Name)
                and target.value.value == "self"
            ):
                continue
            value = small.value
            if not isinstance(value, cst.Call) or not isinstance(value.func, (cst.Name, cst.Attribute)):
                continue
            qualified = semantics.qualified_name(value.func)
            if qualified is not None and qualified.startswith("torch"):
                result[target.attr.value] = qualified in torch_api.CONTAINERS or classes.owns_parameters(
                    qualified, value
                )
            elif semantics.project.has_class(loops.last_name(value.func) or ""):
                result[target.attr.value] = True
    return result


def _used_in_forward(semantics: FileSemantics, klass: cst.ClassDef) -> Optional[Set[str]]:
    """`self.<name>` read by `forward` and the methods it calls; None when forward stops gradients itself."""
    methods = _methods(klass)
    if "forward" not in methods:
        return None
    used: Set[str] = set()
    todo, seen = ["forward"], set()
    while todo:
        name = todo.pop()
        if name in seen or name not in methods:
            continue
        seen.add(name)
        finder = _SelfRefs()
        walk(methods[name].body, finder)
        if finder.stops_gradients:
            return None
        used |= finder.attributes
        todo.extend(finder.attributes)
    return used


class _SelfRefs(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.attributes: Set[str] = set()
        self.stops_gradients = False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == "self":
            self.attributes.add(node.attr.value)
        if node.attr.value in ("detach", "no_grad", "inference_mode", "eval"):
            self.stops_gradients = True
