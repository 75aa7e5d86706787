"""ProjectIndex.release (issue 13): a released file goes back to text and is parsed again when asked about. That
releasing every tree changes no finding is checked on fixtures/ in test_determinism.py."""

from __future__ import annotations

from nnlint.static.parse import parse_for_index
from nnlint.static.project import ProjectIndex

NET = "import torch.nn as nn\n\nclass Net(nn.Module):\n    def forward(self, x):\n        return x.softmax(1)\n"


def test_released_files_are_parsed_again_when_asked_about():
    project = ProjectIndex(parse_for_index)
    project.add_deferred("net.py", NET)
    assert [semantics.path for semantics, _ in project.definitions("Net")] == ["net.py"]
    assert project.release(0) == 1
    assert project.release(0) == 0  # nothing parsed any more
    assert [semantics.path for semantics, _ in project.definitions("Net")] == ["net.py"]  # parsed again


def test_a_released_file_is_not_kept_alive_by_a_remembered_answer():
    """What a class's forward returns points into its file's tree: remembering it across a release kept every
    released tree alive (a run over transformers grew to 1.4 GB with a 4 MB budget)."""
    import gc
    import weakref

    project = ProjectIndex(parse_for_index)
    project.add_deferred("net.py", NET)
    assert project.forward_origin("Net") is not None
    semantics = weakref.ref(project.definitions("Net")[0][0])
    assert project.release(0) == 1
    gc.collect()
    assert semantics() is None
    assert project.forward_origin("Net") is not None  # asked again: parsed again
