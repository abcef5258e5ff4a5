"""The explanation sims end to end on tiny configs, and the measurements they rest on."""
import math
from pathlib import Path

import pandas as pd
import pytest
import torch

from multiview.claims import CLAIMS
from multiview.digits import DigitsConfig, generate_digits, patches
from multiview.measure import coverage_curve, ensemble_curve, member_orderings

from conftest import TINY_KD

ROOT = Path(__file__).resolve().parent.parent


def test_coverage_curve_counts_views_seen_by_any_of_the_first_n_members():
    learn = torch.tensor([[[1, 0], [0, 1]], [[1, 0], [1, 0]], [[0, 1], [0, 1]]], dtype=torch.bool)  # (3, 2, 2)
    cov = coverage_curve(learn, torch.tensor([[0, 1, 2]]))
    assert cov.tolist() == [0.5, 0.75, 1.0]
    orders = member_orderings(3, 10, seed=0)
    assert orders.shape == (10, 3) and torch.equal(orders[0], torch.arange(3))
    assert (coverage_curve(learn, orders).diff() >= 0).all()


def test_ensemble_curve_is_the_accuracy_of_the_first_n_members_mean_logits():
    F = torch.tensor([[[1.0, 0.0], [1.0, 0.0]], [[0.0, 3.0], [0.0, 0.5]]])  # 2 members, 2 samples
    y = torch.tensor([1, 0])
    assert ensemble_curve(F, y, torch.tensor([[0, 1]])).tolist() == [0.5, 1.0]
    assert ensemble_curve(F, y, torch.tensor([[1, 0], [0, 1]])).tolist() == [0.5, 1.0]
    assert ensemble_curve(F, torch.tensor([1, 1]), torch.tensor([[1, 0]])).tolist() == [1.0, 0.5]


def test_ensemble_size_sim(tmp_path, run_sim, tiny_sim):
    no_distillation = [a for a in tiny_sim if not a.startswith("distill.")]  # ensemble_size distils nothing
    df = run_sim("ensemble_size", tmp_path / "es", *no_distillation, "train.n_models=4")
    assert sorted(df.n_members.unique()) == [1, 2, 3, 4] and set(df.family) == {"nn", "ntk", "rf"}
    nn = df[df.family == "nn"].sort_values("n_members")
    assert (nn.coverage.diff().dropna() >= 0).all() and nn.coverage.iloc[-1] > nn.coverage.iloc[0]
    assert (tmp_path / "es" / "ensemble_size.png").exists()


def test_dark_knowledge_and_view_dropout_sims(tmp_path, run_sim, tiny_sim):
    df = run_sim("dark_knowledge", tmp_path / "dk", *tiny_sim)
    assert set(df.knob) == {"data.dark_weight", "distill.T", "distill.alpha", "train.label_smoothing"}
    assert sorted(df[df.knob == "distill.T"].value.unique()) == [1, 4, 16]
    assert set(df.method) == {"single", "ensemble", "kd"}
    vd = run_sim("view_dropout", tmp_path / "vd", *tiny_sim)
    assert sorted(vd.value.unique()) == [0.0, 0.1, 0.25, 0.5]
    for name in ("dk/dark_knowledge.png", "vd/view_dropout.png"):
        assert (tmp_path / name).exists()


def test_self_distillation_sim(tmp_path, run_sim, tiny_sim):
    df = run_sim("self_distillation", tmp_path / "sd", *tiny_sim)
    assert sorted(df.generation.unique()) == [0, 1, 2, 3, 4] and df.model.nunique() == 2
    for _, chain in df.groupby("model"):
        assert (chain.sort_values("generation").chain_coverage.diff().dropna() >= 0).all()


def test_digits_are_centred_patches_of_a_seeded_split():
    cfg = DigitsConfig(n_train=100)
    train, test = generate_digits(cfg, seed=0)
    assert train.X.shape == (100, 9, 16) and len(test) == 1797 - 100 and set(train.y.tolist()) == set(range(10))
    img = torch.arange(64.0).reshape(1, 8, 8)
    p = patches(img, 4, 2)
    assert p.shape == (1, 9, 16) and p[0, 1, :4].tolist() == [2.0, 3.0, 4.0, 5.0]
    again, _ = generate_digits(cfg, seed=0)
    other, _ = generate_digits(cfg, seed=1)
    assert torch.equal(again.X, train.X) and not torch.equal(other.y, train.y)
    with pytest.raises(Exception, match="stride"):
        DigitsConfig(patch=3, stride=2)


def test_real_digits_sim(tmp_path, run_sim, tiny_sim):
    df = run_sim("real_digits", tmp_path / "rd", "train.n_models=2", "repeats=1", "train.max_steps=100",
             "distill.steps=20", "distill.n_students=1", "data.n_train=200", "families=nn,rf",
             "methods=single,ensemble,kd")
    assert set(df.data) == {"digits"} and set(df.split) == {"train", "test"}
    assert set(df.method) == {"single", "ensemble", "kd"}


def test_dark_logits_read_every_view_the_teacher_knows_including_those_the_student_lacks():
    from multiview.data import Dataset
    from multiview.measure import dark_logits
    # k = 2: samples 0, 1 of class 1 carry view (0, 0) alone, sample 2 of class 1 carries (0, 1) alone,
    # sample 3 of class 0 carries (1, 0) and (1, 1) (both views: never counted)
    fw = torch.zeros(4, 4)
    fw[0, 0] = fw[1, 0] = fw[2, 1] = fw[3, 2] = fw[3, 3] = 0.3
    y = torch.tensor([1, 1, 1, 0])
    data = Dataset(torch.zeros(4, 1, 4), y, torch.zeros(4, dtype=torch.bool), torch.full((4,), -1), fw,
                   torch.full((4, 1), -1))
    teacher = torch.tensor([[2.0, 0.0], [4.0, 0.0], [1.0, 0.0], [0.0, 9.0]])
    students = torch.stack([torch.tensor([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 9.0]]),
                            torch.tensor([[2.0, 0.0], [2.0, 0.0], [3.0, 0.0], [0.0, 9.0]])])   # (2, 4, 2)
    known = torch.tensor([[True, True], [True, True]])
    # (0, 0): teacher 3, students (0 + 2) / 2 = 1; (0, 1): teacher 1, students (1 + 3) / 2 = 2
    assert dark_logits(teacher, students, data, known) == pytest.approx((2.0, 1.5))
    known_00 = torch.tensor([[True, False], [False, False]])
    assert dark_logits(teacher, students, data, known_00) == pytest.approx((3.0, 1.0))
    assert all(map(math.isnan, dark_logits(teacher, students, data, torch.zeros(2, 2, dtype=torch.bool))))


def test_same_filter_counts_both_view_pairs_whose_views_share_their_best_filter():
    from multiview.measure import same_filter
    w = torch.zeros(1, 2, 3, 4)         # K = 1, k = 2, m = 3 filters, F = 4
    w[0, 0, 1, 0] = w[0, 0, 1, 1] = 1.0  # class 0: filter 1 holds both views
    w[0, 1, 0, 2] = w[0, 1, 2, 3] = 1.0  # class 1: filters 0 and 2, one view each
    w[0, 0, 2, 2] = 5.0                  # another class's feature does not count
    both = torch.ones(1, 2, 2, dtype=torch.bool)
    assert same_filter(w, both) == 0.5
    assert same_filter(w, torch.tensor([[[True, True], [True, False]]])) == 1.0
    assert math.isnan(same_filter(w, torch.zeros(1, 2, 2, dtype=torch.bool)))  # no pair with both views




def test_kd_variants_label_control_adds_its_rows_and_leaves_the_others_as_they_were():
    from multiview.config import override
    from multiview.experiment import NetworkConfig
    from multiview.variants import kd_variants
    cfg = override(NetworkConfig(), TINY_KD)
    variants = [("own", []), ("shared", ["data.dark_layout=shared"])]
    plain = kd_variants(cfg, variants, 0)
    both = kd_variants(cfg, variants, 0, label_control=True)
    assert set(plain.method) == {"single", "ensemble", "kd"}
    pd.testing.assert_frame_equal(both[both.method != "label_control"].reset_index(drop=True), plain)
    control = both[both.method == "label_control"]
    assert set(control.variant) == {"own", "shared"} and set(control.split) == set(plain.split)
    assert plain[plain.method == "ensemble"].same_filter.isna().all()


def test_patch_layout_sim_runs_both_layouts_and_optimisers(tmp_path, monkeypatch):
    import importlib.util
    spec = importlib.util.spec_from_file_location("patch_layout", ROOT / "sims" / "patch_layout.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    short = [(label, [c.replace("distill.steps=600", "distill.steps=10") for c in changes])
             for label, changes in mod.VARIANTS]  # the per-class phase's 600 steps cut for the test
    monkeypatch.setattr(mod, "VARIANTS", short)
    out = tmp_path / "pl"
    mod.SIM.main(["--quiet", "--no-cache", "--out", str(out), *TINY_KD, "repeats=1"])
    df = pd.read_csv(out / "results.csv")
    assert set(df.method) == {"single", "ensemble", "kd", "label_control"}
    assert set(df.layout) == {"own", "shared"} and set(df.off_class) == {"with", "without"}
    assert df.groupby("optimiser").variant.nunique().to_dict() == {"default step": 4, "per-class step": 4}
    assert len(pd.read_csv(out / "claims.csv")) == len(CLAIMS["patch_layout"])
    for layout in ("own", "shared"):
        for off in ("with", "without"):
            assert (out / f"patch_layout_{layout}_{off}.png").exists()
