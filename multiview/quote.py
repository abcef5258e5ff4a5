"""Helpers for the measured blocks of README.md and paper_notes.md (`tables`): figures' CSVs read
once, 'mean +- std' cells over repeats, markdown tables and wrapped prose."""
from __future__ import annotations

import json
import textwrap
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .claim import per_repeat


@lru_cache(maxsize=None)
def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


def results(figures: Path, folder: str, name: str = "results") -> pd.DataFrame:
    return _csv(Path(figures) / folder / f"{name}.csv")


def config(figures: Path, folder: str) -> dict:
    """A figure's config.json (the resolved config and the sim's own constants)."""
    return json.loads((Path(figures) / folder / "config.json").read_text())


def pm(df: pd.DataFrame, col: str = "accuracy", **where) -> str:
    """'mean +- std' over repeats of the rows matching `where`."""
    r = per_repeat(df, col, **where)
    return f"{r.mean():.3f} +- {(r.std(ddof=1) if len(r) > 1 else 0.0):.3f}"


def md(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table, the repository's way: '|---|' under the header."""
    out = "| " + " | ".join(header) + " |\n" + "|" + "---|" * len(header) + "\n"
    return out + "".join("| " + " | ".join(map(str, row)) + " |\n" for row in rows)


def prose(text: str) -> str:
    """A paragraph wrapped at 100 columns, as the hand-written ones are."""
    return textwrap.fill(text, 100, break_long_words=False, break_on_hyphens=False) + "\n"


def by_generation(df: pd.DataFrame, col: str, **where) -> pd.Series:
    """Born-again chains: mean over repeats of the per-repeat mean of col, per generation."""
    for k, v in where.items():
        df = df[df[k] == v]
    return df.groupby(["generation", "repeat"])[col].mean().groupby("generation").mean()


def fmt(x: float, spec: str = ".3f") -> str:
    """A number, or '-' where there is none (NaN)."""
    return "-" if pd.isna(x) else format(x, spec)


