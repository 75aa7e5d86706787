"""Simple local dataflow over one parsed file: what kind of value an expression holds, and where it came from.

Deliberately modest: a name resolves to its last assignment above the use in the same function
(or at module level), `self.x` to what `__init__` and the other methods assign, and a call of a
module instance to what that module's class produces. Anything unclear is unknown, and rules stay
silent on unknown values: precision first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple, Type, TypeVar, cast

import libcst as cst

from nnlint.static import torch_api
from nnlint.static.call_args import argument as argument  # re-exported: rules import it here
from nnlint.static.call_args import sequential_layers as sequential_layers
from nnlint.static.call_summary import absolute_import
from nnlint.static.collect import Collector, Scope, dotted_name
from nnlint.static.fastwalk import KindTest, positions_of, subtree_end
from nnlint.static.fastwalk import walk as walk  # re-exported: static/classes.py and static/layers.py import it here
from nnlint.static.torch_api import Kind
from nnlint.static.value_types import LossCall as LossCall  # re-exported
from nnlint.static.value_types import ModuleInstance as ModuleInstance
from nnlint.static.value_types import Origin as Origin

if TYPE_CHECKING:
    from nnlint.static.project import ProjectIndex

_MAX_DEPTH = 12


_Node = TypeVar("_Node", bound=cst.CSTNode)


class FileSemantics:
    """Name resolution and value kinds for one module, built in one walk per file.

    Kept cheap on purpose (it runs on every file): imports are resolved from the file's own import
    statements instead of libcst's scope analysis, and positions are computed only when a finding or
    a message needs a line number.
    """

    def __init__(self, path: str, module: cst.Module, project: "ProjectIndex", text: Optional[str] = None) -> None:
        self.path = path
        self.module = module
        self.project = project
        self.text = text  # the source, when known: cross-file questions look for words in it
        collected = Collector(module)  # the one walk of the file
        self.parents = collected.parents
        self.order = collected.order  # pre-order index: "before" without computing positions
        self._imports = collected.imports
        self._assignments = collected.assignments
        self._self_attributes = collected.self_attributes
        self.classes = collected.classes
        # names some function imports for itself: only those need the walk up the scopes in qualified_name
        self._imported_in_functions = frozenset(
            name for scope, names in collected.imports.items() if scope is not module for name in names
        )
        self.depth = collected.depth  # levels of nesting of the tree: libcst's own visitors recurse several per level
        self._origin_cache: Dict[int, Optional[Origin]] = {}
        self._positions: Optional[Mapping[cst.CSTNode, Any]] = None
        self._nodes: Optional[List[cst.CSTNode]] = None  # the keys of `order`, as a list (descendants)
        self._calls: Optional[Dict[str, List[cst.Call]]] = None  # calls by the callee's last name (calls.py)
        self._functions: Optional[Dict[str, cst.FunctionDef]] = None
        self._paths: Dict[int, List[Optional[Origin]]] = {}  # a module call's output per value of its callee
        self.values_cache: Dict[int, list] = {}  # flow.values per expression
        self.call_sites_cache: Dict[tuple, Any] = {}  # calls.call_sites per (function, parameter)
        self.loop_model: Any = None  # loops.loop_model's cache: kept here, it dies with the file's tree
        self.may_evaluate: Optional[bool] = None  # loops.may_have_eval_sites' cache

    def forget(self) -> None:
        """Drop the caches that point back at files (this one included), so that once the project lets go of the
        file its tree is freed by reference counting, without a cyclic collection over the whole heap."""
        self._origin_cache = {}
        self._paths = {}
        self.values_cache = {}
        self.call_sites_cache = {}
        self.loop_model = None

    # -- positions and names ------------------------------------------------------------------
    @property
    def positions(self) -> Mapping[cst.CSTNode, Any]:
        """libcst CodeRange per node, computed on first use (it costs a code-generation pass)."""
        if self._positions is None:
            self._positions = positions_of(self.module)
        return self._positions

    def line(self, node: cst.CSTNode) -> int:
        """1-based line where a node starts."""
        return self.positions[node].start.line

    def qualified_name(self, node: cst.CSTNode) -> Optional[str]:
        """The imported qualified name of a Name/Attribute (`nn.Softmax` -> `torch.nn.Softmax`), normalized; else None."""
        dotted = dotted_name(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        imported = self._import_of(node, head)
        if imported is None:
            return None
        if imported.startswith("."):
            imported = absolute_import(imported, self.path)
        return torch_api.normalize(imported + ("." + rest if rest else ""))

    def _import_of(self, node: cst.CSTNode, head: str) -> Optional[str]:
        """What `head` is imported as where `node` is: the innermost function importing it, else the module."""
        if head not in self._imported_in_functions:  # the usual case: no walk up the scopes from the node
            return self._imports.get(self.module, {}).get(head)
        scope: Optional[cst.CSTNode] = node
        while scope is not None:
            scope = self.enclosing(scope, (cst.FunctionDef,)) or (self.module if scope is not self.module else None)
            imported = self._imports.get(scope, {}).get(head) if scope is not None else None
            if imported is not None:
                return imported
        return None

    def calls_named(self, name: str) -> List[cst.Call]:
        """The calls in this file whose callee is written `name(...)` or `<something>.name(...)`."""
        if self._calls is None:
            self._calls = {}
            for node in self.order:
                if type(node) is cst.Call:
                    func = node.func  # type: ignore[attr-defined]
                    key = (
                        func.value
                        if type(func) is cst.Name
                        else func.attr.value
                        if type(func) is cst.Attribute
                        else None
                    )
                    if key is not None:
                        self._calls.setdefault(key, []).append(node)  # type: ignore[arg-type]
        return self._calls.get(name, [])

    def top_level_functions(self) -> Dict[str, cst.FunctionDef]:
        """The functions defined at the top level of this file, by name (the last definition wins, as in Python)."""
        if self._functions is None:
            self._functions = {s.name.value: s for s in self.module.body if isinstance(s, cst.FunctionDef)}
        return self._functions

    def local_class(self, node: cst.CSTNode) -> Optional[str]:
        """The name of a class defined in some checked file that `node` (a Name/Attribute) refers to."""
        if isinstance(node, cst.Name):
            simple = node.value
        elif isinstance(node, cst.Attribute):
            simple = node.attr.value
        else:
            return None
        if not self.project.has_class(simple):
            return None
        imported = self.qualified_name(node)
        if imported is not None and not self.project.defined_in(simple, imported):
            return None  # `from some_package.models import Critic`: not the checked file's Critic
        return simple

    def descendants(self, node: cst.CSTNode, prune: tuple = ()) -> List[cst.CSTNode]:
        """The nodes under `node` in visiting order, without walking the tree again: a slice of the
        collector's pre-order list. The subtrees of `prune` types are left out (those nodes too)."""
        if self._nodes is None:
            self._nodes = list(self.order)
        nodes, order = self._nodes, self.order
        index, end = order[node] + 1, subtree_end(node, order)
        if not prune:
            return nodes[index:end]
        found = []
        pruned = _kind_test(prune)
        while index < end:
            current = nodes[index]
            if pruned[type(current)]:
                index = subtree_end(current, order)
            else:
                found.append(current)
                index += 1
        return found

    def enclosing(self, node: cst.CSTNode, kinds: Tuple[Type[_Node], ...]) -> Optional[_Node]:
        """The nearest ancestor of one of the given node types."""
        parents = self.parents
        current = parents.get(node)
        wanted = _kind_test(kinds)
        while current is not None and not wanted[type(current)]:
            current = parents.get(current)
        return cast(Optional[_Node], current)

    def scope_of(self, node: cst.CSTNode) -> Scope:
        """The function (or the module) whose local names `node` sees."""
        function = self.enclosing(node, _SCOPES)
        return cast(Scope, function) if function is not None else self.module

    def class_of(self, node: cst.CSTNode) -> Optional[cst.ClassDef]:
        """The class whose method contains `node`, if any."""
        return self.enclosing(node, (cst.ClassDef,))

    # -- resolution ---------------------------------------------------------------------------
    def assigned_value(self, name: cst.Name) -> Optional[cst.BaseExpression]:
        """The last value assigned to `name` above its use, in its function or else at module level."""
        use = self.order.get(name, 0)
        scope = self.scope_of(name)
        for current in (scope, self.module) if scope is not self.module else (self.module,):
            candidates = self._assignments.get(current, {}).get(name.value, [])
            before = [value for index, value in candidates if index < use or current is not scope]
            if current is not scope and len(candidates) > 1:
                return None  # a module-level name rebound several times: unclear from inside a function
            if before:
                return before[-1] if self._same_block(before[-1], name) else None
            if candidates:
                return None
        return None

    def _same_block(self, value: cst.CSTNode, use: cst.CSTNode) -> bool:
        """Whether every branch or loop around an assignment also contains the use (else it may not have run)."""
        block = self.parents.get(value)
        while block is not None and not _SCOPE_OR_MODULE[type(block)]:
            if _BRANCH[type(block)] and not self._inside(use, block):
                return False
            block = self.parents.get(block)
        return True

    def _inside(self, node: cst.CSTNode, ancestor: cst.CSTNode) -> bool:
        current: Optional[cst.CSTNode] = node
        while current is not None:
            if current is ancestor:
                return True
            current = self.parents.get(current)
        return False

    def self_attribute(self, node: cst.Attribute) -> Optional[cst.BaseExpression]:
        """What `self.<attr>` holds when every assignment in the class agrees on one expression."""
        if not (isinstance(node.value, cst.Name) and node.value.value == "self"):
            return None
        klass = self.class_of(node)
        if klass is None:
            return None
        values = self._self_attributes.get(klass, {}).get(node.attr.value, [])
        return values[0] if len(values) == 1 else None

    def resolve(self, expr: cst.BaseExpression) -> cst.BaseExpression:
        """Follow names and `self.` attributes to the expression that was assigned to them."""
        for _ in range(_MAX_DEPTH):
            if isinstance(expr, cst.Name):
                value = self.assigned_value(expr)
            elif isinstance(expr, cst.Attribute):
                value = self.self_attribute(expr)
            else:
                value = None
            if value is None:
                return expr
            expr = value
        return expr

    def module_class(self, callee: cst.BaseExpression) -> Optional[Tuple[str, cst.Call]]:
        """For a callee that is a module instance, the class (qualified or local name) and the constructor call.

        Followed across functions and files (flow.py) when the callee is a parameter, a factory's result or a
        wrapper, if every value it may hold is an instance of the same class; the constructor call may then be
        in another file (`module_instance` says which)."""
        found = self.module_instance(callee)
        return None if found is None else (found.class_name, found.construct)

    def module_instance(self, callee: cst.BaseExpression) -> Optional["ModuleInstance"]:
        """module_class, with the file of the constructor call and the steps that led to it."""
        local = self._local_module_class(callee)
        if local is not None:
            return ModuleInstance(self, local[0], local[1], ())
        paths = self.module_paths(callee)
        known = [path for path in paths if path is not None]
        if paths and len(known) == len(paths) and len({path.class_name for path in known}) == 1:
            return known[0]
        return None

    def module_paths(self, callee: cst.BaseExpression) -> List[Optional["ModuleInstance"]]:
        """Per value the callee may hold beyond this function (flow.py), the module it is an instance of (None:
        unknown); [] when the callee's value is decided here (module_class says what it is, or nothing can)."""
        from nnlint.static import flow

        found = flow.values(self, callee)
        if (
            len(found) == 1
            and found[0].semantics is self
            and not found[0].via
            and found[0].expr is self.resolve(callee)
        ):
            return []
        paths: List[Optional[ModuleInstance]] = []
        for value in found:
            local = None if value.unknown else value.semantics._local_module_class(value.expr)
            paths.append(None if local is None else ModuleInstance(value.semantics, local[0], local[1], value.via))
        return paths

    def _local_module_class(self, callee: cst.BaseExpression) -> Optional[Tuple[str, cst.Call]]:
        construct = self.resolve(callee)
        for _ in range(_MAX_DEPTH):
            if not isinstance(construct, cst.Call):
                return None
            func = construct.func
            if isinstance(func, cst.Attribute) and func.attr.value in torch_api.MODULE_PASSTHROUGH_METHODS:
                construct = self.resolve(func.value)  # Net().to(device)
                continue
            if self.qualified_name(func) in torch_api.MODEL_WRAPPERS and construct.args:
                construct = self.resolve(construct.args[0].value)  # nn.DataParallel(Net())
                continue
            break
        if not isinstance(construct, cst.Call):
            return None
        qualified = self.qualified_name(construct.func)
        if qualified is not None and _is_torch_name(qualified):
            return qualified, construct
        local = self.local_class(construct.func)
        if local is not None:
            return local, construct
        return None

    def loss_call(self, call: cst.Call) -> Optional["LossCall"]:
        """If `call` computes a torch loss: which one, as the user wrote it, and its input and target."""
        loss, display = None, ""
        qualified = self.qualified_name(call.func)
        if qualified is not None:
            loss, display = torch_api.loss_of(qualified), torch_api.short(qualified)
        if loss is None:
            module = self.module_class(call.func)
            if module is not None:
                loss, display = torch_api.loss_of(module[0]), torch_api.short(module[0])
        if loss is None:
            return None
        return LossCall(loss, display, call, argument(call, 0, "input"), argument(call, 1, "target"))

    # -- kinds --------------------------------------------------------------------------------
    def origin(self, expr: cst.BaseExpression, depth: int = 0) -> Optional[Origin]:
        """What kind of value `expr` holds and where it was produced, or None when unknown."""
        key = id(expr)
        if key in self._origin_cache:
            return self._origin_cache[key]
        self._origin_cache[key] = None  # cycle guard
        result = self._origin(expr, depth) if depth < _MAX_DEPTH else None
        self._origin_cache[key] = result
        return result

    def _origin(self, expr: cst.BaseExpression, depth: int) -> Optional[Origin]:
        if isinstance(expr, (cst.Name, cst.Attribute)) and not _is_call_target(self, expr):
            resolved = self.resolve(expr)
            return None if resolved is expr else self.origin(resolved, depth + 1)
        if not isinstance(expr, cst.Call):
            return None
        return self._call_origin(expr, depth)

    def _make(self, kind: Kind, node: cst.CSTNode, description: str, **extra) -> Origin:
        return Origin(kind, node, description, self, **extra)

    def _call_origin(self, call: cst.Call, depth: int) -> Optional[Origin]:
        loss = self.loss_call(call)
        if loss is not None:
            return self._make(Kind.LOSS, call, f"`{loss.display}`", loss=loss)
        func = call.func
        qualified = self.qualified_name(func)
        if qualified in torch_api.FUNCTION_KINDS:
            return self._make(torch_api.FUNCTION_KINDS[qualified], call, f"`{torch_api.short(qualified)}`")
        if qualified in torch_api.PASSTHROUGH_FUNCTIONS and call.args:
            return self.origin(call.args[0].value, depth + 1)
        if qualified in ("torch.log",) and call.args:
            inner = self.origin(call.args[0].value, depth + 1)
            if inner is not None and inner.kind is Kind.SOFTMAX:
                return self._make(Kind.LOG_SOFTMAX, call, "`torch.log` of softmax")
            return None
        is_tensor_method = not (
            isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self"
        )
        if (
            isinstance(func, cst.Attribute)
            and is_tensor_method
            and (qualified is None or not _is_torch_name(qualified))
        ):
            method = func.attr.value
            if method in torch_api.METHOD_KINDS and self.module_class(func.value) is None:
                return self._make(torch_api.METHOD_KINDS[method], call, f"`.{method}()`")
            if method in torch_api.PASSTHROUGH_METHODS and self.module_class(func.value) is None:
                return self.origin(func.value, depth + 1)
            if method == "log":
                inner = self.origin(func.value, depth + 1)
                if inner is not None and inner.kind is Kind.SOFTMAX:
                    return self._make(Kind.LOG_SOFTMAX, call, "`.log()` of softmax")
                return None
        return self._module_call_origin(call, depth)

    def _module_call_origin(self, call: cst.Call, depth: int) -> Optional[Origin]:
        func = call.func
        own = _own_forward(func)
        if own is not None:
            klass = self.class_of(call)
            if klass is None:
                return None
            forward = self.project.forward_origin(klass.name.value)
            if forward is None:
                return None
            return self._make(
                forward.kind, call, f"`{own}(...)` (`{klass.name.value}.forward` returns {forward.kind.value})"
            )
        local = self._local_module_class(func)
        if local is not None:
            return self.module_output(local[0], local[1], call, depth)
        origins: List[Optional[Origin]] = []
        for path in self.module_paths(func):
            output = None
            if path is not None:
                output = path.semantics.module_output(path.class_name, path.construct, path.construct, depth)
            if output is None or path is None:
                origins.append(None)
            else:
                origins.append(self._make(output.kind, call, output.description, via=path.via))
        self._paths[id(call)] = origins
        known = [origin for origin in origins if origin is not None]
        if origins and len(known) == len(origins) and len({origin.kind for origin in known}) == 1:
            return known[0]
        return None

    def path_origins(self, expr: cst.BaseExpression) -> List[Origin]:
        """When `expr` is (a name for) the output of a model whose value comes from several call sites that
        disagree or are partly unknown, what each known path produces (each says which call site it comes from)."""
        resolved = self.resolve(expr)
        if not isinstance(resolved, cst.Call) or self.origin(resolved) is not None:
            return []
        return [origin for origin in self._paths.get(id(resolved), []) if origin is not None]

    def module_output(self, class_name: str, construct: cst.Call, at: cst.CSTNode, depth: int) -> Optional[Origin]:
        """What calling an instance of `class_name` (built by `construct`) produces."""
        if class_name in torch_api.MODULE_KINDS:
            return self._make(torch_api.MODULE_KINDS[class_name], at, f"`{torch_api.short(class_name)}`")
        if class_name == torch_api.SEQUENTIAL:
            layers = sequential_layers(construct)
            if not layers:
                return None
            last = self.layer_origin(layers[-1], depth + 1)
            if last is None:
                return None
            return self._make(last.kind, at, f"an `nn.Sequential` ending in {last.description}")
        if not _is_torch_name(class_name):
            forward = self.project.forward_origin(class_name)
            if forward is not None:
                return self._make(
                    forward.kind, at, f"`{class_name}` (its `forward` in {forward.path} returns {forward.kind.value})"
                )
        return None

    def layer_origin(self, layer: cst.BaseExpression, depth: int = 0) -> Optional[Origin]:
        """The output kind of a layer expression such as `nn.Softmax(dim=1)` or a name bound to one."""
        resolved = self.resolve(layer)
        if not isinstance(resolved, cst.Call):
            return None
        qualified = self.qualified_name(resolved.func)
        name = qualified if qualified is not None and _is_torch_name(qualified) else self.local_class(resolved.func)
        if name is None:
            return None
        return self.module_output(name, resolved, resolved, depth)


def _own_forward(func: cst.BaseExpression) -> Optional[str]:
    """`self` for `self(x)`, `self.forward` for `self.forward(x)`: the class's own forward; else None."""
    if isinstance(func, cst.Name) and func.value == "self":
        return "self"
    if isinstance(func, cst.Attribute) and func.attr.value == "forward" and isinstance(func.value, cst.Name):
        return "self.forward" if func.value.value == "self" else None
    return None


def _is_call_target(semantics: FileSemantics, expr: cst.CSTNode) -> bool:
    parent = semantics.parents.get(expr)
    return isinstance(parent, cst.Call) and parent.func is expr


_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_BRANCH = KindTest(cst.If, cst.Else, cst.For, cst.While, cst.Try, cst.ExceptHandler, cst.Finally)
_SCOPE_OR_MODULE = KindTest(*_SCOPES, cst.Module)
_KIND_TESTS: Dict[tuple, KindTest] = {}  # the kinds `descendants` prunes and `enclosing` looks for


def _kind_test(kinds: tuple) -> KindTest:
    """The KindTest of these kinds, made once per tuple."""
    test = _KIND_TESTS.get(kinds)
    if test is None:
        test = _KIND_TESTS[kinds] = KindTest(*kinds)
    return test


def _is_torch_name(qualified: str) -> bool:
    """torch itself, not torchvision or torchaudio."""
    return qualified == "torch" or qualified.startswith("torch.")
