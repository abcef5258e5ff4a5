"""The command line shared by every sim:

    python sims/NAME.py [--out DIR] [--device auto|cpu|cuda] [--quiet] [--force] [--no-cache] [--jobs N]
                        [--backend loky|dask] [--scheduler ADDRESS] [KEY=VALUE ...]

Finished repeats are kept in a cache (MULTIVIEW_CACHE, default ~/.cache/multiview) keyed by the
resolved config and the code (runner.py), so a rerun with nothing changed only re-plots and a killed run resumes.

Bad input (unknown key, malformed value, value out of range, unusable device or folder) prints one
line naming what is wrong and exits with status 2 before anything is written.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

from .cache import default_dir
from .config import ConfigError, describe, override
from .train import TrainingDiverged


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line and exit 2, as for every bad input (no usage dump)."""

    def error(self, message):
        print(f"error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def resolve_device(name: str) -> str:
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device='cuda' is not allowed here: no CUDA device is available; use auto or cpu")
    return name


def resolve_out(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out={path!r} is not allowed: it exists and is not a folder")
    return out


def cores() -> int:
    """CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def main(sim, argv=None) -> None:
    """Parse the command line of `sim` (sim.Sim), then run it.

    A ConfigError raised while running (a sim validates before writing) is reported like any bad input."""
    from .runner import BACKENDS, Runner

    default_out = f"figures/{sim.name}"
    parser = OneLineParser(description=sim.doc, formatter_class=argparse.RawDescriptionHelpFormatter,
                           epilog="config keys (KEY=VALUE, dotted):\n" + describe(sim.config))
    parser.add_argument("--out", default=default_out, help=f"output folder (default {default_out})")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--force", action="store_true", help="recompute, ignoring (and replacing) cached units")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument("--jobs", type=int, default=sim.jobs, help="worker processes for the missing units, each "
                        f"with its share of the cores; 0 = one per core (one on a GPU) (default {sim.jobs})")
    parser.add_argument("--backend", default="loky", choices=BACKENDS,
                        help="loky: local worker processes; dask: the Dask cluster at --scheduler")
    parser.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")
    dests = [parser.add_argument(flag, **kwargs).dest for flag, kwargs in sim.options]
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    args = parser.parse_intermixed_args(argv)
    options = {dest: getattr(args, dest) for dest in dests}
    try:
        if args.jobs < 0:
            raise ConfigError(f"--jobs={args.jobs} is not allowed: must be an integer >= 0 (0 = one per core)")
        cfg = override(sim.config, args.overrides)
        sim.check(cfg, **options)
        device = resolve_device(args.device)
        out = resolve_out(args.out)
        # 0 = one worker per core on a CPU; one process drives a GPU
        jobs = args.jobs or (1 if device == "cuda" else cores())
        runner = Runner(sim.store(out, None if args.no_cache else default_dir(), args.force), jobs, args.backend,
                        args.scheduler, device, args.quiet)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    start = time.time()
    # softmax tails underflow to denormals, ~100x slower on x86; values below 1e-38 are 0 here
    torch.set_flush_denormal(True)
    try:
        sim.run(cfg, out, runner, **options)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except TrainingDiverged as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    finally:
        torch.set_flush_denormal(False)  # the process's normal floating-point mode again
    store = runner.store
    cached = f"; {store.hits} of {store.hits + store.misses} units from the cache" if store.hits else ""
    print(f"wall time {time.time() - start:.1f} s{cached}; outputs in {out}")
