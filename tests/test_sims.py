"""Sim scripts end to end on tiny configs, and their command line's handling of bad input."""
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import conftest

ROOT = Path(__file__).resolve().parent.parent
TINY = conftest.TINY + ["repeats=2"]


def sim(name, *args):
    return subprocess.run([sys.executable, str(ROOT / "sims" / f"{name}.py"), "--quiet", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_views_per_seed_writes_its_tables_figures_and_config(tmp_path):
    out = tmp_path / "lottery"
    res = sim("views_per_seed", "--out", str(out), *TINY)
    assert res.returncode == 0, res.stderr
    views = pd.read_csv(out / "views.csv")
    assert list(views.columns[:6]) == ["repeat", "model", "class", "view", "phi", "learned"]
    assert len(views) == 2 * 2 * 3 * 2 and set(views.learned) <= {0, 1}
    results = pd.read_csv(out / "results.csv")
    for col in ("family", "data", "method", "repeat", "model", "split", "accuracy"):
        assert col in results.columns
    assert set(results.split) == {"train", "test", "test_multi", "test_single"}
    assert (results.method == "single").all()
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["config"]["data"]["k"] == 3 and cfg["wall_time_s"] > 0 and "torch_version" in cfg
    for fig in ("views_heatmap.png", "views_heatmap.pdf", "lottery.png", "lottery.pdf"):
        assert (out / fig).stat().st_size > 1000
    assert not list(out.glob(".*"))  # no temp files left behind


@pytest.mark.parametrize("args, words", [
    (["data.kk=3"], ["data.kk", "data.k"]),
    (["data.mu=2"], ["data.mu=2.0", "<= 1"]),
    (["data.k=x"], ["data.k", "'x'"]),
    (["train.n_models=0"], ["train.n_models=0", ">= 1"]),
    (["data.kind=cifar"], ["data.kind='cifar'", "multiview"]),
    (["--device", "tpu"], ["--device", "tpu"]),
    (["k5"], ["KEY=VALUE"]),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, args, words):
    out = tmp_path / "never"
    res = sim("views_per_seed", "--out", str(out), *args)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    for w in words:
        assert w in lines[0]
    assert not out.exists()


def test_help_lists_every_key_with_its_default():
    res = sim("views_per_seed", "--help")
    assert res.returncode == 0
    for key in ("data.k", "data.mu", "data.dark_weight", "train.n_models", "seed", "data.noise"):
        assert key in res.stdout


HEAD_TINY = conftest.TINY_HEADLINE + ["repeats=2"]


def test_ensemble_vs_ntk_end_to_end_on_a_tiny_config(tmp_path):
    out = tmp_path / "headline"
    res = sim("ensemble_vs_ntk", "--out", str(out), "--jobs", "1", *HEAD_TINY)
    assert res.returncode == 0, res.stderr
    df = pd.read_csv(out / "results.csv")
    assert set(df.family) == {"nn", "ntk", "rf"} and set(df.data) == {"multiview", "gaussian"}
    assert set(df.repeat) == {0, 1}
    assert set(df.method) == {"single", "ensemble", "kd", "kd_ensemble", "self_distill", "self_distill_teacher", "label_control",
                       "train_average"}
    assert set(df[df.data == "multiview"].split) == {"train", "test", "test_multi", "test_single"}
    assert set(df[df.data == "gaussian"].split) == {"train", "test"}
    assert (df[df.method == "ensemble"].model == -1).all()
    sizes = pd.read_csv(out / "ensemble_size.csv")
    assert sizes.n_members.max() == 3
    views = pd.read_csv(out / "views.csv")
    assert set(views.data) == {"multiview"} and set(views.family) <= {"nn", "ntk"}
    for name in ("headline.png", "headline.pdf", "config.json"):
        assert (out / name).exists()
    assert "ensemble" in res.stdout and "+-" in res.stdout
    # a rerun takes every unit (repeat x data set x family) from the cache; --force recomputes them,
    # on 2 worker processes: all three tables identical
    again = sim("ensemble_vs_ntk", "--out", str(tmp_path / "again"), *HEAD_TINY)
    assert again.returncode == 0 and "12 of 12 units from the cache" in again.stdout
    forced = sim("ensemble_vs_ntk", "--out", str(tmp_path / "forced"), "--force", "--jobs", "2", *HEAD_TINY)
    assert forced.returncode == 0 and "from the cache" not in forced.stdout
    for other in ("again", "forced"):
        assert (tmp_path / other / "results.csv").read_bytes() == (out / "results.csv").read_bytes()
    assert json.loads((tmp_path / "again" / "config.json").read_text())["cache"]["units_cached"] == 12
    assert json.loads((tmp_path / "forced" / "config.json").read_text())["jobs"] == 2


def test_kd_regime_runs_every_variant_on_a_tiny_config(tmp_path):
    out = tmp_path / "kd"
    res = sim("kd_regime", "--out", str(out), "data.k=3", "data.n_train=60", "data.n_test=60", "data.P=8",
              "train.n_models=2", "distill.steps=10", "distill.n_students=1", "train.max_steps=100")
    assert res.returncode == 0, res.stderr
    df = pd.read_csv(out / "results.csv")
    import importlib.util
    spec = importlib.util.spec_from_file_location("kd_regime", ROOT / "sims" / "kd_regime.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert df.variant.nunique() == len(mod.VARIANTS) and set(df.method) == {"single", "ensemble", "kd"}
    assert (out / "kd_regime.png").exists()


def test_baseline_width_runs_every_width_on_a_tiny_config(tmp_path):
    out = tmp_path / "width"
    res = sim("baseline_width", "--out", str(out), "data.k=3", "data.n_train=60", "data.n_test=60", "data.P=8",
              "train.n_models=2", "repeats=1", "distill.steps=10", "distill.n_students=1", "train.max_steps=100")
    assert res.returncode == 0, res.stderr
    df = pd.read_csv(out / "results.csv")
    assert sorted(df[df.family == "ntk"].width.unique()) == [1, 2, 4]
    assert sorted(df[df.family == "rf"].width.unique()) == [10, 20, 40, 80]
    assert (out / "baseline_width.png").exists()


def test_notebooks_are_committed_without_outputs():
    """Diff-friendly: outputs stay out of the repository (the tests execute the notebooks afresh)."""
    nbs = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert len(nbs) >= 3
    for nb in nbs:
        cells = json.loads(nb.read_text())["cells"]
        code = [c for c in cells if c["cell_type"] == "code"]
        assert code and all(not c["outputs"] and c["execution_count"] is None for c in code), nb.name
