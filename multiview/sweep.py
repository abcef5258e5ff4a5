"""Sweeps: a grid over any config keys x repeats; each point is one repeat of the headline
(`experiment.headline_repeat`) under its overrides.

Points run in parallel through joblib. The backend is a flag: 'loky' (local processes) or 'dask'
(a Dask distributed cluster at a scheduler address; same code, joblib's dask backend). Each point's
tables are stored in `store` the moment it finishes, so an interrupted sweep resumes without
recomputing them. The summary says, per grid point, which of the theory's claims hold there.
"""
from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import torch
from joblib import Parallel, delayed, parallel_config
from tqdm.auto import tqdm

from . import plots
from .cache import Store, code_version, unit_key
from .claims import check_points
from .config import ConfigError, override, to_dict
from .experiment import compute_unit, headline_repeat
from .io import write_csv

BACKENDS = ("loky", "dask")


def parse_grid(items: list[str]) -> dict[str, list[str]]:
    """['data.mu=0.05,0.1', 'data.k=5,10'] -> {'data.mu': ['0.05', '0.1'], 'data.k': ['5', '10']}."""
    grid = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not values or "" in values.split(","):
            raise ConfigError(f"--grid {item!r} is malformed: write KEY=V1,V2,..., e.g. data.mu=0.05,0.1")
        if key in grid:
            raise ConfigError(f"--grid key {key!r} is given twice: list all its values in one --grid")
        grid[key] = values.split(",")
    return grid


def grid_points(grid: dict[str, list[str]]) -> list[dict[str, str]]:
    return [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]


def sweep(cfg, grid: dict[str, list[str]], store: Store, n_jobs: int = 2, backend: str = "loky",
          scheduler: str | None = None, quiet: bool = False, device: str = "cpu") -> pd.DataFrame:
    """Run every (grid point, repeat) not yet in `store`; return the tidy results of all of them,
    with one column per grid key (as given on the command line)."""
    if backend not in BACKENDS:
        raise ConfigError(f"--backend={backend!r} is not allowed: must be one of {', '.join(BACKENDS)}")
    if backend == "dask" and not scheduler:
        raise ConfigError("--backend=dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)")
    code = code_version()
    jobs = []  # (point, repeat, cfg, key); every override is validated before any work starts
    for point in grid_points(grid):
        pcfg = override(cfg, [f"{k}={v}" for k, v in point.items()])
        conf = to_dict(pcfg)
        conf.pop("repeats")
        for r in range(cfg.repeats):
            jobs.append((point, r, pcfg, unit_key("sweep", conf, repeat=r, device=device, code=code)))
    done = store.keys() if not store.force else set()
    todo = [j for j in jobs if j[3] not in done]
    if todo:
        threads = max(1, torch.get_num_threads() // n_jobs) if backend == "loky" else 1
        tasks = (delayed(compute_unit)(headline_repeat, pcfg, r, device, threads, key) for _, r, pcfg, key in todo)
        bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), desc="sweep points", disable=quiet)
        client = _dask_client(scheduler) if backend == "dask" else None
        try:
            with parallel_config(backend=backend, n_jobs=n_jobs if backend == "loky" else -1):
                for key, tables in Parallel(return_as="generator_unordered")(tasks):
                    store.save(key, tables)
                    bar.update()
        finally:
            bar.close()
            if client is not None:
                client.close()
    store.hits, store.misses = len(jobs) - len(todo), len(todo)
    frames = []
    for point, r, _, key in jobs:
        tables = store.load(key)
        if tables is None:  # stored moments ago but unreadable now: recompute in place
            tables = headline_repeat(override(cfg, [f"{k}={v}" for k, v in point.items()]), r, device, True)
            store.save(key, tables)
        frames.append(tables["results"].assign(**point))
    return pd.concat(frames, ignore_index=True)


def _dask_client(address: str):
    from dask.distributed import Client
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError) as err:
        raise ConfigError(f"--scheduler={address!r} is not reachable: {err}") from None


def summarise(results: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean and std over repeats of the per-repeat mean accuracy, per grid point, family, method, split."""
    by = [*keys, "family", "data", "method", "split"]
    per_repeat = results.groupby([*by, "repeat"], sort=False).accuracy.mean()
    return per_repeat.groupby(by, sort=False).agg(["mean", "std", "count"]).reset_index()


def claims_per_point(verdicts: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per grid point (claims.check_points' output): claims held, failed, and the failing ones' names
    ('' when none), so a sweep says where a prediction breaks."""
    rows = []
    for point, v in verdicts.groupby(keys, sort=False):
        values = point if isinstance(point, tuple) else (point,)
        rows.append({**dict(zip(keys, values)), "claims_held": int((v.holds == True).sum()),  # noqa: E712
                     "claims_failed": int((v.holds == False).sum()),  # noqa: E712
                     "failing": "; ".join(v.claim[v.holds == False])})  # noqa: E712
    return pd.DataFrame(rows)


def failing_by_value(points: pd.DataFrame, key: str) -> dict:
    """key's value -> the claims failing at some grid point with that value (for the figure's marks)."""
    fails = points[points.claims_failed > 0]
    return {value: sorted({c for f in g.failing for c in f.split("; ")}) for value, g in fails.groupby(key)}


def summary_outputs(out: Path, keys: list[str]) -> pd.DataFrame:
    """From a sweep's results.csv as written: summary.csv (the summary with each point's claims) and
    accuracy_vs_KEY.{png,pdf} per key, marking the values where a claim fails. Returns the summary."""
    results = pd.read_csv(Path(out) / "results.csv")  # as written: the claims see what a re-check sees
    points = claims_per_point(check_points(results, keys), keys)
    table = summarise(results, keys).merge(points, on=keys, how="left")
    write_csv(table, Path(out) / "summary.csv")
    for key in keys:
        others = [k for k in keys if k != key]
        t = table if not others else table.groupby([key, "family", "data", "method", "split"],
                                                   as_index=False)[["mean", "std"]].mean()
        plots.metric_vs_knob(t, key, Path(out) / f"accuracy_vs_{key.replace('.', '_')}",
                             xlabel=key + (f" (mean over {', '.join(others)})" if others else ""),
                             failing=failing_by_value(points, key))
    return table
