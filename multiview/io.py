"""Outputs: atomic writes and provenance. A file is either absent, its old version, or complete."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import torch

from .config import to_dict


def atomic_write(path: Path, write) -> None:
    """Call write(tmp_path), then rename onto path (same folder, so the rename is atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    atomic_write(path, lambda tmp: df.to_csv(tmp, index=False, float_format="%.6g"))


def write_json(obj: dict, path: Path) -> None:
    def write(tmp):
        with open(tmp, "w") as fh:
            json.dump(obj, fh, indent=2, default=str)
            fh.write("\n")
    atomic_write(path, write)


def git_commit() -> str | None:
    try:
        root = Path(__file__).resolve().parent.parent
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        if out.returncode:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance(cfg, device: str, wall_time: float, runner=None, **extra) -> dict:
    """config.json content: the full resolved config plus versions, commit, device and wall time
    (of this run: units taken from the cache cost nothing; `cache` says how many)."""
    from . import __version__
    store = None if runner is None else runner.store
    if runner is not None:
        extra.update(jobs=runner.jobs, backend=runner.backend, scheduler=runner.scheduler)
    if store is not None and store.root is not None:
        extra["cache"] = {"folder": str(store.root), "units_cached": store.hits, "units_computed": store.misses}
    return {"config": to_dict(cfg), "multiview_version": __version__, "git_commit": git_commit(),
            "torch_version": torch.__version__, "python_version": platform.python_version(),
            "device": device, "threads": torch.get_num_threads(),
            "wall_time_s": round(wall_time, 2), **extra}
