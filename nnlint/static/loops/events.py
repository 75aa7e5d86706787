"""What the loop model lists: event kinds, the frames around an event, events, and units (imports only libcst).

A unit is one iteration of a loop (or one run of a function): the events of its function that run
inside it, and questions about where each sits relative to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple, Union

import libcst as cst

if TYPE_CHECKING:
    from nnlint.static.semantics import FileSemantics

Function = Union[cst.FunctionDef, cst.Module]
Loop = Union[cst.For, cst.While]

# Event kinds.
BACKWARD = "backward"
STEP = "optimizer step"
ZERO_GRAD = "zero_grad"
MAYBE_CLEAR = "call that may clear gradients"
SCHEDULER_STEP = "scheduler step"
CLIP = "clip"
UNSCALE = "unscale"
EVAL = "eval"
TRAIN = "train"
MODEL_CALL = "model call"
# A call of something that may be the model (`self.backbone(x)`, `m(x)` with `m` a parameter): whether it is costs
# value flow across functions and files, so it is asked only when a rule needs to know (LoopModel.runs_model).
MAYBE_MODEL_CALL = "call that may run the model"
AUTOGRAD_GRAD = "autograd.grad"
CALL = "call"
MAYBE_MODE = "call that may switch modes"

MODE_KINDS = (EVAL, TRAIN)
CLEAR_KINDS = (ZERO_GRAD, MAYBE_CLEAR)

MAX_EVENTS = 4000  # per function, helpers spliced in: past it the function counts as incomplete


@dataclass(frozen=True, eq=False)
class Frame:
    """A construct around an event: a loop, an `if` branch, a call, or a (no_)grad block."""

    kind: str  # loop | cond | jump | call | nograd | grad
    node: cst.CSTNode
    owner: Optional[cst.CSTNode] = None  # cond: the If/Try the branch belongs to; call: the callee


@dataclass(frozen=True, eq=False)
class Event:
    """One relevant call in execution order, with the constructs around it."""

    kind: str
    node: cst.CSTNode
    receiver: str
    path: Tuple[Frame, ...]
    target: str = ""  # the optimizer of a step/unscale_, the tensor of a backward
    has_args: bool = False
    amp: bool = False
    callee: Optional[cst.FunctionDef] = None

    def seen_from(self, frames: Tuple[Frame, ...]) -> Event:
        """The same event spliced into a caller: the caller's frames (ending in the call) come first."""
        return Event(
            self.kind, self.node, self.receiver, frames + self.path, self.target, self.has_args, self.amp, self.callee
        )


class Unit:
    """One iteration of a loop (or one run of a function): its events and where each sits relative to it."""

    def __init__(self, function: Function, loop: Optional[Loop], events: Sequence[Event]) -> None:
        self.function = function
        self.loop = loop
        self.events = [event for event in events if loop is None or any(f.node is loop for f in event.path)]

    def tail(self, event: Event) -> Tuple[Frame, ...]:
        """The frames of `event` inside this unit."""
        return self.tail_of(event.path)

    def tail_of(self, path: Tuple[Frame, ...]) -> Tuple[Frame, ...]:
        """The frames of a path inside this unit."""
        if self.loop is None:
            return path
        for index, frame in enumerate(path):
            if frame.node is self.loop:
                return path[index + 1 :]
        return path

    def conditional(self, event: Event) -> bool:
        """Whether the event runs only on some iterations (inside an `if`, an `except`, or after a `continue`)."""
        return any(frame.kind in ("cond", "jump") for frame in self.tail(event))

    def nested(self, event: Event) -> bool:
        """Whether the event sits in a loop nested in this unit."""
        return any(frame.kind == "loop" for frame in self.tail(event))

    def nested_loops(self) -> List[cst.CSTNode]:
        """Loops nested in this unit, outermost first, each once."""
        seen: List[cst.CSTNode] = []
        for event in self.events:
            for frame in self.tail(event):
                if frame.kind == "loop" and not any(frame.node is s for s in seen):
                    seen.append(frame.node)
        return seen

    def anchor(self, event: Event) -> cst.CSTNode:
        """Where to report an event: the call into a helper inside this unit, or the event itself."""
        for frame in self.tail(event):
            if frame.kind == "call":
                return frame.node
        return event.node

    def contains(self, node: cst.CSTNode, semantics: FileSemantics) -> bool:
        """Whether `node` is written inside this unit's loop."""
        current = semantics.parents.get(node)
        while current is not None:
            if current is self.loop:
                return True
            current = semantics.parents.get(current)
        return False

    def inside_one_call(self, *events: Event) -> bool:
        """Whether all the events run inside the same helper call: that helper's own unit reports them."""
        calls = []
        for event in events:
            frame = next((f for f in self.tail(event) if f.kind == "call"), None)
            if frame is None:
                return False
            calls.append(frame.node)
        return all(call is calls[0] for call in calls)

    def of(self, *kinds: str) -> List[Event]:
        """The events of the given kinds."""
        return [event for event in self.events if event.kind in kinds]
