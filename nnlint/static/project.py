"""What the files checked together know of each other: user classes and what their `forward` returns."""

from __future__ import annotations

from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Pattern,
    Sequence,
    Tuple,
)

import libcst as cst

from nnlint.static.call_summary import CallSummary, summarize_calls
from nnlint.static.fastwalk import walk
from nnlint.static.function_sources import function_sources
from nnlint.static.packed_text import PackedText, Text, class_names, unpacked
from nnlint.static.value_types import Origin as _Origin
from nnlint.static.word_index import WordIndex, required_tokens

if TYPE_CHECKING:
    from nnlint.static.semantics import FileSemantics, Origin

_PENDING = object()
# A class name defined in more files than this (`M`, `Model` across a test suite) is not looked up: which one is
# meant cannot be told, and parsing them all to find out took one worker past 3 GB on torch's tests.
MAX_DEFINING_FILES = 16
MENTIONS_KEPT = 256  # answers of files_mentioning remembered (least recently asked forgotten first)

Parser = Callable[[str, str, "ProjectIndex"], Optional["FileSemantics"]]
Summaries = Mapping[str, Mapping[str, Optional[List[str]]]]  # display path -> class name -> forward_summary


class ProjectIndex:
    """Classes across all files of one run, so a model defined in one file is understood in another.

    Files no rule needed to visit are kept as text ("deferred") and parsed only if another file's
    analysis asks about a class they define, so skipping work never changes what is found. A large run's texts
    are packed (packed_text.py) and come with a WordIndex of the run's sources: questions about identifiers then
    unpack only the files that contain them. Where the class summaries of files are `known` (analysed in an earlier
    round of workers, or cached entries that hold), "does that file define X" and "X returns nothing known" are
    answered from them without parsing the file.
    """

    def __init__(
        self, parser: Optional[Parser] = None, words: Optional[WordIndex] = None, known: Optional[Summaries] = None
    ) -> None:
        self._files: List["FileSemantics"] = []
        self._parsed_bytes = 0  # source size of the parsed files: release() has nothing to do below its budget
        self._last_use: Dict[int, int] = {}  # id(semantics) -> when a question last needed it (release keeps those)
        self._clock = 0
        self._class_names: set = set()
        self._defining: Dict[str, set] = {}  # class name -> display paths whose text defines it (class_names)
        self._forward: Dict[str, object] = {}
        # display path -> what its classes' forward returns (class_summaries), known without parsing the file: from
        # files analysed in an earlier round of workers, or from cache entries that still hold
        self._known: Summaries = known or {}
        self._parser = parser
        self._deferred: Dict[str, Tuple[Text, frozenset]] = {}  # display path -> (text, class names), in order
        self._texts: Dict[str, Text] = {}  # display path -> text, of every file registered
        self._words = words  # dropped when a text it was built from changes
        # (words, tokens) -> the display paths whose text has them all
        self._mentions: Dict[Tuple[Tuple[str, ...], Tuple[str, ...]], frozenset] = {}
        self._summaries: Dict[str, Tuple[Text, Optional[CallSummary]]] = {}  # display path -> (text, its calls)
        self._functions: Dict[Tuple[str, str], Tuple[Text, List[str]]] = {}  # function_sources' memo, by text
        # What the file being analysed asked about other files: the cache reuses its findings only
        # while every answer is still the same.
        self.dependencies: Optional[List[Tuple[str, str, Any]]] = None

    def add(self, semantics: "FileSemantics") -> None:
        """Register one parsed file."""
        self._files.append(semantics)
        self._touch([semantics])
        if semantics.text is not None:
            self._parsed_bytes += len(semantics.text)
            self._register_text(semantics.path, semantics.text)
        self._class_names.update(semantics.classes)
        self._note_definitions(semantics.path, semantics.classes if semantics.text is None else None)

    def add_deferred(self, display: str, text: Text, names: Optional[frozenset] = None) -> None:
        """Register a file that was not parsed; its class names are found with a cheap scan (unless given)."""
        if self._parser is not None:  # files without classes too: files_mentioning may want them (init functions)
            names = class_names(text) if names is None else names
            self._deferred[display] = (text, names)
            self._register_text(display, text)
            self._class_names.update(names)
            self._note_definitions(display, names)

    def add_unparsed(self, files: Iterable[Tuple[str, Text]], parser: Parser) -> None:
        """Register (display path, text) files to be parsed when asked about, with `parser` unless it has one."""
        self._parser = self._parser or parser
        for display, text in files:
            self.add_deferred(display, text)

    def _note_definitions(self, display: str, names: Optional[Iterable[str]]) -> None:
        """Count the file among those defining its classes, by the same scan of its text the cache uses."""
        for name in class_names(self._texts[display]) if names is None else names:
            self._defining.setdefault(name, set()).add(display)

    def too_common(self, name: str) -> bool:
        """Whether more files than MAX_DEFINING_FILES define a class of this name (it is then not looked up)."""
        return len(self._defining.get(name, ())) > MAX_DEFINING_FILES

    def files_where(self, wanted: Callable[[str], bool]) -> List["FileSemantics"]:
        """The parsed files, after parsing the deferred ones whose text `wanted` accepts; by path, so the answer
        does not depend on which files happen to be parsed already."""
        self._parse_deferred(lambda display, text, names: wanted(unpacked(text)))
        return sorted(self._files, key=lambda f: f.path)

    def _touch(self, files: Iterable["FileSemantics"]) -> None:
        self._clock += 1
        for semantics in files:
            self._last_use[id(semantics)] = self._clock

    def close(self) -> None:
        """Let go of every parsed file, their caches first: those point back at files (and each file at this index),
        so the trees would otherwise wait for a cyclic collection, which traverses the whole heap (a tenth of a
        run's time). For an index that is done with."""
        for semantics in self._files:
            semantics.forget()
        self._files = []
        self._forward = {}
        self._last_use = {}
        self._parsed_bytes = 0

    def take_parsed(self, display: str) -> Optional["FileSemantics"]:
        """The file's parsed form when another file's question parsed it already; else None, and the file is no
        longer deferred (the caller parses it)."""
        if self._deferred.pop(display, None) is not None:
            return None  # still text: nobody asked about it yet
        return next((semantics for semantics in self._files if semantics.path == display), None)

    def release(self, keep_bytes: int) -> int:
        """When the parsed files' sources add up to more than `keep_bytes`, turn the least recently needed ones back
        into text (parsed again if asked about) until they fit in three quarters of it: a run's memory is then
        bounded by the files in use, not by the number of files. Returns how many were released."""
        if self._parser is None:
            return 0  # nothing could parse them again
        if self._parsed_bytes <= keep_bytes:
            return 0
        kept, total = set(), 0
        for semantics in sorted(self._files, key=lambda f: self._last_use.get(id(f), 0), reverse=True):
            size = len(semantics.text) if semantics.text is not None else 0
            if total + size > keep_bytes * 3 // 4:
                break
            kept.add(id(semantics))
            total += size
        released = [f for f in self._files if id(f) not in kept and f.text is not None]
        self._files = [f for f in self._files if id(f) in kept or f.text is None]
        gone = {id(f) for f in released}
        # a remembered forward answer points into its file's tree: forgotten with the file, asked again if needed
        self._forward = {
            name: origin
            for name, origin in self._forward.items()
            if not (isinstance(origin, _Origin) and id(origin.semantics) in gone)
        }
        for semantics in released:
            assert semantics.text is not None
            semantics.forget()
            self._last_use.pop(id(semantics), None)
            self._parsed_bytes -= len(semantics.text)
            self.add_deferred(semantics.path, self._texts.get(semantics.path, semantics.text))
        return len(released)

    def files_mentioning(
        self, *words: str, path: Optional[Callable[[str], bool]] = None, tokens: Tuple[str, ...] = ()
    ) -> List["FileSemantics"]:
        """The files whose text contains every word (see mentions_all) and whose path `path` accepts, by path. The
        answer depends on the words anywhere in any file, not on class names, so the cache checks it against every
        file's current text. `tokens`: identifiers the caller will need whole in a file to use it (with a
        WordIndex, the other files are left out unread)."""
        self._depend("texts", "\x00".join(words), None)  # the engine fills in the answer (it sees every file)
        wanted = path or (lambda display: True)  # a cheap test of the path first: parsing is what costs
        mentioning = self._mentioning(words, tokens)
        self._parse_deferred(lambda display, text, names: display in mentioning and wanted(display))
        # files without a text (added by hand) cannot be ruled out
        chosen = (f for f in self._files if wanted(f.path) and (f.text is None or f.path in mentioning))
        found = sorted(chosen, key=lambda f: f.path)
        self._touch(found)
        return found

    def files_calling(
        self,
        words: Tuple[str, ...],
        name: str,
        accept: Callable[[Optional[str]], bool],
        *,
        constructing: Optional[str] = None,
        limit: Optional[int] = None,
        exclude: Optional[str] = None,
    ) -> Optional[List["FileSemantics"]]:
        """The files (other than `exclude`) with a call written `name(...)`/`x.name(...)` whose qualified name
        `accept` may take (and, with `constructing`, a call of that class too), parsed, by path; None when such
        calls number more than `limit`. Files whose text lacks the `words` are not looked at; the others are read
        with Python's own parser first (call_summary.py), so a file is parsed only when it really calls `name`,
        and nothing is parsed for a helper called from everywhere. The cache depends on the `words`, as in
        files_mentioning."""
        self._depend("texts", "\x00".join(words), None)
        counts: Dict[str, int] = {}
        for display in sorted(self._mentioning(words)):
            if display == exclude:
                continue
            summary = self._call_summary(display)
            if summary is None:  # Python's parser cannot read it: only libcst can tell
                counts[display] = 1
            elif constructing is None or summary.calls(constructing):
                found = summary.count(name, accept)
                if found:
                    counts[display] = found
        if limit is not None and sum(counts.values()) > limit:
            return None
        self._parse_deferred(lambda display, text, names: display in counts)
        chosen = (f for f in self._files if f.path in counts or (f.text is None and f.path != exclude))
        found_files = sorted(chosen, key=lambda f: f.path)  # files without a text (added by hand): cannot be ruled out
        self._touch(found_files)
        return found_files

    def function_sources(
        self, words: Tuple[str, ...], name: Pattern[str], exclude: str, tokens: Tuple[str, ...] = ()
    ) -> List[str]:
        """The source of every function whose name `name` finds (not `__init__`), in the files other than `exclude`
        whose text has every word, read with Python's parser (function_sources.py): nothing is parsed with libcst.
        The cache depends on the `words`, and `tokens` narrow the files, as in files_mentioning."""
        self._depend("texts", "\x00".join(words), None)
        found: List[str] = []
        for display in sorted(self._mentioning(words, tokens)):
            if display != exclude:
                key = (display, name.pattern)
                known = self._functions.get(key)
                if known is None or known[0] is not self._texts[display]:
                    text = self._texts[display]
                    known = self._functions[key] = (text, function_sources(unpacked(text), name) or [])
                found += known[1]
        return found

    def _call_summary(self, display: str) -> Optional[CallSummary]:
        text = self._texts[display]
        known = self._summaries.get(display)
        if known is None or known[0] is not text:
            known = self._summaries[display] = (text, summarize_calls(unpacked(text), display))
        return known[1]

    def _register_text(self, display: str, text: Text) -> None:
        known = self._texts.get(display)
        if known is text or isinstance(known, PackedText):
            return  # a packed text belongs to one run over files on disk: parsing it gives back the same text
        self._texts[display] = text
        self._mentions.clear()  # a new text: earlier answers may miss it
        if self._words is not None and (known is not None or not self._words.knows(display)):
            self._words = None  # the index was not built from this text

    def _mentioning(self, words: Tuple[str, ...], tokens: Tuple[str, ...] = ()) -> frozenset:
        """The display paths whose text contains every word (of those with the `tokens`, when a WordIndex can
        tell). Value flow asks the same names from many files: scanning every text each time was a third of the
        static pass on large projects."""
        key = (words, tokens)
        found = self._mentions.pop(key, None)
        if found is None:
            found = frozenset(display for display, text in self._candidates(words, tokens) if mentions_all(text, words))
            if len(self._mentions) >= MENTIONS_KEPT:  # each answer may name most of the files of a large run
                del self._mentions[next(iter(self._mentions))]
        self._mentions[key] = found  # most recently asked last
        return found

    def _candidates(self, words: Tuple[str, ...], tokens: Tuple[str, ...]) -> Iterator[Tuple[str, str]]:
        """(display path, text) of every file that may contain the words: with a WordIndex, only the files that
        have the identifiers the words (or the caller) require; unpacked one at a time."""
        having = self._words.having([*tokens, *required_tokens(words)]) if self._words is not None else None
        for display in self._texts if having is None else sorted(d for d in having if d in self._texts):
            yield display, unpacked(self._texts[display])

    @property
    def files(self) -> List["FileSemantics"]:
        """The parsed files, in the order they were checked."""
        return list(self._files)

    def has_class(self, name: str) -> bool:
        """Whether some checked file defines a class of this name."""
        found = name in self._class_names
        self._depend("has", name, found)
        return found

    def definitions(self, name: str) -> List[Tuple["FileSemantics", cst.ClassDef]]:
        """Every checked file's class of this name (files not parsed yet are parsed now); none when too common."""
        if self.too_common(name):
            self._depend("defined", name, [])
            return []
        self._parse_deferred(lambda display, text, names: name in names)
        defining = sorted((f for f in self._files if name in f.classes), key=lambda f: f.path)
        found = [(f, f.classes[name]) for f in defining]
        self._touch(f for f, _ in found)
        self._depend("defined", name, sorted(f.path for f, _ in found))
        return found

    def defined_once(self, name: str, where: str) -> bool:
        """Whether the class `name` of the file `where` is the only class of that name in the run. Told without
        parsing when the scan of class names (which finds every definition, and maybe more) finds it in no other
        file, or only in files whose summaries are known (their keys are the classes the file really defines);
        otherwise as definitions() tells it. Recorded for the cache as definitions() records it."""
        others = self._defining.get(name, set()) - {where}
        if not self.too_common(name) and all(other in self._known for other in others):
            paths = sorted([where, *(other for other in others if name in self._known[other])])
            self._depend("defined", name, paths)
            return paths == [where]
        return len(self.definitions(name)) == 1

    def defined_in(self, name: str, imported: str) -> bool:
        """Whether a class of this name is defined in a file of the module `imported` (`pkg.models.Net`) names:
        only the files at such a path are parsed (a model file's `nn.Linear` need not parse the project's own
        `Linear`). The cache checks the answer against the files at those paths only."""
        from nnlint.static.calls import module_matches

        # a file whose summary is known need not be parsed: its keys are the classes it defines
        self._parse_deferred(
            lambda display, text, names: (
                name in names and module_matches(imported, display) and display not in self._known
            )
        )
        found = any(name in f.classes and module_matches(imported, f.path) for f in self._files) or any(
            name in self._known[display]
            for display in self._defining.get(name, ())
            if display in self._known and module_matches(imported, display)
        )
        self._depend("defined_in", name + "\x00" + imported, found)
        return found

    def _depend(self, kind: str, name: str, answer: Any) -> None:
        if self.dependencies is not None:
            self.dependencies.append((kind, name, answer))

    def _parse_deferred(self, wanted: Callable[[str, Text, frozenset], bool]) -> None:
        chosen = [display for display, (text, names) in self._deferred.items() if wanted(display, text, names)]
        for display in chosen:
            text, _ = self._deferred.pop(display)
            semantics = self._parser(display, unpacked(text), self)  # type: ignore[misc]
            if semantics is not None:
                self.add(semantics)

    def forward_origin(self, class_name: str) -> Optional["Origin"]:
        """What every class of this name returns from `forward`, when they all agree; else None."""
        result = self._forward_origin(class_name)
        self._depend("forward", class_name, forward_summary(result))
        return result

    def _forward_origin(self, class_name: str) -> Optional["Origin"]:
        cached = self._forward.get(class_name)
        if cached is _PENDING:
            return None  # recursion through the same class: unknown
        if class_name in self._forward:
            return cached  # type: ignore[return-value]
        if self.too_common(class_name) or self._known_unknown(class_name):
            self._forward[class_name] = None
            return None
        self._forward[class_name] = _PENDING
        self._parse_deferred(lambda display, text, names: class_name in names)
        origins = []
        for semantics in sorted(self._files, key=lambda f: f.path):  # by path: the same answer in any run order
            klass = semantics.classes.get(class_name)
            if klass is not None:
                origins.append(_forward_returns(semantics, klass))
                self._touch([semantics])
        kinds = {origin.kind if origin else None for origin in origins}
        result = origins[0] if len(kinds) == 1 and origins and origins[0] is not None else None
        self._forward[class_name] = result
        return result

    def _known_unknown(self, class_name: str) -> bool:
        """Whether a file defining the class is known, by its summary, to return nothing known from its `forward`:
        then all of them cannot agree on a kind, and the answer is None without parsing any (a hub file of layers
        was parsed again by every worker of every round that asked about one of its classes)."""
        return any(
            class_name in known and known[class_name] is None
            for display in self._defining.get(class_name, ())
            for known in [self._known.get(display, {})]
        )


def mentions_all(text: str, words: Sequence[str]) -> bool:
    """Whether the text has every word. A word that ends with `(` is a call and counts only where no letter,
    digit or underscore comes before it: `Block(` is not in `BasicBlock(...)` (a file that builds its own
    `BasicBlock` does not call `Block`, and editing it must not redo the files that asked who builds a `Block`)."""
    for word in words:
        at = text.find(word)
        if at < 0:
            return False
        if word.endswith("(") and (word[:1].isalnum() or word[:1] == "_"):
            while at > 0 and (text[at - 1].isalnum() or text[at - 1] == "_"):
                at = text.find(word, at + 1)
                if at < 0:
                    return False
    return True


def forward_summary(origin: Optional["Origin"]) -> Optional[List[str]]:
    """What a forward-origin answer means for findings elsewhere: its kind and file (JSON-friendly)."""
    return None if origin is None else [origin.kind.value, origin.path]


def class_summaries(semantics: "FileSemantics") -> Dict[str, Optional[List[str]]]:
    """Per class of a file, what its own `forward` returns (for validating cached results of other files)."""
    return {name: forward_summary(_forward_returns(semantics, klass)) for name, klass in semantics.classes.items()}


def _forward_returns(semantics: "FileSemantics", klass: cst.ClassDef) -> Optional["Origin"]:
    forward = method(klass, "forward")
    if forward is None:
        return None
    found = [semantics.origin(value) if value is not None else None for value in return_values(forward)]
    origins = [origin for origin in found if origin is not None]
    if not origins or len(origins) != len(found):
        return None
    if len({origin.kind for origin in origins}) != 1:
        return None
    return origins[-1]


def method(klass: cst.ClassDef, name: str) -> Optional[cst.FunctionDef]:
    """The method of a class with this name, if it defines one."""
    return next((s for s in klass.body.body if isinstance(s, cst.FunctionDef) and s.name.value == name), None)


def return_values(function: cst.FunctionDef) -> List[Optional[cst.BaseExpression]]:
    """Values returned by one function, not by functions nested in it."""
    finder = _ReturnFinder()
    walk(function.body, finder)
    return finder.values


class _ReturnFinder(cst.CSTVisitor):
    """Return values of one function, not of functions nested in it."""

    def __init__(self) -> None:
        super().__init__()
        self.values: List[Optional[cst.BaseExpression]] = []

    def visit_Return(self, node: cst.Return) -> None:
        self.values.append(node.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False
