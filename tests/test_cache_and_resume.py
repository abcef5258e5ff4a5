"""The promises of the result cache and the command line, tested so that they can fail: outputs are
bitwise reproducible when truly recomputed, the key changes with every input of a result, a
corrupt entry that still unpickles is caught by its checksum, a killed sim resumes without
recomputing finished repeats, and a failure late in a run writes nothing and loses nothing."""
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

import multiview.cache as cache
from multiview.cache import Store
from multiview.config import override
from multiview.experiment import ExperimentConfig
from multiview.runner import Runner
from conftest import TINY

ROOT = Path(__file__).resolve().parent.parent


def run_sim(name, *args, cache_dir=None, cwd=ROOT, env_extra=None):
    env = dict(os.environ, **(env_extra or {}))
    if cache_dir is not None:
        env["MULTIVIEW_CACHE"] = str(cache_dir)
    script = ROOT / "sims" / f"{name}.py" if not str(name).endswith(".py") else name
    return subprocess.run([sys.executable, str(script), "--quiet", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)


def entries(folder: Path) -> dict[str, int]:
    """Finished cache entries (name -> mtime); an atomic write's temporary file starts with '.'."""
    return {p.name: p.stat().st_mtime_ns for p in Path(folder).glob("*.pkl") if not p.name.startswith(".")}


def tables(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.csv"))}


def test_two_uncached_runs_write_byte_identical_tables(tmp_path):
    """--no-cache: both runs compute every repeat (nothing can be replayed from a store)."""
    for name in ("a", "b"):
        res = run_sim("views_per_seed", "--no-cache", "--out", str(tmp_path / name), *TINY, "repeats=2",
                      cache_dir=tmp_path / "unused")
        assert res.returncode == 0, res.stderr
        assert "from the cache" not in res.stdout
    assert not (tmp_path / "unused").exists()
    a, b = tables(tmp_path / "a"), tables(tmp_path / "b")
    assert set(a) >= {"results.csv", "views.csv", "phi_history.csv"} and a == b


# a unit in a script file of its own, so that the script's source is part of the key
UNIT = textwrap.dedent('''
    import pandas as pd

    def unit(cfg, r, device, quiet):
        return {"t": pd.DataFrame({"repeat": [r], "seed": [cfg.seed], "k": [cfg.data.k]})}
''')


def _unit_from(path: Path, source: str):
    import importlib.util
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"unit_{path.stem}_{time.time_ns()}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod.unit


def test_the_key_changes_with_a_knob_the_seed_the_repeat_the_script_and_the_package(tmp_path, monkeypatch):
    store = Store(tmp_path / "store")
    unit = _unit_from(tmp_path / "sim_a.py", UNIT)
    cfg = override(ExperimentConfig(), ["repeats=2"])

    def misses(c, u=unit):
        before = store.misses
        Runner(store).repeats("s", u, c)
        return store.misses - before

    assert misses(cfg) == 2 and misses(cfg) == 0                        # the same inputs: all from the store
    assert misses(override(cfg, ["repeats=3"])) == 1                     # more repeats: only the new one
    assert misses(override(cfg, ["data.k=4"])) == 2                      # one knob
    assert misses(override(cfg, ["seed=1"])) == 2                        # the seed
    assert misses(cfg, _unit_from(tmp_path / "sim_a.py", UNIT + "# edited\n")) == 2   # the script's source
    package = tmp_path / "package"
    package.mkdir()
    for f in cache.PACKAGE.glob("*.py"):
        (package / f.name).write_bytes(f.read_bytes())
    monkeypatch.setattr(cache, "PACKAGE", package)
    assert misses(cfg) == 0                                              # a copy of the same source
    with open(package / "model.py", "a") as fh:
        fh.write("# edited\n")
    assert misses(cfg) == 2                                              # the package's source
    got = Runner(store).repeats("s", unit, override(cfg, ["seed=1"]))["t"]
    assert got.seed.tolist() == [1, 1] and got.repeat.tolist() == [0, 1]


def _flip_a_byte_that_still_unpickles(path: Path) -> None:
    """Change one byte of the payload such that it still unpickles (to different tables), so only
    the checksum can tell."""
    digest, _, payload = path.read_bytes().partition(b"\n")
    original = pickle.loads(payload)
    for i in range(len(payload) - 9, len(payload) // 2, -1):
        changed = payload[:i] + bytes([payload[i] ^ 0x01]) + payload[i + 1:]
        try:
            tables = pickle.loads(changed)
        except Exception:
            continue
        if any(not tables[t].equals(original[t]) for t in original):
            path.write_bytes(digest + b"\n" + changed)
            return
    raise AssertionError("no byte found whose flip still unpickles")


def test_a_flipped_byte_is_reported_and_recomputed_by_a_sim(tmp_path):
    args = ["--out", str(tmp_path / "out"), *TINY, "repeats=2"]
    first = run_sim("views_per_seed", *args, cache_dir=tmp_path / "cache")
    assert first.returncode == 0, first.stderr
    before = tables(tmp_path / "out")
    stored = entries(tmp_path / "cache" / "views_per_seed")
    assert len(stored) == 2
    victim = tmp_path / "cache" / "views_per_seed" / sorted(stored)[0]
    _flip_a_byte_that_still_unpickles(victim)
    again = run_sim("views_per_seed", *args, cache_dir=tmp_path / "cache")
    assert again.returncode == 0, again.stderr
    assert "corrupt" in again.stderr and "checksum" in again.stderr
    assert "1 of 2 units from the cache" in again.stdout
    assert tables(tmp_path / "out") == before
    assert Store(victim.parent).load(victim.stem) is not None  # replaced by a sound entry


def test_a_killed_sim_resumes_at_the_first_unfinished_repeat(tmp_path):
    args = ["--out", str(tmp_path / "out"), "data.k=3", "data.n_train=400", "data.n_test=60", "data.P=8",
            "train.n_models=2", "train.max_steps=2000", "repeats=5"]
    store = tmp_path / "cache" / "views_per_seed"
    env = dict(os.environ, MULTIVIEW_CACHE=str(tmp_path / "cache"))
    proc = subprocess.Popen([sys.executable, str(ROOT / "sims" / "views_per_seed.py"), "--quiet", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env)
    deadline = time.time() + 120
    while time.time() < deadline and not (store.exists() and entries(store)):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = entries(store)
    assert 1 <= len(first) < 5, "the run should have been killed part-way"
    assert not (tmp_path / "out").exists()  # nothing half-written
    res = run_sim("views_per_seed", *args, cache_dir=tmp_path / "cache")
    assert res.returncode == 0, res.stderr
    assert f"{len(first)} of 5 units from the cache" in res.stdout
    after = entries(store)
    assert len(after) == 5 and all(after[n] == t for n, t in first.items())  # finished repeats untouched
    whole = run_sim("views_per_seed", "--no-cache", *args[2:], "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    assert tables(tmp_path / "out") == tables(tmp_path / "whole")


# views_per_seed with a fault injected into repeat 1: its loss turns NaN at step 5, inside a worker
FAULTY = textwrap.dedent('''
    import os, sys, time
    sys.path.insert(0, {sims!r})
    import views_per_seed as vps
    import multiview.train as T

    real_repeat, real_ce = vps.one_repeat, T.cross_entropy

    def faulty_ce(y, *args):
        loss, calls = real_ce(y, *args), [0]
        def fn(F, idx):
            calls[0] += 1
            return loss(F, idx) * float("nan") if calls[0] > 5 else loss(F, idx)
        return fn

    def one_repeat(cfg, r, device, quiet):
        if r == 1 and os.environ.get("INJECT_FAULT"):
            time.sleep(1.0)  # the other worker finishes its repeat first
            T.cross_entropy = faulty_ce
        return real_repeat(cfg, r, device, quiet)

    import dataclasses
    vps.SIM = dataclasses.replace(vps.SIM, unit=one_repeat)
    vps.SIM.main()
''')


def test_a_run_that_diverges_late_writes_nothing_and_keeps_its_finished_repeats(tmp_path):
    """In a worker of --jobs 2 (one job runs the same loop in order; the kill test covers that path)."""
    script = tmp_path / "faulty_views_per_seed.py"
    script.write_text(FAULTY.format(sims=str(ROOT / "sims")))
    out = tmp_path / "out"
    env = {"PYTHONPATH": str(ROOT / "sims"), "INJECT_FAULT": "1"}
    args = ["--out", str(out), "--jobs", "2", *TINY, "repeats=3"]
    res = run_sim(script, *args, cache_dir=tmp_path / "cache", env_extra=env)
    assert res.returncode == 1, res.stderr
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "diverged at step 5" in err[0], res.stderr
    assert not out.exists()
    kept = entries(tmp_path / "cache" / "views_per_seed")  # the store of the sim's run()
    assert len(kept) >= 1  # repeat 0 finished before repeat 1 failed (with 2 jobs, repeat 2 may too)
    env["INJECT_FAULT"] = ""
    again = run_sim(script, *args, cache_dir=tmp_path / "cache", env_extra=env)
    assert again.returncode == 0, again.stderr
    assert f"{len(kept)} of 3 units from the cache" in again.stdout
    assert all(entries(tmp_path / "cache" / "views_per_seed")[n] == t for n, t in kept.items())


@pytest.mark.parametrize("args", [["data.mu=2"], ["data.kk=1"], ["--jobs", "-1"]])
def test_bad_input_touches_neither_the_cache_nor_the_default_figures_folder(tmp_path, args):
    """Run from an empty folder without --out: the default output folder is figures/views_per_seed there."""
    res = run_sim("views_per_seed", *TINY, *args, cache_dir=tmp_path / "cache", cwd=tmp_path)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_corrupt_sweep_point_is_recomputed(tmp_path, capsys):
    """The sweep's points go through the runner like every sim's repeats: a stored point with a flipped
    byte is caught by its checksum, recomputed and replaced, and the results are those of a clean run."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("sweep_sim", ROOT / "sims" / "sweep.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "sweep"
    args = ["--quiet", "--out", str(out), "--jobs", "1", "--grid", "data.mu=0.1,0.2", *TINY, "repeats=1",
            "methods=single", "distill.steps=10"]
    mod.SIM.main(args)
    first = (out / "results.csv").read_bytes()
    stored = entries(out / "points")
    assert len(stored) == 2
    victim = out / "points" / sorted(stored)[0]
    _flip_a_byte_that_still_unpickles(victim)
    with pytest.warns(UserWarning, match="corrupt.*checksum"):
        mod.SIM.main(args)
    assert "1 of 2 units from the cache" in capsys.readouterr().out
    assert (out / "results.csv").read_bytes() == first
    assert Store(victim.parent).load(victim.stem) is not None  # replaced by a sound entry


def test_every_mutant_of_the_mutation_check_still_applies():
    """tests/mutants.py plants each bug by replacing a line of code; that line must still exist."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("mutants", ROOT / "tests" / "mutants.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert len(mod.MUTANTS) >= 15
    for name, (path, good, bad, _) in mod.MUTANTS.items():
        assert (ROOT / path).read_text().count(good) == 1, name
