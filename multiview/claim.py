"""A claim: one number measured from a sim's tidy tables, and the bounds a prediction puts on it.

`predictions.CLAIMS` holds the theory's claims per sim; `claims.check` evaluates them on a folder.
The helpers here are the measurements claims share: repeat means, kept gain, paired z-scores, trends.
Accuracies are averaged over the models of a repeat, then over repeats (as `report.over_repeats`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import pandas as pd

Tables = dict[str, pd.DataFrame]  # a sim's CSVs by stem: "results", "views", ...
OPS = {">=": float.__ge__, ">": float.__gt__, "<=": float.__le__, "<": float.__lt__}


NOT_RUN = "not run: "  # how a NotTested note starts when the tables lack the rows (that part was not run)


class NotTested(Exception):
    """The tables lack what a claim measures (that part was not run); the text says what."""


@dataclass(frozen=True)
class Bound:
    """One condition on a measured value: `op` against a number, or against a number the tables
    give (`value` a function of them, `label` saying what it is)."""
    op: str
    value: float | Callable[[Tables], float]
    label: str = ""

    def __post_init__(self):
        if self.op not in OPS:
            raise ValueError(f"Bound.op={self.op!r} is not allowed: must be one of {', '.join(OPS)}")

    def limit(self, tables: Tables) -> float:
        return float(self.value(tables) if callable(self.value) else self.value)

    def text(self, tables: Tables) -> str:
        return f"{self.op} {self.limit(tables):.3g}" + (f" ({self.label})" if self.label else "")


@dataclass(frozen=True)
class Claim:
    """A prediction: `measure(tables) -> float`, which must satisfy every bound in `needs`.
    `repeats`: the fewest repeats the measurement means anything with (a spread needs 2)."""
    name: str
    statement: str
    measure: Callable[[Tables], float]
    needs: tuple[Bound, ...]
    repeats: int = 1

    def __post_init__(self):
        if not self.needs:
            raise ValueError(f"claim {self.name!r} needs at least one bound")
        if self.repeats < 1:
            raise ValueError(f"claim {self.name!r}: repeats={self.repeats} must be >= 1")


def at_least(x, label=""):
    return (Bound(">=", x, label),)


def at_most(x, label=""):
    return (Bound("<=", x, label),)


# measurements shared by the claims -------------------------------------------------------------------
def per_repeat(df: pd.DataFrame, col: str = "accuracy", **where) -> pd.Series:
    """Mean of `col` over the rows matching `where` (models of a repeat), indexed by repeat."""
    sel = df
    for key, value in where.items():
        if key not in sel:
            raise NotTested(f"{NOT_RUN}no column {key!r}")
        sel = sel[sel[key] == value]
    if sel.empty:
        raise NotTested(NOT_RUN + "no rows for " + ", ".join(f"{k}={v}" for k, v in where.items()))
    return sel.groupby("repeat")[col].mean()


def mean(df: pd.DataFrame, col: str = "accuracy", **where) -> float:
    return float(per_repeat(df, col, **where).mean())


def kept(single: float, ensemble: float, student: float) -> float:
    """The fraction of the ensemble's gain over single that the student keeps."""
    if ensemble <= single:
        raise NotTested(f"the ensemble does not gain ({ensemble:.3f} vs single {single:.3f})")
    return (student - single) / (ensemble - single)


def z_score(a: pd.Series, b: pd.Series) -> float:
    """mean(a - b) / its standard error, paired by repeat: how many errors apart two methods are."""
    d = (a - b).dropna()
    if len(d) < 2:
        raise NotTested(f"a standard error needs 2 repeats in common, got {len(d)}")
    se = d.std(ddof=1) / math.sqrt(len(d))
    if se == 0:
        return 0.0 if d.mean() == 0 else math.copysign(math.inf, d.mean())
    return float(d.mean() / se)


def steps(values: pd.Series) -> pd.Series:
    """Consecutive differences of a series sorted by its index (e.g. KD vs a knob's value)."""
    if len(values) < 2:
        raise NotTested("a trend needs 2 or more values")
    return values.sort_index().diff().dropna()

