"""Importing a target and building its model on the meta device (runs inside the worker process)."""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import inspect
import sys
import types
from pathlib import Path
from typing import Any, List, Optional, Tuple

import torch
from torch import nn

from nnlint import notebook


class LoadError(Exception):
    """Importing or building a target failed; `stage` is "import" or "build", `frame` the user's file/line."""

    def __init__(self, stage: str, message: str, frame: Optional[Tuple[str, int, int]] = None) -> None:
        super().__init__(message)
        self.stage = stage
        self.frame = frame


def import_object(target: str, root: Path) -> Any:
    """The object named by `file.py:Name` or `pkg.mod:Name`; files inside packages import as package modules."""
    module_part, _, name = target.rpartition(":")
    try:
        if module_part.endswith((".py", ".ipynb")) or "/" in module_part or "\\" in module_part:
            module = _import_file((root / module_part).resolve())
        else:
            if str(root) not in sys.path:
                sys.path.insert(0, str(root))
            module = importlib.import_module(module_part)
    except SystemExit as error:
        raise LoadError("import", f"importing it called sys.exit({error.code!r})", _user_frame(error)) from None
    except BaseException as error:  # user code may raise anything, KeyboardInterrupt aside
        if isinstance(error, KeyboardInterrupt):
            raise
        raise LoadError("import", f"importing it raised {type(error).__name__}: {error}", _user_frame(error)) from None
    obj: Any = module
    for part in name.split("."):
        if not hasattr(obj, part):
            raise LoadError("import", f"{module_part} has no attribute {part!r}")
        obj = getattr(obj, part)
    return obj


def _import_file(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    # Walk up through packages so relative imports inside the file work.
    package_parts: List[str] = []
    folder = path.parent
    while (folder / "__init__.py").is_file():
        package_parts.insert(0, folder.name)
        folder = folder.parent
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    if str(path.parent) not in sys.path:
        sys.path.insert(1, str(path.parent))
    dotted = ".".join(package_parts + [path.stem]) if path.stem != "__init__" else ".".join(package_parts)
    if notebook.is_notebook(path.name):
        return _import_notebook(path, dotted)
    if package_parts:
        return importlib.import_module(dotted)
    spec = importlib.util.spec_from_file_location(dotted, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[dotted] = module
    spec.loader.exec_module(module)
    return module


def _import_notebook(path: Path, name: str) -> Any:
    """A notebook's definitions as a module. Its code objects are named after the notebook and count the
    lines of its program, so findings map back to cells like the static pass's."""
    module = types.ModuleType(name)
    module.__file__ = str(path)
    code = compile(notebook.definitions(notebook.program(path.read_bytes())), str(path), "exec")
    sys.modules[name] = module
    exec(code, module.__dict__)  # noqa: S102 - running user code is what the graph pass does
    return module


def build(obj: Any, kwargs: dict, device: str = "meta") -> Tuple[nn.Module, Optional[tuple]]:
    """(model on `device`: meta by default, so no weights; example inputs from a factory or None). Where each layer
    was constructed is recorded (`graph.construction.built_at`)."""
    from nnlint.graph import construction

    with construction.recording():
        return _build(obj, kwargs, device)


def _build(obj: Any, kwargs: dict, device: str) -> Tuple[nn.Module, Optional[tuple]]:
    is_class = inspect.isclass(obj)
    if is_class and not issubclass(obj, nn.Module):
        raise LoadError("build", f"{obj.__name__} is a class but not an nn.Module")
    if not is_class and not callable(obj):
        raise LoadError("build", "the target is neither an nn.Module class nor a factory function")
    try:
        with torch.device("meta") if device == "meta" else contextlib.nullcontext():
            made = obj(**kwargs)
    except SystemExit as error:
        raise LoadError("build", f"building it called sys.exit({error.code!r})", _user_frame(error)) from None
    except Exception as error:
        if device != "meta":
            raise LoadError("build", f"{type(error).__name__}: {error}", _user_frame(error)) from None
        # Some models compute sizes with real tensors in __init__ (torchvision's RegNet calls `.tolist()`):
        # build on the CPU but put each parameter on meta as it is registered, as accelerate's
        # init_empty_weights does, so no weight is allocated or initialised; failing that, build for real.
        made = _build_with_empty_weights(obj, kwargs)
    example = None
    if isinstance(made, tuple) and len(made) == 2 and isinstance(made[0], nn.Module):
        made, example = made
        example = example if isinstance(example, tuple) else (example,)
    if not isinstance(made, nn.Module):
        raise LoadError("build", f"the factory returned {type(made).__name__}, not an nn.Module")
    made = made.to(device)
    return made, example


def _build_with_empty_weights(obj: Any, kwargs: dict) -> Any:
    try:
        with _parameters_on_meta():
            return obj(**kwargs)
    except SystemExit as error:
        raise LoadError("build", f"building it called sys.exit({error.code!r})", _user_frame(error)) from None
    except Exception:
        pass  # __init__ reads its own weights' values: only a real build will do
    try:
        return obj(**kwargs)
    except SystemExit as error:
        raise LoadError("build", f"building it called sys.exit({error.code!r})", _user_frame(error)) from None
    except Exception as error:
        raise LoadError("build", f"{type(error).__name__}: {error}", _user_frame(error)) from None


@contextlib.contextmanager
def _parameters_on_meta():
    """Every parameter registered inside the block moves to meta at once (before any init touches it)."""
    original = nn.Module.register_parameter

    def register(module: nn.Module, name: str, param: Optional[nn.Parameter]) -> None:
        original(module, name, param)
        if (
            param is not None
            and param.device.type != "meta"
            and not isinstance(param, nn.parameter.UninitializedTensorMixin)  # type: ignore[attr-defined]
        ):
            moved = nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)
            moved.__dict__.update(param.__dict__)
            module._parameters[name] = moved

    nn.Module.register_parameter = register  # type: ignore[method-assign]
    try:
        yield
    finally:
        nn.Module.register_parameter = original  # type: ignore[method-assign]


def _user_frame(error: BaseException) -> Optional[Tuple[str, int, int]]:
    """The innermost traceback frame outside torch and nnlint: where the user's code failed."""
    found = None
    tb = error.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if is_user_file(filename):
            found = (filename, tb.tb_lineno, 1)
        tb = tb.tb_next
    return found


_TORCH_DIR = str(Path(torch.__file__).resolve().parent)
_NNLINT_DIR = str(Path(__file__).resolve().parent.parent)


@functools.lru_cache(maxsize=4096)
def is_user_file(filename: str) -> bool:
    """Whether a source file belongs to the user (not torch, nnlint or the import machinery)."""
    if filename.startswith("<"):
        return False
    resolved = str(Path(filename).resolve())
    return not (resolved.startswith(_TORCH_DIR) or resolved.startswith(_NNLINT_DIR) or "/importlib/" in resolved)
