"""Which of the theory's claims hold in a sim's output folder: `python -m multiview.claims OUT_DIR`.

One verdict line per claim (holds / FAILS / n/a, measured, needed). Exit status 0 when every claim
that could be tested holds, 1 when any fails, 2 when a folder cannot be read (one line on stderr).
`--write` also (re)writes the folder's claims.csv. Every sim calls `report(out)` after its table:
the same lines, and claims.csv beside results.csv. A sweep's folder is checked grid point by point.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd

from . import predictions, predictions_literature, predictions_mechanism
from .cli import OneLineParser
from .claim import NOT_RUN, OPS, Claim, NotTested, Tables
from .io import write_csv

CLAIMS = {**predictions.CLAIMS, **predictions_literature.CLAIMS, **predictions_mechanism.CLAIMS}  # sim -> its claims
COLUMNS = ["claim", "measured", "needed", "holds", "note", "statement"]


class Unreadable(Exception):
    """A folder that is not a sim's output: no results.csv, unparseable tables, unknown sim."""


def verdict(claim: Claim, tables: Tables, n_repeats: int) -> dict:
    """One claim on one set of tables: measured, needed (text), holds (True / False / None: not tested)."""
    row = {"claim": claim.name, "measured": math.nan, "needed": _needed(claim, tables), "holds": None,
           "note": "", "statement": claim.statement}
    if n_repeats < claim.repeats:
        return row | {"note": f"needs {claim.repeats} repeats, ran {n_repeats}"}
    try:
        value = float(claim.measure(tables))
        limits = [(b.op, b.limit(tables)) for b in claim.needs]
    except NotTested as err:
        return row | {"note": str(err) if str(err).startswith(NOT_RUN) else f"not tested: {err}"}
    except (KeyError, AttributeError) as err:  # a table or column this claim reads is absent
        return row | {"note": f"not tested: the tables lack {err}"}
    if math.isnan(value):
        return row | {"note": "not tested: the measurement is not a number"}
    return row | {"measured": value, "holds": bool(all(OPS[op](value, float(lim)) for op, lim in limits))}


def _needed(claim: Claim, tables: Tables) -> str:
    parts = []
    for b in claim.needs:
        try:
            parts.append(b.text(tables))
        except (NotTested, KeyError, AttributeError):
            parts.append(f"{b.op} {b.label}")
    return " and ".join(parts)


def check(claims: tuple[Claim, ...], tables: Tables) -> pd.DataFrame:
    """Every claim on the tables of one run: DataFrame[claim, measured, needed, holds, note, statement]."""
    n = int(tables["results"]["repeat"].nunique()) if "repeat" in tables["results"] else 1
    return pd.DataFrame([verdict(c, tables, n) for c in claims], columns=COLUMNS).astype({"holds": object})


def check_points(results: pd.DataFrame, keys: list[str], claims: tuple[Claim, ...] = CLAIMS["sweep"]) -> pd.DataFrame:
    """A sweep: the claims at every grid point (its rows of results), one column per grid key first."""
    frames = []
    for point, rows in results.groupby(keys, sort=False):
        values = point if isinstance(point, tuple) else (point,)
        frames.append(check(claims, {"results": rows}).assign(**dict(zip(keys, values))))
    return pd.concat(frames, ignore_index=True)[[*keys, *COLUMNS]]


def lines(verdicts: pd.DataFrame, keys: list[str] = ()) -> list[str]:
    """One line per claim, e.g. 'FAILS nn kd keeps the gain: 0.520 (needs >= 0.7)', and a summary."""
    out, not_run = [], {}
    for _, v in verdicts.iterrows():
        where = "".join(f"{k}={v[k]} " for k in keys)
        if v.note.startswith(NOT_RUN):  # a part the run left out: one line for all of them
            not_run.setdefault(where, []).append(v.claim)
            continue
        word = {True: "holds", False: "FAILS"}.get(v.holds, "n/a  ")
        value = v.note if pd.isna(v.measured) else f"{v.measured:.3f}"
        out.append(f"{word} {where}{v.claim}: {value} (needs {v.needed})")
    out += [f"not run {where}({len(names)}): {', '.join(names)}" for where, names in not_run.items()]
    return out + [summary(verdicts)]


def show(sim: str, tables: Tables) -> pd.DataFrame:
    """Print the verdicts of a sim's claims on tables made in memory (a notebook's run); return them."""
    table = check(CLAIMS[sim], tables)
    print("\n".join(lines(table)))
    return table


def summary(verdicts: pd.DataFrame) -> str:
    holds = verdicts.holds
    n_ok, n_fail = int((holds == True).sum()), int((holds == False).sum())  # noqa: E712 (None is neither)
    not_run = int(verdicts.note.str.startswith(NOT_RUN).sum())
    untested = len(verdicts) - n_ok - n_fail - not_run
    return (f"{n_ok} of {len(verdicts)} claims hold, {n_fail} fail" + (f", {untested} not tested" if untested else "")
            + (f", {not_run} not run" if not_run else ""))


def failed(verdicts: pd.DataFrame) -> bool:
    return bool((verdicts.holds == False).any())  # noqa: E712


def load(folder: Path) -> tuple[str, Tables, dict]:
    """A sim's output folder -> (sim name, tables by CSV stem, config.json); Unreadable if it is not one."""
    folder = Path(folder)
    if not folder.is_dir():
        raise Unreadable(f"{folder} is not a folder")
    if not (folder / "results.csv").is_file():
        raise Unreadable(f"{folder} has no results.csv: not a sim's output folder")
    try:
        config = json.loads((folder / "config.json").read_text()) if (folder / "config.json").exists() else {}
        tables = {p.stem: pd.read_csv(p) for p in sorted(folder.glob("*.csv")) if p.stem != "claims"}
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise Unreadable(f"{folder}: cannot read its tables ({type(err).__name__}: {err})".splitlines()[0]) from None
    sim = config.get("sim") or identify(tables, config)
    if sim not in CLAIMS:
        raise Unreadable(f"{folder}: no claims for the sim that wrote it ({sim or 'not recognised'}); "
                         f"known: {', '.join(CLAIMS)}")
    return sim, tables, config


def identify(tables: Tables, config: dict) -> str | None:
    """Which sim wrote a folder that predates the 'sim' field of config.json: from its tables."""
    res = tables["results"]
    cols = set(res.columns)
    methods = set(res["method"].unique()) if "method" in cols else set()
    rules = [
        ("sweep", "grid" in config or "summary" in tables),
        ("views_per_seed", "phi_history" in tables),
        ("calibration", "ece" in cols),
        ("ensemble_size", "n_members" in cols),
        ("label_refinery", "label_refinery" in methods),
        ("self_distillation", "generation" in cols),
        ("teacher_ensembles", "n_teachers" in cols),
        ("online_kd", "mutual" in methods),
        ("hints", "hints" in methods),
        ("capacity_gap", "kd_direct" in methods),
        ("view_dropout", "knob" in cols and set(res["knob"].dropna()) == {"train.view_dropout"}),
        ("dark_knowledge", "knob" in cols),
        ("kd_regime", "variant" in cols),
        ("baseline_width", "width" in cols),
        ("real_digits", "data" in cols and "digits" in set(res["data"])),
        ("ensemble_vs_ntk", {"family", "data", "method", "split", "accuracy"} <= cols),
    ]
    return next((sim for sim, match in rules if match), None)


def folder_verdicts(folder: Path) -> tuple[str, list[str], pd.DataFrame]:
    """A folder's sim, its grid keys (a sweep's; else none) and the verdicts of its claims."""
    sim, tables, config = load(folder)
    keys = list(config.get("grid", {})) if sim == "sweep" else []
    if sim == "sweep" and not keys and "summary" in tables:
        keys = [c for c in tables["summary"].columns if "." in c]
    if sim == "sweep" and (not keys or not all(k in tables["results"] for k in keys)):
        raise Unreadable(f"{folder}: a sweep's results.csv lacks its grid columns {keys}")
    return sim, keys, check_points(tables["results"], keys) if keys else check(CLAIMS[sim], tables)


def report(folder: Path, write: bool = True) -> pd.DataFrame:
    """Print the verdicts of a folder's claims and (write) put them in its claims.csv. Sims call this
    after writing their tables, so a later re-check of the folder prints exactly what the sim did."""
    sim, keys, table = folder_verdicts(folder)
    print(f"claims of the theory ({sim}, {folder}):\n" + "\n".join(lines(table, keys)))
    if write:
        write_csv(table, Path(folder) / "claims.csv")
    return table


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m multiview.claims", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", metavar="OUT_DIR", help="a sim's output folder")
    parser.add_argument("--write", action="store_true", help="also write each folder's claims.csv")
    args = parser.parse_args(argv)
    status = 0
    for folder in args.folders:
        try:
            status = max(status, int(failed(report(Path(folder), args.write))))
        except Unreadable as err:
            print(f"error: {err}", file=sys.stderr)
            status = 2
    return status


if __name__ == "__main__":
    sys.exit(main())
