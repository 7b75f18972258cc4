"""The fenced code blocks of a Markdown file, for the tests that run the examples of the README and the docs."""

from __future__ import annotations

import re


def python_blocks(text: str) -> list[str]:
    """The bodies of the ```python blocks, in order."""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def fence_languages(text: str) -> list[str]:
    """The language of every fenced block (``""`` for none), in order."""
    return re.findall(r"^```(\S*)\n(?:.*?)^```", text, flags=re.S | re.M)
