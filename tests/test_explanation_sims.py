"""The explanation sims end to end on tiny configs, and the measurements they rest on."""
import pytest
import torch

from multiview.digits import DigitsConfig, generate_digits, patches
from multiview.measure import coverage_curve, ensemble_curve, member_orderings

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
    df = run_sim("ensemble_size", tmp_path / "es", *tiny_sim, "train.n_models=4")
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
