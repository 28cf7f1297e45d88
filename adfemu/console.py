"""Terminal lines of the `adfemu` command that are not run progress: wrapped at spaces only (never inside a
word, so paths and URLs stay whole), to the terminal's width or 80 columns."""
from __future__ import annotations

import sys
import textwrap

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # jsonschema comes with it: not before Azurite is spawned
    from adfemu.schemas.entities import Finding

from .progress import _width


def say(line: str, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(textwrap.fill(line, _width(stream), subsequent_indent="    ", break_long_words=False,
                               break_on_hyphens=False) + "\n")
    stream.flush()


def warnings(findings: list[Finding], shown: int = 5) -> None:
    if not findings:
        return
    say(f"{len(findings)} validation warning(s) (adfemu validate lists them all):")
    for f in findings[:shown]:
        say(f"  {f.source}: {f.pointer}: {f.message}")
