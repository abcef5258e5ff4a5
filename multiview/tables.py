"""The measured tables README.md and paper_notes.md quote, regenerated from the figures' CSVs.

    python -m multiview.tables            # rewrite every marked block of README.md and paper_notes.md
    python -m multiview.tables --check    # exit 1 naming each block that differs from the CSVs

A block is the text between `<!-- measured: NAME ... -->` and `<!-- end measured -->`; NAME is a
function here (`BLOCKS`), so a number in prose is written by code from the figures, never by hand.
Accuracies: mean over the models of a repeat, then mean +- std over repeats (`claim.per_repeat`).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from . import tables_notes, tables_readme
from .cli import OneLineParser

ROOT = Path(__file__).resolve().parent.parent
FILES = ("README.md", "paper_notes.md")
BLOCK = re.compile(r"(<!-- measured: (?P<name>[\w-]+)[^>]*-->\n)(?P<body>.*?)(<!-- end measured -->)", re.S)
BLOCKS = {**tables_readme.BLOCKS, **tables_notes.BLOCKS}  # name -> function(figures folder) -> text


def render(text: str, figures: Path) -> tuple[str, list[str]]:
    """Every marked block of `text` regenerated; also the names of the blocks that changed."""
    changed = []

    def fill(m: re.Match) -> str:
        name = m["name"]
        if name not in BLOCKS:
            raise KeyError(f"unknown measured block {name!r}; known: {', '.join(BLOCKS)}")
        body = BLOCKS[name](figures)
        if body != m["body"]:
            changed.append(name)
        return m.group(1) + body + m.group(4)

    return BLOCK.sub(fill, text), changed


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m multiview.tables", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a block differs")
    parser.add_argument("--figures", default=str(ROOT / "figures"), help="the figures' folder")
    args = parser.parse_args(argv)
    stale = []
    for name in FILES:
        path = ROOT / name
        text, changed = render(path.read_text(), Path(args.figures))
        stale += [f"{name}: {c}" for c in changed]
        if changed and not args.check:
            path.write_text(text)
    for s in stale:
        print(("differs from the figures' CSVs: " if args.check else "regenerated: ") + s)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
