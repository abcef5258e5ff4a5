"""Bad input through every sim's command line: one line naming the key, the value and what is allowed,
exit status 2, no traceback, and the output folder left exactly as it was."""
import importlib.util
import sys
from pathlib import Path

import pytest

from conftest import TINY

ROOT = Path(__file__).resolve().parent.parent


def load(name):
    spec = importlib.util.spec_from_file_location(f"sim_{name}", ROOT / "sims" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # a sim may define a dataclass config, which looks its module up
    spec.loader.exec_module(mod)
    return mod


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.rglob("*") if p.is_file()}


CASES = [  # (sim, args, words the one-line message must contain)
    ("views_per_seed", ["data.kk=3"], ["data.kk", "did you mean data.k"]),
    ("views_per_seed", ["trian.n_models=3"], ["trian.n_models", "did you mean train.n_models"]),
    ("views_per_seed", ["data.mu=2"], ["data.mu=2.0", "<= 1"]),
    ("views_per_seed", ["data.mu=-0.1"], ["data.mu=-0.1", ">= 0"]),
    ("views_per_seed", ["data.k=x"], ["data.k", "'x'", "integer"]),
    ("views_per_seed", ["data.k=2.5"], ["data.k", "'2.5'"]),
    ("views_per_seed", ["data.k=1"], ["data.k=1", ">= 2"]),
    ("views_per_seed", ["train.n_models=0"], ["train.n_models=0", ">= 1"]),
    ("views_per_seed", ["data.kind=cifar"], ["data.kind='cifar'", "multiview, gaussian, single_feature"]),
    ("views_per_seed", ["data.noise=gauss"], ["data.noise='gauss'", "limit"]),
    ("views_per_seed", ["--device", "tpu"], ["--device", "tpu"]),
    ("views_per_seed", ["k5"], ["'k5'", "KEY=VALUE"]),
    ("views_per_seed", ["model.q=2"], ["model.q=2", ">= 3"]),
    ("views_per_seed", ["model.varrho=0"], ["model.varrho=0.0", "> 0"]),
    ("views_per_seed", ["model.init_std=inf"], ["model.init_std=inf", "> 0"]),
    ("views_per_seed", ["train.step_size=nan"], ["train.step_size=nan"]),
    ("views_per_seed", ["train.lr_min=1000"], ["lr_min=1000.0", "lr_max"]),
    ("views_per_seed", ["data.P=3"], ["data.P=3", "patches_per_feature"]),
    ("views_per_seed", ["data.d=5", "data.noise=isotropic"], ["data.d=5", "2 * k"]),
    ("views_per_seed", ["data.view_weight_min=2"], ["view_weight_min=2.0", "view_weight_max"]),
    ("views_per_seed", ["data.dark_weight_min=1"], ["dark_weight_min=1.0", "dark_weight"]),
    ("views_per_seed", ["data.dark_prob=1.5"], ["data.dark_prob=1.5", "<= 1"]),
    ("views_per_seed", ["data.n_train=0"], ["data.n_train=0", ">= 1"]),
    ("views_per_seed", ["repeats=0"], ["repeats=0", ">= 1"]),
    ("views_per_seed", ["seed=-1"], ["seed=-1", ">= 0"]),
    ("views_per_seed", ["train.batch_size=-2"], ["train.batch_size=-2", ">= 0"]),
    ("views_per_seed", ["--out", "{file}"], ["--out", "not a folder"]),
    ("ensemble_vs_ntk", ["families=nn,cnn"], ["families='nn,cnn'", "nn, ntk, rf"]),
    ("ensemble_vs_ntk", ["families=nn,nn"], ["families='nn,nn'"]),
    ("ensemble_vs_ntk", ["datasets=multiview,mnist"], ["datasets='multiview,mnist'", "gaussian"]),
    ("ensemble_vs_ntk", ["distill.T=0"], ["distill.T=0.0", "> 0"]),
    ("ensemble_vs_ntk", ["distill.alpha=2"], ["distill.alpha=2.0", "<= 1"]),
    ("ensemble_vs_ntk", ["distill.average=median"], ["distill.average='median'", "sum, mean, separate"]),
    ("ensemble_vs_ntk", ["distill.one_sided=maybe"], ["distill.one_sided", "'maybe'", "true or false"]),
    ("ensemble_vs_ntk", ["control.kind=multiview"], ["control.kind='multiview'", "gaussian"]),
    ("ensemble_vs_ntk", ["ntk.m=0"], ["ntk.m=0", ">= 1"]),
    ("ensemble_vs_ntk", ["rf.width=-5"], ["rf.width=-5", ">= 1"]),
    ("kd_regime", ["distill.steps=0"], ["distill.steps=0", ">= 1"]),
    ("baseline_width", ["rf.init_std=0"], ["rf.init_std=0.0", "> 0"]),
    ("sweep", ["--grid", "data.mu"], ["--grid", "KEY=V1,V2"]),
    ("sweep", ["--grid", "data.muu=0.1,0.2"], ["data.muu", "did you mean data.mu"]),
    ("sweep", ["--grid", "data.mu=0.1,5"], ["data.mu=5.0", "<= 1"]),
    ("sweep", ["--jobs", "-1"], ["--jobs=-1", ">= 0"]),
    ("views_per_seed", ["data.kind=gaussian"], ["data.kind='gaussian'", "multiview", "measures views"]),
    ("view_dropout", ["data.kind=gaussian"], ["data.kind='gaussian'", "multiview"]),
    ("kd_channels", ["data.kind=gaussian"], ["data.kind='gaussian'", "multiview"]),
    ("view_dropout", ["ntk.m=2"], ["ntk.m", "unknown"]),
    ("self_distillation", ["families=nn"], ["families"]),
    ("ensemble_vs_ntk", ["--jobs", "-2"], ["--jobs=-2", ">= 0"]),
    ("sweep", ["--backend", "dask"], ["--backend=dask", "--scheduler"]),
    ("sweep", ["--backend", "ray"], ["--backend", "'ray'"]),
]


@pytest.mark.parametrize("name, args, words", CASES, ids=[f"{c[0]}:{' '.join(c[1])}" for c in CASES])
def test_bad_input_exits_2_with_one_line_and_touches_nothing(tmp_path, capsys, name, args, words):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.csv").write_text("earlier results\n")
    before = snapshot(out)
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    args = [str(a_file) if a == "{file}" else a for a in args]
    with pytest.raises(SystemExit) as exc:
        load(name).SIM.main(["--quiet", "--out", str(out), *TINY, *args] if "--out" not in args
                        else ["--quiet", *TINY, *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert "Traceback" not in err
    for w in words:
        assert w in err, (w, err)
    assert snapshot(out) == before


def test_there_are_at_least_25_distinct_cases():
    assert len({(c[0], tuple(c[1])) for c in CASES}) >= 25


def test_a_diverging_run_stops_naming_the_step_and_writes_nothing(tmp_path, capsys, monkeypatch):
    """The normalised step keeps every valid config finite (even train.step_size=1e6), so the fault is
    injected: the loss turns NaN at step 5, as an overflow would."""
    import multiview.train as T
    real = T.cross_entropy

    def faulty(y, *args):
        loss, calls = real(y, *args), [0]

        def fn(F, idx):
            calls[0] += 1
            out = loss(F, idx)
            return out * float("nan") if calls[0] > 5 else out
        return fn
    monkeypatch.setattr(T, "cross_entropy", faulty)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        load("views_per_seed").SIM.main(["--quiet", "--no-cache", "--out", str(out), *TINY, "repeats=1"])
    assert exc.value.code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "diverged at step 5" in err and "smaller train.step_size" in err, err
    assert not out.exists()


NETWORK_ONLY = ["views_per_seed", "self_distillation", "hints", "dark_knowledge", "view_dropout", "label_refinery",
                "calibration", "capacity_gap", "online_kd", "teacher_ensembles", "kd_regime", "kd_channels",
                "paper_update", "patch_layout"]


@pytest.mark.parametrize("name", NETWORK_ONLY)
def test_a_network_only_sims_help_lists_no_knob_of_the_baselines_or_the_headline(name, capsys):
    """--help lists only keys that change the sim's result: no baselines, control data, families or methods."""
    with pytest.raises(SystemExit) as exc:
        load(name).SIM.main(["--help"])
    assert exc.value.code == 0
    keys = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.startswith("  ") and " = " in line]
    assert "data.k" in keys and "train.n_models" in keys
    assert not [k for k in keys if k.split(".")[0] in ("ntk", "rf", "control", "families", "datasets", "methods")]
