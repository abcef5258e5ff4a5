"""One runner for every unit of work: a repeat of a sim, a part of a repeat (the headline's (data
set, family) pairs), a sweep point's repeat. A unit is (config, repeat) run by a unit function
unit(cfg, repeat, device, quiet) -> {table name: DataFrame}.

Every unit has one cache key (the sim's name, the resolved config without `repeats`, the repeat, the
device type, and the source of the package and of the script defining the unit) and one integrity
check: its stored entry is loaded and checksummed (cache.Store.load), never just found. So raising R
reuses the repeats already computed, a killed run resumes at the first unfinished unit, and a
corrupt entry is recomputed. Missing units run here in order (one job), on `jobs` local worker
processes (joblib's loky backend), or on a Dask cluster (joblib's dask backend); each is stored the
moment it finishes, also when a later one fails.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pandas as pd
import torch
from tqdm.auto import tqdm

from .cache import Store, Tables, code_version, script_file, unit_key
from .config import ConfigError, to_dict

BACKENDS = ("loky", "dask")
Unit = Callable  # (cfg, repeat, device, quiet) -> Tables


@dataclass
class Runner:
    """Where units run and are kept. jobs: local worker processes (loky); with backend='dask' the
    cluster at `scheduler` decides (jobs is not used)."""
    store: Store = field(default_factory=lambda: Store(None))
    jobs: int = 1
    backend: str = "loky"
    scheduler: str | None = None
    device: str = "cpu"
    quiet: bool = True

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ConfigError(f"--backend={self.backend!r} is not allowed: must be one of {', '.join(BACKENDS)}")
        if self.backend == "dask" and not self.scheduler:
            raise ConfigError("--backend=dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)")

    def units(self, name: str, unit: Unit, units: list[tuple[object, int]]) -> list[Tables]:
        """Each (cfg, repeat)'s tables, in the order given; stored ones loaded, the rest computed."""
        code = code_version(*filter(None, [script_file(unit)]))
        keys = []
        for cfg, r in units:
            conf = to_dict(cfg)
            conf.pop("repeats", None)
            keys.append(unit_key(name, conf, repeat=r, device=torch.device(self.device).type, code=code))
        done = {key: self.store.load(key) for key in keys}
        todo = [(key, cfg, r) for key, (cfg, r) in zip(keys, units) if done[key] is None]
        todo = list({key: (key, cfg, r) for key, cfg, r in todo}.values())  # equal units run once
        self.store.hits += len(keys) - len(todo)
        self.store.misses += len(todo)
        bar = tqdm(total=len(keys), initial=len(keys) - len(todo), desc=name, disable=self.quiet, leave=False)
        try:
            for key, tables in self._compute(unit, todo):
                self.store.save(key, tables)
                done[key] = tables
                bar.update()
        finally:  # also when a unit fails: every unit finished so far is stored
            bar.close()
        return [done[key] for key in keys]

    def repeats(self, name: str, unit: Unit, cfg, parts: list | None = None, repeats=None) -> Tables:
        """The tables of cfg.repeats repeats (or `repeats`), concatenated by repeat, then part.

        parts: configs whose tables, concatenated, make one repeat, largest first (they are
        scheduled part by part, so the largest start first); default [cfg]."""
        rs = list(range(cfg.repeats) if repeats is None else repeats)
        parts = parts or [cfg]
        units = [(part, r) for part in parts for r in rs]
        got = self.units(name, unit, units)
        order = sorted(range(len(units)), key=lambda i: (units[i][1], i))  # by repeat, then part
        return concat([got[i] for i in order])

    def _compute(self, unit: Unit, todo: list):
        """(key, tables) of each unit as it finishes."""
        jobs = min(self.jobs, len(todo))
        if self.backend == "loky" and jobs <= 1:
            for key, cfg, r in todo:
                yield key, unit(cfg, r, self.device, self.quiet)
            return
        if not todo:
            return
        from joblib import Parallel, delayed, parallel_config
        threads = max(1, torch.get_num_threads() // jobs) if self.backend == "loky" else 1
        tasks = (delayed(compute_unit)(unit, cfg, r, self.device, threads, key) for key, cfg, r in todo)
        client = _dask_client(self.scheduler) if self.backend == "dask" else None
        try:
            with parallel_config(backend=self.backend, n_jobs=jobs if self.backend == "loky" else -1):
                yield from Parallel(return_as="generator_unordered")(tasks)
        finally:
            if client is not None:
                client.close()


def concat(parts: list[Tables]) -> Tables:
    """Tables of several units as one: each table's rows concatenated in the order given."""
    return {t: pd.concat([p[t] for p in parts], ignore_index=True) for t in parts[0]}


def compute_unit(unit: Unit, cfg, r: int, device: str, threads: int, key: str):
    """One unit in a worker process: its share of the cores, denormals flushed (set before its first
    parallel op, so every thread of its pool inherits the mode). Its (silent) progress bars lock with
    a thread lock: tqdm's default multiprocessing lock would be reported as a leaked semaphore when a
    failing unit makes joblib stop this worker."""
    import threading
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    tqdm.set_lock(threading.RLock())
    return key, unit(cfg, r, device, True)


def _dask_client(address: str):
    from dask.distributed import Client
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError) as err:
        raise ConfigError(f"--scheduler={address!r} is not reachable: {err}") from None
