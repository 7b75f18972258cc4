"""Hostile model files: code injections into every text of a model that reaches generated source.

Each injection, if it ran, would create the file ``marker``; the tests check that it never appears.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from sd_helpers import SIR, XMILE


def _payload(marker: Path) -> str:
    return f'str(__import__("os").system("touch {marker}"))'


def _name_payload(marker: Path) -> str:
    """The call with single quotes only, as it can stand inside a double-quoted Vensim name."""
    return f"str(__import__('os').system('touch {marker}'))"


def _chr_payload(marker: Path) -> str:
    """The same call spelled without quotes, for texts that cannot hold a quote."""
    def spell(text: str) -> str:
        return "+".join(f"chr({ord(c)})" for c in text)
    return f"__import__({spell('os')}).system({spell('touch ' + str(marker))})"


def _sir() -> str:
    return SIR.read_text(encoding="utf-8")


def comment(marker: Path) -> str:
    """The report's case: a comment that closes PySD's docstring."""
    return _sir().replace("How long are you infectious for?", f'x""" + {_payload(marker)} + """')


def comment_backslash(marker: Path) -> str:
    """A comment ending in a backslash continuation and quotes (PySD turns backslashes into newlines)."""
    return _sir().replace("How long are you infectious for?", f'x\\\\\n\t"""\n{_payload(marker)}\n"""')


def unit(marker: Path) -> str:
    return _sir().replace("~\tDays\n", f"~\tDays\"\"\" + {_payload(marker)} + \"\"\"'\n")


def variable_name(marker: Path) -> str:
    name = f'"Dur\') + {_name_payload(marker)} + (\'ation"'
    return _sir().replace("Duration=", f"{name}=").replace("Infectious/Duration", f"Infectious/{name}")


def variable_name_docstring(marker: Path) -> str:
    name = f'"Dur\'\'\'{_name_payload(marker)}\'\'\'ation"'
    return _sir().replace("Duration=", f"{name}=").replace("Infectious/Duration", f"Infectious/{name}")


def subscript_name(marker: Path) -> str:
    element = f'"b\') + {_name_payload(marker)} + (\'"'
    return _sir().replace("Total Population=", f"Group: a, {element}\n\t~\t\n\t~\t\n\t|\n\n"
                          f"Share[Group]= 0.5, 0.5\n\t~\tDmnl\n\t~\t\n\t|\n\nTotal Population=")


def subscript_range_name(marker: Path) -> str:
    name = f'"G\') + {_name_payload(marker)} + (\'"'
    return _sir().replace("Total Population=", f"{name}: a, b\n\t~\t\n\t~\t\n\t|\n\n"
                          f"Share[{name}]= 0.5, 0.5\n\t~\tDmnl\n\t~\t\n\t|\n\nTotal Population=")


def lookup(marker: Path) -> str:
    """A lookup whose name and comment carry the call."""
    name = f'"Effect\') + {_name_payload(marker)} + (\'"'
    return _sir().replace("Total Population=", f"{name}(\n\t[(0,0)-(10,10)],(0,0),(10,10))\n\t~\tDmnl\n"
                          f"\t~\t\"\"\" + {_payload(marker)} + \"\"\"\n\t|\n\nTotal Population=")


def lookup_comment(marker: Path) -> str:
    return _sir().replace("Total Population=", "Effect Table(\n\t[(0,0)-(10,10)],(0,0),(10,10))\n\t~\tDmnl\n"
                          f"\t~\tx\"\"\" + {_payload(marker)} + \"\"\"\n\t|\n\nTotal Population=")


def macro_name(marker: Path) -> str:
    macro = (f':MACRO: "EVIL\') + {_name_payload(marker)} + (\'"(input)\n'
             f'"EVIL\') + {_name_payload(marker)} + (\'" = input\n\t~\tinput\n\t~\t\n\t|\n\n:END OF MACRO:\n')
    return "{UTF-8}\n" + macro + _sir().split("\n", 1)[1]


def macro_comment(marker: Path) -> str:
    macro = (":MACRO: DOUBLE(input)\nDOUBLE = 2 * input\n\t~\tinput\n"
             f'\t~\tx""" + {_payload(marker)} + """\n\t|\n\n:END OF MACRO:\n')
    text = "{UTF-8}\n" + macro + _sir().split("\n", 1)[1]
    return text.replace("Infectious/Duration", "Infectious/DOUBLE(Duration)*2")


def get_reference(marker: Path) -> str:
    """A GET DIRECT CONSTANTS whose file name ends in a backslash, escaping the raw string's quote."""
    call = f"GET DIRECT CONSTANTS('data\\\\', ', {_chr_payload(marker)}, ', 'B2')"
    return _sir().replace("Duration=\n\t5", f"Duration=\n\t{call}")


def get_reference_tab(marker: Path) -> str:
    call = f"GET XLS DATA('data.xlsx', 'tab\\\\', ', {_chr_payload(marker)}, ', 'B2')"
    return _sir().replace("Total Population=", f"Series:=\n\t{call}\n\t~\tDmnl\n\t~\t\n\t|\n\nTotal Population=")


VENSIM_CASES = {f.__name__: f for f in (comment, comment_backslash, unit, variable_name, variable_name_docstring,
                                        subscript_name, subscript_range_name, lookup, lookup_comment, macro_name,
                                        macro_comment, get_reference, get_reference_tab)}


def _xmile_aux(name: str, doc: str, units: str) -> str:
    return (f"<aux name={quoteattr(name)}><doc>{escape(doc)}</doc><eqn>1</eqn>"
            f"<units>{escape(units)}</units></aux>\n<aux name=")


def xmile_doc(marker: Path) -> str:
    text = XMILE.read_text(encoding="utf-8")
    return text.replace("<aux name=", _xmile_aux("Evil", f'x""" + {_payload(marker)} + """',
                                                 f'u""" + {_payload(marker)} + """'), 1)


def xmile_name(marker: Path) -> str:
    text = XMILE.read_text(encoding="utf-8")
    return text.replace("<aux name=", _xmile_aux(f"E') + {_payload(marker)} + ('", "", "Dmnl"), 1)


XMILE_CASES = {f.__name__: f for f in (xmile_doc, xmile_name)}
