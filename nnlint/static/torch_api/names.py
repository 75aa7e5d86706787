"""How torch names are spelled: common prefixes, normal form, short display, rule needles. No torch import."""

from __future__ import annotations

import re
from typing import Iterable, Tuple

# The prefix of torch.nn names: layers, `Parameter`, and the `functional`, `init` and `utils` modules.
NN = "torch.nn."
# The prefix of torch.nn.functional names (users write `F.`).
FUNCTIONAL = "torch.nn.functional."

_SUBMODULE = re.compile(r"^torch\.nn\.modules\.[a-z_]+\.")


def normalize(qualified_name: str) -> str:
    """Map import spellings onto one name: `torch.nn.modules.loss.X` -> `torch.nn.X`."""
    return _SUBMODULE.sub(NN, qualified_name)


def short(qualified_name: str) -> str:
    """How users usually write a torch name: `nn.Softmax`, `F.softmax`, `torch.sigmoid`."""
    if qualified_name.startswith(FUNCTIONAL):
        return "F." + qualified_name[len(FUNCTIONAL) :]
    if qualified_name.startswith(NN):
        return "nn." + qualified_name[len(NN) :]
    return qualified_name


def needles(*tables: Iterable[str]) -> Tuple[str, ...]:
    """Words a file must contain to call any listed API: each name's last segment, less those holding a shorter one.

    Any spelling of a qualified name (`nn.X`, `from torch.nn import X as Y`) writes its last segment somewhere
    in the file, so a rule whose needles these are can skip every file that contains none of them.
    """
    words = {name.rstrip(".").rsplit(".", 1)[-1] for table in tables for name in table}
    return tuple(sorted(word for word in words if not any(other != word and other in word for other in words)))
