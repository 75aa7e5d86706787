"""Packed texts and the index of identifiers that answers a large run's cross-file questions (issue 13)."""

from __future__ import annotations

from nnlint.static.packed_text import TEXT_TYPES, PackedText, class_names, text_of
from nnlint.static.parse import parse_for_index
from nnlint.static.project import ProjectIndex, mentions_all
from nnlint.static.word_index import WordIndex, required_tokens
from nnlint.types import Finding, Location, Severity


def test_a_packed_text_gives_back_the_same_text():
    for text in ["", "x = 1\n", "s = 'caf\u00e9 \u2014 \u4e2d\u6587 \U0001f600'\n", "bad = '\udc80'\n"]:
        packed = PackedText(text)
        assert packed.text() == text
        assert len(packed) == len(text)
        assert text_of(packed) == text and text_of(text) == text


def test_class_names_are_scanned_once_when_packed():
    text = "class Net(nn.Module):\n    pass\n\n\nclass Head:\n    pass\n"
    assert class_names(PackedText(text)) == class_names(text) == {"Net", "Head"}


def test_class_names_are_the_words_after_class_at_the_start_of_a_line():
    import re

    text = (
        "class A:\n  class B(nn.Module):\n\tclass\tC(object): pass\nsubclass D\nnum_classes = 3\nclassify(E)\n"
        "x = 1; class F: pass\nclass\nG = 2\n    class    H  :\n# class I\nclass J\r\nclass K"
    )
    assert class_names(text) == {"A", "B", "C", "H", "J", "K"}
    assert class_names(text) == frozenset(re.findall(r"^[ \t]*class[ \t]+(\w+)", text, re.MULTILINE))


def test_a_finding_is_not_a_text():
    finding = Finding("NN002", "unreadable-file", "x", Severity.ERROR, "static", Location("a.py", 1, 1))
    assert text_of(finding) is None and not isinstance(finding, TEXT_TYPES)
    assert isinstance("x", TEXT_TYPES) and isinstance(PackedText("x"), TEXT_TYPES)


def test_required_tokens_are_what_every_match_must_contain_whole():
    assert required_tokens(["train("]) == ["train"]
    assert required_tokens([".step(", "Trainer("]) == ["step", "Trainer"]
    assert required_tokens(["init", "def train"]) == []  # may be part of a longer identifier
    assert required_tokens(["2d("]) == []


def test_the_index_finds_whole_identifiers_only():
    sources = [
        ("a.py", "def train(model):\n    pass\n"),
        ("b.py", "train(model)\n"),
        ("c.py", "pretrain(model)\ntrainer = 1\n"),
        ("d.py", PackedText("x = train\n")),
        ("e.py", Finding("NN002", "unreadable-file", "x", Severity.ERROR, "static", Location("e.py", 1, 1))),
    ]
    index = WordIndex(sources)
    assert index.having(["train"]) == {"a.py", "b.py", "d.py"}
    assert index.having(["train", "model"]) == {"a.py", "b.py"}
    assert index.having(["absent"]) == set()
    assert index.having([]) is None
    assert index.knows("e.py") and not index.knows("f.py")


def test_the_index_never_leaves_out_a_file_the_words_match():
    """Every file mentions_all accepts is among those the index gives for the words' required identifiers."""
    texts = {
        "a.py": "x = train(1)\n",
        "b.py": "x=pretrain(1)\n",
        "c.py": "obj.train(1)\n",
        "d.py": "\u00e9train(1)\n",
        "e.py": "(train(1))\n",
        "f.py": "train (1)\n",
    }
    index = WordIndex(list(texts.items()))
    for words in (("train(",), (".train(",), ("train(", "x")):
        matching = {display for display, text in texts.items() if mentions_all(text, words)}
        candidates = index.having(required_tokens(words))
        assert candidates is not None and matching <= candidates, words


def test_a_project_with_an_index_answers_as_one_without():
    files = {
        "pkg/train.py": "from pkg.loop import fit\n\nfit(Net(), 3)\n",
        "pkg/loop.py": "def fit(model, epochs):\n    return model\n",
        "pkg/other.py": "def fitness():\n    return fit_line(1)\n",
    }
    plain = ProjectIndex(parse_for_index)
    packed = ProjectIndex(parse_for_index, WordIndex([(d, PackedText(t)) for d, t in files.items()]))
    for display, text in files.items():
        plain.add_deferred(display, text)
        packed.add_deferred(display, PackedText(text))
    for words in (("fit(",), ("def fit",), ("Net(", "fit(")):
        assert plain._mentioning(words) == packed._mentioning(words), words
    assert packed._mentioning(("def fit",), ("fit",)) == {"pkg/loop.py"}


def test_a_changed_text_drops_the_index():
    project = ProjectIndex(parse_for_index, WordIndex([("a.py", "train(1)\n")]))
    project.add_deferred("a.py", "train(1)\n")
    project.add_deferred("b.py", "train(2)\n")  # not in the index: it can no longer answer alone
    assert project._mentioning(("train(",)) == {"a.py", "b.py"}


def test_a_large_read_is_packed_from_the_first_file(tmp_path, monkeypatch):
    from nnlint.static import reading

    paths = []
    for name in "abc":
        (tmp_path / f"{name}.py").write_text(f"x_{name} = 1\n" * 10, encoding="utf-8")
        paths.append((tmp_path / f"{name}.py", f"{name}.py"))
    assert all(isinstance(text, str) for _, text in reading.read_all(paths))
    monkeypatch.setattr(reading, "PACK_ABOVE_BYTES", 150)  # passed at the second file
    packed = reading.read_all(paths)
    assert all(isinstance(text, PackedText) for _, text in packed)
    assert [text_of(text) for _, text in packed] == [text for _, text in reading.read_all(paths, {})]  # `texts`: plain
