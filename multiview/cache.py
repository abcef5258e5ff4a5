"""A content-addressed store of finished work units (one repeat of a sim, one sweep point).

An entry's key hashes everything its tables depend on: the unit's name, its resolved config, the
repeat, the device type and the source code of the package and of the calling script. So a rerun
with nothing changed re-plots from the store; any change of config or code recomputes. Entries are
written atomically as each unit finishes (a killed run keeps what it finished) and carry a checksum:
a corrupt or truncated entry is reported, recomputed and replaced, never trusted.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import sys
import warnings
from pathlib import Path
from typing import Callable

from .io import atomic_write

Tables = dict  # name -> pandas.DataFrame


def default_dir() -> Path:
    return Path(os.environ.get("MULTIVIEW_CACHE", Path.home() / ".cache" / "multiview"))


PACKAGE = Path(__file__).resolve().parent  # whose source is part of every key


def code_version(*extra_files) -> str:
    """Hash of the package's source files and any extra files (the script that defines the unit)."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE.glob("*.py")) + [Path(f) for f in extra_files]:
        h.update(path.name.encode())
        h.update(Path(path).read_bytes())
    return h.hexdigest()[:16]


def unit_key(name: str, config: dict, **tags) -> str:
    blob = json.dumps({"name": name, "config": config, **tags}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


class Store:
    """Entries under `root`/<key>.pkl: a sha256 line of the payload, then the pickled tables."""

    def __init__(self, root: Path | None, force: bool = False):
        self.root = None if root is None else Path(root)
        self.force = force
        self.hits = self.misses = 0

    def path(self, key: str) -> Path:
        return self.root / f"{key}.pkl"

    def load(self, key: str) -> Tables | None:
        """The entry's tables, or None when absent or corrupt (a corrupt entry is reported)."""
        if self.root is None or self.force or not self.path(key).exists():
            return None
        blob = self.path(key).read_bytes()
        digest, _, payload = blob.partition(b"\n")
        try:
            if hashlib.sha256(payload).hexdigest().encode() != digest:
                raise ValueError("checksum mismatch")
            return pickle.loads(payload)
        except Exception as err:  # any unreadable entry is recomputed, never trusted
            warnings.warn(f"cache entry {self.path(key)} is corrupt ({err}); recomputing it", stacklevel=2)
            return None

    def save(self, key: str, tables: Tables) -> None:
        if self.root is None:
            return
        payload = pickle.dumps(tables, protocol=pickle.HIGHEST_PROTOCOL)
        blob = hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload

        def write(tmp):
            with open(tmp, "wb") as fh:
                fh.write(blob)
        atomic_write(self.path(key), write)

    def keys(self) -> set[str]:
        return set() if self.root is None or not self.root.exists() else {p.stem for p in self.root.glob("*.pkl")}


def script_file(fn: Callable) -> str | None:
    """The file defining fn (a sim script), so its code is part of the key."""
    mod = sys.modules.get(fn.__module__)
    return getattr(mod, "__file__", None)
