"""Sweeps: grid parsing, local and Dask-distributed runs giving the same table, kill and resume."""
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import conftest

from multiview.config import ConfigError
from multiview.sweep import grid_points, parse_grid

ROOT = Path(__file__).resolve().parent.parent
TINY = conftest.TINY + ["distill.steps=50"]


def finished(points):
    """Stored points (name -> mtime); an atomic write's temporary file starts with '.'."""
    return {p.name: p.stat().st_mtime_ns for p in points.glob("*.pkl") if not p.name.startswith(".")}


def sweep_cmd(out, *args):
    return [sys.executable, str(ROOT / "sims" / "sweep.py"), "--quiet", "--out", str(out), *TINY, *args]


def test_grid_is_the_cartesian_product_in_order():
    grid = parse_grid(["data.mu=0.1,0.2", "data.k=3,4,5"])
    pts = grid_points(grid)
    assert len(pts) == 6 and pts[0] == {"data.mu": "0.1", "data.k": "3"} and pts[-1] == {"data.mu": "0.2", "data.k": "5"}
    assert grid_points({}) == [{}]


@pytest.mark.parametrize("items", [["data.mu"], ["data.mu="], ["data.mu=0.1,,0.2"], ["data.mu=1", "data.mu=2"]])
def test_malformed_grid_is_refused(items):
    with pytest.raises(ConfigError, match="--grid"):
        parse_grid(items)


def test_local_and_dask_cluster_sweeps_give_the_same_table(tmp_path):
    from dask.distributed import LocalCluster
    args = ["--grid", "data.mu=0.1,0.3", "repeats=2"]
    local = subprocess.run(sweep_cmd(tmp_path / "local", *args, "--jobs", "2"), capture_output=True, text=True)
    assert local.returncode == 0, local.stderr
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dist = subprocess.run(sweep_cmd(tmp_path / "dask", *args, "--backend", "dask",
                                        "--scheduler", cluster.scheduler_address), capture_output=True, text=True)
    assert dist.returncode == 0, dist.stderr
    a, b = (pd.read_csv(tmp_path / d / "results.csv") for d in ("local", "dask"))
    assert len(a) > 0 and set(a["data.mu"]) == {0.1, 0.3} and set(a.repeat) == {0, 1}
    key = ["data.mu", "repeat", "method", "model", "split"]
    pd.testing.assert_frame_equal(a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True))
    assert (tmp_path / "local" / "accuracy_vs_data_mu.png").stat().st_size > 1000


def test_killed_sweep_resumes_without_recomputing_finished_points(tmp_path):
    out = tmp_path / "sweep"
    args = ["--grid", "data.mu=0.05,0.1,0.2,0.3", "repeats=1", "--jobs", "1"]
    proc = subprocess.Popen(sweep_cmd(out, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and not ((out / "points").exists() and finished(out / "points")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = finished(out / "points")
    assert 1 <= len(first) < 4, "the sweep should have been killed part-way"
    assert not (out / "results.csv").exists()
    res = subprocess.run(sweep_cmd(out, *args), capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert f"{len(first)} of 4 units from the cache" in res.stdout
    after = finished(out / "points")
    assert len(after) == 4 and all(after[n] == t for n, t in first.items())  # finished points untouched
    whole = subprocess.run(sweep_cmd(tmp_path / "whole", *args), capture_output=True, text=True)
    assert whole.returncode == 0
    assert (out / "results.csv").read_bytes() == (tmp_path / "whole" / "results.csv").read_bytes()
