"""Translation of one model file with PySD, run as a script in a child process.

``python -P _translate.py <model file> <address-space limit in bytes>``; it imports PySD only.

The parent (:mod:`cluster_econ.sd._cache`) starts this module with a time limit, so a file that
makes PySD's parser run away is stopped, and with a limit on the child's address space, so it cannot
take the machine's memory. The child parses the file, makes every text of the model that PySD
embeds into Python source harmless (see :func:`sanitise`), builds the Python model next to the
file, and prints its outcome as one JSON line on stdout: ``{"ok": true}``, or the failure with the
line and construct where PySD's parser stopped.
"""

from __future__ import annotations

import json
import re
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["UnsafeName", "locate", "sanitise"]

#: Characters a name may not contain where PySD pastes it into a quoted Python string as it is.
_BAD_NAME = re.compile(r"['\"\\\x00-\x1f\x7f]")
#: Characters no name may contain (PySD writes most names with repr(), which quotes everything else).
_BAD_ANY_NAME = re.compile(r"[\x00-\x1f\x7f]")
#: Fields of PySD's GET ... structures written into '...' / r'...' literals without escaping.
_RAW_FIELDS = ("file", "tab", "x_row_or_col", "time_row_or_col", "cell")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


#: Prefix of the line of stdout that carries the outcome.
OUTCOME = "CLUSTER_ECON_TRANSLATION_OUTCOME "


class UnsafeName(ValueError):
    """A model name that PySD would paste unquoted into Python source."""


def _clean_text(text: Any) -> Any:
    """A documentation or unit text that cannot end a Python string literal PySD wraps it in."""
    if not isinstance(text, str):
        return text
    text = _CONTROL.sub(" ", text)
    while '"""' in text:  # PySD wraps comments in triple double quotes, verbatim
        text = text.replace('"""', "'''")
    return text


def _check_name(name: Any, what: str, *, verbatim: bool = False) -> None:
    """Refuse a name with control characters, or, if PySD writes it ``verbatim`` into quotes, with quotes."""
    if not isinstance(name, str):
        return
    inner = name[1:-1] if len(name) >= 2 and name[0] == name[-1] == '"' else name  # a quoted Vensim name
    match = (_BAD_NAME if verbatim else _BAD_ANY_NAME).search(inner)
    if match:
        bad = match.group()
        raise UnsafeName(f"the {what} {name!r} contains {bad!r}; names with quotes, backslashes or control "
                         f"characters are not accepted: rename it in the model")


def _parts(node: Any) -> Iterator[tuple[str | None, Any]]:
    """The children of a node of PySD's syntax tree, each with its field name (``None`` in containers)."""
    if isinstance(node, list | tuple | set):
        return ((None, item) for item in node)
    if isinstance(node, dict):
        return ((None, part) for pair in node.items() for part in pair)
    fields = getattr(node, "__dict__", None)
    return iter(fields.items()) if isinstance(fields, dict) else iter(())


def _check_raw_text(field: str, value: str, owner: str) -> None:
    """Refuse a text PySD writes into a quoted literal unescaped when it could end the literal."""
    bad = _BAD_NAME.search(value.replace("\\", "/") if field == "file" else value)
    if bad or value.endswith("\\"):
        raise UnsafeName(f"the text {value!r} ({field} in the equation of {owner!r}) contains "
                         f"{(bad.group() if bad else chr(92))!r}; quotes, control characters and "
                         f"backslashes (except inside a file path, and never at its end) are not accepted "
                         f"there: edit the equation")


def _check_strings(node: Any, owner: str, depth: int) -> None:
    """Refuse texts in an equation's syntax tree that could end the quoted strings PySD pastes them into.

    Strings of a Vensim equation (``GET XLS`` file, sheet and cell names, ...) are written into
    ``'...'`` or ``r'...'`` literals as they are: a quote, a trailing backslash (which escapes the
    closing quote) or a backslash outside a file name would let the text after it run as code.
    """
    if depth > 200 or isinstance(node, str):
        return
    for field, value in _parts(node):
        if not isinstance(value, str):
            _check_strings(value, owner, depth + 1)
        elif field is not None and field in _RAW_FIELDS:
            _check_raw_text(field, value, owner)


def sanitise(abstract: Any) -> None:
    """Make the texts of a PySD ``AbstractModel`` safe to embed in Python source, in place.

    Documentation and units lose control characters and triple double quotes (PySD writes comments
    verbatim into docstrings); element, subscript and macro names with quotes, backslashes or
    control characters are refused (PySD writes some names into quoted strings as they are).

    Raises
    ------
    UnsafeName
        For a name that cannot be embedded safely.
    """
    for section in abstract.sections:
        _check_name(section.name, "macro name", verbatim=True)
        for argument in (*getattr(section, "params", ()), *getattr(section, "returns", ())):
            _check_name(argument, "macro argument", verbatim=True)
        for subscript in section.subscripts:
            _check_name(subscript.name, "subscript range", verbatim=True)
            values = subscript.subscripts if isinstance(subscript.subscripts, list | tuple) else ()
            for element in values:
                _check_name(element, f"element of the subscript range {subscript.name!r}")
        for element in section.elements:
            data = any(type(c).__name__ == "AbstractData" for c in element.components)
            _check_name(element.name, "name of the data variable" if data else "variable name", verbatim=data)
            element.documentation = _clean_text(element.documentation)
            element.units = _clean_text(element.units)
            for component in element.components:
                _check_strings(getattr(component, "ast", None), element.name, 0)
                for group in component.subscripts:
                    for sub in group if isinstance(group, list | tuple) else ():
                        for item in sub if isinstance(sub, list | tuple) else [sub]:
                            _check_name(item, f"subscript used by {element.name!r}")


def _original_line(original: str, cleaned: str, offset: int) -> int:
    """Line in ``original`` of the character at ``offset`` of PySD's whitespace-collapsed text."""
    count = sum(1 for ch in cleaned[:offset] if not ch.isspace())
    seen = 0
    i = 0
    while i < len(original):
        ch = original[i]
        if ch == "\\" and original[i + 1:i + 3] == "\n\t":  # a line continuation, dropped by PySD
            i += 1
            continue
        if not ch.isspace():
            if seen == count:
                break
            seen += 1
        i += 1
    return original.count("\n", 0, i) + 1


def locate(err: BaseException, original: str | None) -> tuple[int | None, str | None]:
    """The line (of ``original``) and the construct where PySD stopped, as far as they can be told."""
    construct = line = None
    for frame, _ in traceback.walk_tb(err.__traceback__):
        owner = frame.f_locals.get("self")
        equation = getattr(owner, "equation", None)
        name = getattr(owner, "name", None)
        if isinstance(equation, str) and equation.strip():
            construct = f"the equation {equation.strip()[:80]!r}"
        elif isinstance(name, str) and name != "__main__" and type(owner).__module__.startswith("pysd"):
            construct = f"the definition of {name!r}"
    text = getattr(err, "text", None)
    pos = getattr(err, "pos", None)
    parser_error = type(err).__module__.startswith("parsimonious")
    if parser_error and isinstance(text, str) and isinstance(pos, int) and original is not None:
        cleaned = re.sub(r"[\n\t\s]+", " ", re.sub(r"\\\n\t", " ", original.split("\\\\\\---///", 1)[0]))
        start = cleaned.find(text) if len(text) < len(cleaned) else 0
        if start >= 0:
            line = _original_line(original, cleaned, start + pos)
        rule = getattr(getattr(err, "expr", None), "name", "")
        near = text[pos:pos + 40].strip()
        what = f"rule {rule!r} " if rule else ""
        construct = f"{construct + ', ' if construct else ''}{what}at {near!r}" if near else construct
    lineno = getattr(err, "lineno", None)  # lxml's XMLSyntaxError
    if line is None and isinstance(lineno, int) and lineno > 0:
        line = lineno
    return line, construct


def _read_text(source: Path) -> str | None:
    if source.suffix.lower() != ".mdl":
        return None
    from pysd.translators.vensim import vensim_utils

    try:
        encoding = vensim_utils._detect_encoding_from_file(source)
        return source.read_text(encoding=encoding, errors="ignore").replace("\r\n", "\n")
    except (OSError, LookupError, TypeError, ValueError):
        return None


class Incomplete(ValueError):
    """A file that parses but is not a whole model (no simulation control variables)."""


class BrokenXml(ValueError):
    """XML that is not well-formed (PySD's parser would silently recover from it)."""

    def __init__(self, message: str, lineno: int) -> None:
        super().__init__(message)
        self.lineno = lineno


def _strict_xml(source: Path) -> None:
    """Refuse XMILE that is not well-formed XML: PySD's parser recovers from broken XML silently.

    Undeclared namespace prefixes (``isee:`` in files exported by xmutil) are tolerated, as PySD does.
    """
    from lxml import etree

    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, load_dtd=False)
    tree = etree.parse(str(source), parser=parser)
    errors = [e for e in parser.error_log
              if e.domain != etree.ErrorDomains.NAMESPACE and e.level >= etree.ErrorLevels.ERROR]
    if errors:
        raise BrokenXml(f"not well-formed XML: {errors[0].message}", errors[0].line)
    if tree.getroot() is None:
        raise BrokenXml("no XML element at all", 1)


def _check_complete(abstract: Any) -> None:
    names = {" ".join(str(e.name).replace("_", " ").lower().split()) for e in abstract.sections[0].elements}
    missing = [n.upper() for n in ("initial time", "final time", "time step") if n not in names]
    if missing:
        raise Incomplete(f"it defines no {', '.join(missing)}: the file is cut short (truncated?) or is not a "
                         f"complete model; every model needs INITIAL TIME, FINAL TIME and TIME STEP")


def translate(source: Path) -> None:
    """Parse ``source``, sanitise its abstract model and build the Python model next to it."""
    import warnings

    with warnings.catch_warnings():  # PySD's own warnings (and chardet's on import) are not the file's fault
        warnings.simplefilter("ignore")
        from pysd.builders.python.python_model_builder import ModelBuilder

        if source.suffix.lower() == ".mdl":
            from pysd.translators.vensim.vensim_file import VensimFile

            parsed: Any = VensimFile(source)
        else:
            from pysd.translators.xmile.xmile_file import XmileFile

            _strict_xml(source)
            parsed = XmileFile(source)
        parsed.parse()
        abstract = parsed.get_abstract_model()
        _check_complete(abstract)
        sanitise(abstract)
        ModelBuilder(abstract).build_model()


def main(argv: list[str]) -> int:
    source = Path(argv[1])
    limit = int(argv[2]) if len(argv) > 2 else 0
    if limit > 0:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    outcome: dict[str, Any]
    try:
        translate(source)
        outcome = {"ok": True}
    except MemoryError:
        outcome = {"ok": False, "kind": "memory", "message": "translation ran out of memory"}
    except (UnsafeName, Incomplete) as err:
        outcome = {"ok": False, "kind": "unsafe", "message": str(err)}
    except OSError as err:  # writing the translation failed (no space, ...): a cache problem, not the file's
        outcome = {"ok": False, "kind": "os", "errno": err.errno or 0, "message": err.strerror or str(err)}
    except Exception as err:  # PySD, parsimonious and lxml raise many kinds; the parent names them all
        line, construct = locate(err, _read_text(source))
        outcome = {"ok": False, "kind": "parse", "type": type(err).__name__, "message": str(err)[:500],
                   "line": line, "construct": construct}
    # on stdout, not in a file: the outcome must arrive even when the disk is full
    sys.stdout.write("\n" + OUTCOME + json.dumps(outcome) + "\n")
    sys.stdout.flush()
    return 0 if outcome["ok"] else 3


if __name__ == "__main__":  # pragma: no cover - run by the parent as a child process
    sys.exit(main(sys.argv))
