"""Walker: one function body in execution order, appending the events a training loop is made of.

Imports libcst and the loop model's data modules; never torch. The LoopModel it fills is imported only for types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Sequence, Tuple

import libcst as cst

from nnlint.static.loops.events import (
    AUTOGRAD_GRAD,
    BACKWARD,
    CALL,
    CLIP,
    EVAL,
    MAX_EVENTS,
    MAYBE_CLEAR,
    MAYBE_MODE,
    MAYBE_MODEL_CALL,
    MODEL_CALL,
    SCHEDULER_STEP,
    STEP,
    TRAIN,
    UNSCALE,
    ZERO_GRAD,
    Event,
    Frame,
    Loop,
)
from nnlint.static.loops.names import (
    CLEARING_NAME,
    CLIP_FUNCTIONS,
    MODE_NAME,
    NOT_MODULE_CALLS,
    SET_GRAD_ENABLED,
    WRAPPER_BACKWARD,
)
from nnlint.static.loops.queries import grad_context
from nnlint.static.loops.roles import named_like_model
from nnlint.static.loops.syntax import dotted, is_false, is_grad, last_name, text_of

if TYPE_CHECKING:
    from nnlint.static.loops.model import LoopModel


class Walker:
    """Walks one function body in execution order and appends its events."""

    def __init__(self, model: LoopModel, out: List[Event], loops: List[Loop]) -> None:
        self.model = model
        self.semantics = model.semantics
        self.out = out
        self.loops = loops

    def block(self, body: cst.CSTNode, path: Tuple[Frame, ...]) -> None:
        if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            self.statements(body.body, path)

    def statements(self, statements: Sequence[cst.CSTNode], path: Tuple[Frame, ...]) -> None:
        for statement in statements:
            if len(self.out) > MAX_EVENTS:
                return
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    path = self.small(small, path)
            elif isinstance(statement, cst.BaseSmallStatement):
                path = self.small(statement, path)
            else:
                self.compound(statement, path)
                if id(statement) in self.model.index.jumps:
                    path = path + (Frame("jump", statement),)

    def small(self, small: cst.BaseSmallStatement, path: Tuple[Frame, ...]) -> Tuple[Frame, ...]:
        self.expression(small, path)
        if isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            for target in targets:
                if isinstance(target, cst.Attribute) and target.attr.value == "grad":
                    self.add(Event(ZERO_GRAD, small, text_of(target.value), path))
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            call = small.value
            if dotted(call.func) and self.semantics.qualified_name(call.func) in SET_GRAD_ENABLED:
                context = grad_context(self.semantics, call)
                if context is not None:
                    return path + (Frame(context, small),)
        if isinstance(small, (cst.Continue, cst.Break, cst.Return, cst.Raise)):
            return path + (Frame("jump", small),)
        return path

    def compound(self, statement: cst.CSTNode, path: Tuple[Frame, ...]) -> None:
        if isinstance(statement, cst.If):
            self.if_(statement, path)
        elif isinstance(statement, cst.For):
            self.expression(statement.iter, path)
            self.loops.append(statement)
            inner = path + (Frame("loop", statement),)
            self.block(statement.body, inner)
            if statement.orelse is not None:
                self.block(statement.orelse.body, path + (Frame("cond", statement.orelse, statement),))
        elif isinstance(statement, cst.While):
            self.loops.append(statement)
            inner = path + (Frame("loop", statement),)
            self.expression(statement.test, inner)
            self.block(statement.body, inner)
            if statement.orelse is not None:
                self.block(statement.orelse.body, path + (Frame("cond", statement.orelse, statement),))
        elif isinstance(statement, cst.With):
            inner = path
            for item in statement.items:
                self.expression(item.item, path)
                context = grad_context(self.semantics, item.item)
                if context is not None:
                    inner = inner + (Frame(context, item),)
            self.block(statement.body, inner)
        elif isinstance(statement, (cst.Try, cst.TryStar)):
            self.block(statement.body, path)
            for handler in statement.handlers:
                self.block(handler.body, path + (Frame("cond", handler, statement),))
            if statement.orelse is not None:
                self.block(statement.orelse.body, path)
            if statement.finalbody is not None:
                self.block(statement.finalbody.body, path)
        elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            return
        elif isinstance(statement, cst.Match):
            self.expression(statement.subject, path)
            for case in statement.cases:
                self.block(case.body, path + (Frame("cond", case, statement),))
        else:
            body = getattr(statement, "body", None)
            if isinstance(body, cst.CSTNode):
                self.block(body, path + (Frame("cond", statement, statement),))

    def if_(self, node: cst.If, path: Tuple[Frame, ...]) -> None:
        self.expression(node.test, path)
        self.block(node.body, path + (Frame("cond", node.body, node),))
        orelse = node.orelse
        if isinstance(orelse, cst.Else):
            self.block(orelse.body, path + (Frame("cond", orelse, node),))
        elif isinstance(orelse, cst.If):
            self.if_(orelse, path + (Frame("cond", orelse, node),))

    def expression(self, node: cst.CSTNode, path: Tuple[Frame, ...]) -> None:
        for call in self.model.index.calls.get(id(node), ()):
            self.call(call, path)

    def add(self, event: Event) -> None:
        self.out.append(event)

    def call(self, call: cst.Call, path: Tuple[Frame, ...]) -> None:
        semantics = self.semantics
        func = call.func
        qualified = semantics.qualified_name(func) if dotted(func) else None
        args = [arg for arg in call.args if arg.keyword is None and not arg.star]
        if qualified in CLIP_FUNCTIONS:
            self.add(Event(CLIP, call, "", path, has_args=bool(call.args)))
            return
        if qualified in ("torch.autograd.backward",):
            self.add(Event(BACKWARD, call, "", path, target=text_of(args[0].value) if args else ""))
            return
        if qualified in ("torch.autograd.grad",):
            self.add(Event(AUTOGRAD_GRAD, call, "", path))
            return
        if qualified is not None and qualified.startswith("torch"):
            return
        if isinstance(func, cst.Attribute):
            if self.method(call, func, args, path):
                return
        callee = self.model.callee(call)
        if callee is not None:
            self.splice(call, callee, path)
            return
        name = last_name(func)
        clearing = name is not None and CLEARING_NAME.search(name) is not None
        # a helper we cannot see into, such as `set_train_mode(model)`
        mode = name is not None and name[:1].islower() and MODE_NAME.search(name) is not None
        if named_like_model(func) or ((clearing or mode) and self.model.is_model_callee(func)):
            self.add(Event(MODEL_CALL, call, text_of(func), path))
        elif clearing:
            self.add(Event(MAYBE_CLEAR, call, text_of(func), path))
        elif mode:
            self.add(Event(MAYBE_MODE, call, name or "", path))
        elif name is not None and name not in NOT_MODULE_CALLS and isinstance(func, (cst.Name, cst.Attribute)):
            self.add(Event(MAYBE_MODEL_CALL, call, text_of(func), path))

    def method(self, call: cst.Call, func: cst.Attribute, args: List[cst.Arg], path: Tuple[Frame, ...]) -> bool:
        method = func.attr.value
        receiver = func.value
        text = text_of(receiver)
        if method in ("backward", "manual_backward"):
            target = text
            if (
                isinstance(receiver, cst.Call)
                and isinstance(receiver.func, cst.Attribute)
                and receiver.func.attr.value == "scale"
            ):
                inner = [a for a in receiver.args if a.keyword is None]
                target = text_of(inner[0].value) if inner else text
                self.add(Event(BACKWARD, call, text, path, target=target, amp=True))
                return True
            if method == "manual_backward" or (WRAPPER_BACKWARD.search(last_name(receiver) or "") and args):
                target = text_of(args[0].value) if args else text
            self.add(Event(BACKWARD, call, text, path, target=target))
            return True
        if method == "zero_grad":
            self.add(Event(ZERO_GRAD, call, text, path))
            return True
        if method in ("zero_", "fill_", "mul_", "copy_", "detach_") and is_grad(receiver):
            self.add(Event(ZERO_GRAD, call, text, path))
            return True
        if method == "step":
            role = self.model.role(receiver)
            if role == "scaler":
                target = text_of(args[0].value) if args else ""
                self.add(Event(STEP, call, text, path, target=target, has_args=False, amp=True))
                return True
            if role == "scheduler":
                self.add(Event(SCHEDULER_STEP, call, text, path, has_args=bool(call.args)))
                return True
            if role == "optimizer":
                closure = call.args[0].value if call.args else None
                unknown = False
                if closure is not None:
                    callee = self.model.function_named(call, closure.value) if isinstance(closure, cst.Name) else None
                    if callee is not None:
                        self.splice(call, callee, path)
                    else:
                        unknown = True
                if any(arg.keyword is not None and "zero" in arg.keyword.value for arg in call.args):
                    unknown = True
                self.add(Event(STEP, call, text, path, target=text, has_args=unknown))
                return True
            return False
        if method == "unscale_" and self.model.role(receiver) == "scaler":
            self.add(Event(UNSCALE, call, text, path, target=text_of(args[0].value) if args else ""))
            return True
        if method in ("eval", "train") and self.model.role(receiver) == "optimizer":
            return True  # schedule-free optimizers have train()/eval() too; they do not switch the model
        if method == "eval" and not call.args:
            self.add(Event(EVAL, call, text, path))
            return True
        if method == "train":
            mode = call.args[0].value if call.args else None
            self.add(Event(EVAL if mode is not None and is_false(mode) else TRAIN, call, text, path))
            return True
        return False

    def splice(self, call: cst.Call, callee: cst.FunctionDef, path: Tuple[Frame, ...]) -> None:
        frame = Frame("call", call, callee)
        inner = path + (frame,)
        self.add(Event(CALL, call, text_of(call.func), path, callee=callee))
        if self.model.cut_recursion(callee):
            return
        for event in self.model.events(callee):
            self.add(event.seen_from(inner))
            if len(self.out) > MAX_EVENTS:
                return
