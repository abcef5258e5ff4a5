"""Helpers shared by the test modules: running a sim script on a tiny config."""
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
# The tiny configs the tests share (test modules import them: `from conftest import TINY`).
# two networks, 300 steps: the lottery sim, the cache, the command line and the sweep
TINY = ["data.k=3", "data.n_train=60", "data.n_test=60", "data.P=8", "train.n_models=2", "train.max_steps=300"]
# three networks, 200 steps: the sims whose claims are checked, and the headline (with its control data
# and a short distillation phase)
TINY_3 = ["data.k=3", "data.n_train=60", "data.n_test=60", "data.P=8", "train.n_models=3", "train.max_steps=200"]
TINY_HEADLINE = TINY_3 + ["control.k=3", "control.n_train=60", "control.n_test=60", "distill.steps=30",
                          "distill.n_students=2"]
# KD variants with the shortest phases
TINY_KD = ["data.k=3", "data.n_train=60", "data.n_test=60", "data.P=8", "train.n_models=2", "train.max_steps=100",
           "distill.steps=10", "distill.n_students=1"]
# the explanation and literature sims on a tiny config (a few seconds each)
TINY_SIM = ["data.k=3", "data.n_train=60", "data.n_test=120", "data.P=8", "train.n_models=3", "repeats=1",
            "train.max_steps=200", "distill.steps=30", "distill.n_students=2"]


def _run_sim(name, out, *args) -> pd.DataFrame:
    """Run sims/NAME.py into `out`; check it succeeded and recorded its own wall time; its results."""
    start = time.time()
    res = subprocess.run([sys.executable, str(ROOT / "sims" / f"{name}.py"), "--quiet", "--out", str(out), *args],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    elapsed = time.time() - start
    assert res.returncode == 0, res.stderr
    wall = json.loads((Path(out) / "config.json").read_text())["wall_time_s"]
    assert 0 < wall <= elapsed + 0.01  # the run's own time, inside the process's lifetime
    return pd.read_csv(Path(out) / "results.csv")


@pytest.fixture
def run_sim():
    return _run_sim


@pytest.fixture
def tiny_sim():
    return list(TINY_SIM)
