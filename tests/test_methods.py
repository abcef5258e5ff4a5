"""Methods and baselines: KD loss against hand computation, NTK against autograd, each method on a
tiny config (shapes, determinism, a cheap version of its claim)."""
import math

import pytest
import torch
from torch.func import jvp

from multiview import methods as M
from multiview.baselines import NTKConfig, RFConfig, init_ntk, init_rf
from multiview.config import override
from multiview.data import DataConfig, generate
from multiview.experiment import repeat_data
from multiview.families import maker
from multiview.headline import HeadlineConfig, run_methods
from multiview.model import ModelConfig, Params, init, logits, preactivations, srelu
from multiview.train import TrainConfig, fit

from conftest import TINY_HEADLINE


def test_kd_loss_matches_a_hand_computation():
    s = torch.tensor([[[1.0, 0.0, -1.0]]])          # student logits (1 model, 1 sample, 3 classes)
    t = torch.tensor([[[2.0, 1.0, 0.0]]])
    y = torch.tensor([0])
    T, alpha = 2.0, 0.7
    ps = [math.exp(v / T) for v in (1.0, 0.0, -1.0)]
    pt = [math.exp(v / T) for v in (2.0, 1.0, 0.0)]
    ps = [p / sum(ps) for p in ps]
    pt = [p / sum(pt) for p in pt]
    kl = sum(a * math.log(a / b) for a, b in zip(pt, ps))
    ce = -math.log(math.exp(1.0) / (math.exp(1.0) + 1 + math.exp(-1.0)))
    want = alpha * T * T * kl + (1 - alpha) * ce
    got = M.kd_loss(t, y, T, alpha)(s, torch.tensor([0]))
    assert abs(got.item() - want) < 1e-6
    one = M.kd_loss(t, y, T, 1.0, one_sided=True)(s, torch.tensor([0]))
    want_one = T * T * sum(max(a - b, 0) * -math.log(b) for a, b in zip(pt, ps))
    assert abs(one.item() - want_one) < 1e-6


def _tiny():
    train, test = generate(DataConfig(k=3, P=6, n_train=40, n_test=40, noise="limit"), 0)
    train.X = train.X.double()
    return train, test


def _linearised(train, K, seed):
    """A network init in float64 and the (uncentred) linear model around it."""
    cfg = ModelConfig(m=2, init_std=0.1)
    p0 = init(cfg, K, 3, train, seed=seed)
    p0 = Params(p0.W.double(), p0.C.double(), cfg, seed)
    lin = init_ntk(NTKConfig(m=2, init_std=0.1, centred=False), cfg, K, 3, train, seed)
    lin.init, lin.params = p0, p0.detach()
    return cfg, p0, lin


def test_linearised_model_equals_network_to_first_order_near_init():
    train, _ = _tiny()
    cfg, p0, lin = _linearised(train, K=2, seed=0)
    gen = torch.Generator().manual_seed(0)  # over 30 random directions: error/change <= 0.011, ratio 3.99-4.56
    dW = torch.randn(p0.W.shape, generator=gen, dtype=p0.W.dtype)
    dC = torch.randn(p0.C.shape, generator=gen, dtype=p0.C.dtype)
    errors, changes = [], []
    F0 = logits(p0, train)
    for eps in (2e-4, 1e-4):
        moved = Params(p0.W + eps * dW, p0.C + eps * dC, cfg, 0)
        lin.params = moved
        errors.append((lin.logits(train) - logits(moved, train)).abs().max().item())
        changes.append((logits(moved, train) - F0).abs().max().item())
    assert errors[0] < 0.05 * changes[0]     # the linear model captures the change to first order
    assert 3.0 < errors[0] / errors[1] < 5.0  # second order: halving eps quarters the error


def test_linearised_logits_equal_autograd_jvp():
    train, _ = _tiny()
    cfg, p0, lin = _linearised(train, K=1, seed=1)
    dW, dC = 0.3 * torch.randn_like(p0.W), 0.3 * torch.randn_like(p0.C)
    lin.params = Params(p0.W + dW, p0.C + dC, cfg, 1)
    def f(W, C):  # the reference network: plain sReLU, not the fused kernel
        return srelu(preactivations(Params(W, C, cfg, 1), train), cfg.q, cfg.varrho).sum(dim=(3, 4))
    F0, dF = jvp(f, (p0.W, p0.C), (dW, dC))
    assert torch.allclose(lin.logits(train), F0 + dF, atol=1e-10)


def test_random_features_are_a_trained_linear_readout_of_the_initial_filters():
    train, _ = _tiny()
    train.X = train.X.float()
    rf = init_rf(RFConfig(width=6), ModelConfig(), 2, 3, train, seed=0)
    filters = Params(rf.filters.W.clone(), rf.filters.C.clone(), rf.filters.cfg, 0)
    trained, hist = fit(rf, train, TrainConfig(max_steps=300), quiet=True)
    cfg = filters.cfg
    feats = srelu(preactivations(filters, train), cfg.q, cfg.varrho).sum(dim=3)[:, :, 0]   # (K, N, M), afresh
    assert torch.allclose(trained.logits(train), torch.einsum("knm,kcm->knc", feats, trained.A), rtol=1e-5, atol=1e-6)
    assert (hist.stacked()["loss"][-1] < 0.9 * hist.stacked()["loss"][0]).all()  # every readout did learn


def test_ensemble_size_curve_is_the_accuracy_of_running_averages():
    F = torch.tensor([[[1.0, 0.0]], [[0.0, 3.0]], [[0.0, -5.0]]])  # 3 members, 1 sample
    y = torch.tensor([0])
    from multiview.measure import ensemble_curve
    assert ensemble_curve(F, y).tolist() == [1.0, 0.0, 1.0]
    assert ensemble_curve(F, y, torch.tensor([[0, 1, 2], [2, 1, 0]])).tolist() == [1.0, 0.5, 1.0]  # two orders


TINY = TINY_HEADLINE + ["repeats=1"]


def test_every_method_runs_for_every_family_and_is_deterministic():
    cfg = override(HeadlineConfig(), TINY)
    train, test = repeat_data(cfg, 0)
    out = {}
    for family in ("nn", "ntk", "rf"):
        rows, views, sizes = run_methods(family, maker(family, cfg, 3, train, 0), train, test, cfg,
                                         {"data": "multiview", "repeat": 0})
        again = run_methods(family, maker(family, cfg, 3, train, 0), train, test, cfg,
                            {"data": "multiview", "repeat": 0})[0]
        assert rows == again
        methods = {r["method"] for r in rows}
        assert methods == {"single", "ensemble", "kd", "kd_ensemble", "self_distill", "self_distill_teacher", "label_control",
                       "train_average"}
        test_curve = [s for s in sizes if s["split"] == "test"]
        assert [s["n_members"] for s in test_curve] == [1, 2, 3]
        # two code paths agree: the curve's first point is member 0, its last the whole ensemble
        acc = {(r["method"], r.get("model", -1), r["split"]): r["accuracy"] for r in rows}
        assert test_curve[0]["accuracy"] == acc[("single", 0, "test")]
        assert test_curve[-1]["accuracy"] == acc[("ensemble", -1, "test")]
        out[family] = rows
    singles = [r for r in out["nn"] if r["method"] == "single" and r["split"] == "train"]
    assert len(singles) == 3 and all(r["accuracy"] == 1.0 for r in singles)


def test_methods_knob_runs_only_the_chosen_methods():
    cfg = override(HeadlineConfig(), [*TINY, "methods=single,ensemble"])
    train, test = repeat_data(cfg, 0)
    rows = run_methods("nn", maker("nn", cfg, 3, train, 0), train, test, cfg, {"data": "multiview", "repeat": 0})[0]
    assert {r["method"] for r in rows} == {"single", "ensemble"}


def test_born_again_chain_has_one_model_set_per_generation():
    from multiview import methods as M
    cfg = override(HeadlineConfig(), TINY)
    train, _ = repeat_data(cfg, 0)
    make = maker("nn", cfg, 3, train, 0)
    teachers, _ = M.single(make, train, cfg.train)
    chain = M.born_again(make, teachers, train, cfg.train, cfg.distill, generations=2)
    assert len(chain) == 3 and all(c.K == 2 for c in chain)
    assert torch.equal(chain[0].W, teachers.W[:2]) and not torch.equal(chain[1].W, chain[2].W)


def test_view_dropout_removes_one_own_view_of_multi_view_samples_only():
    from multiview.data import DataConfig, drop_views, generate
    train, _ = generate(DataConfig(k=3, P=8, n_train=200, n_test=1), 0)
    out = drop_views(train, 1.0, torch.Generator().manual_seed(0))
    F = train.feature_weight.shape[1]
    kept = out.X[..., :F].sum(1)                                      # (n, F) weight left per feature
    own = torch.stack([kept[torch.arange(200), 2 * train.y], kept[torch.arange(200), 2 * train.y + 1]], 1)
    multi = ~train.single_view
    assert ((own[multi] == 0).sum(1) == 1).all()                       # exactly one own view gone
    assert torch.equal(out.X[train.single_view], train.X[train.single_view])
    off = torch.ones(200, F, dtype=torch.bool)
    off[torch.arange(200), 2 * train.y] = off[torch.arange(200), 2 * train.y + 1] = False
    assert torch.equal(kept[off], train.X[..., :F].sum(1)[off])        # dark features untouched
    assert torch.equal(drop_views(train, 0.0, torch.Generator()).X, train.X)


def test_label_control_trains_on_labels_with_the_distillation_optimiser():
    cfg = override(HeadlineConfig(), TINY)
    train, _ = repeat_data(cfg, 0)
    ctrl, hist = M.label_control(maker("nn", cfg, 3, train, 0), train, cfg.train, cfg.distill)
    assert ctrl.K == cfg.distill.n_students and (hist.stopped_at == cfg.distill.steps).all()
    assert M.distill_phase(cfg.train, cfg.distill).step_size == cfg.distill.step_size
    assert M.distill_phase(cfg.train, cfg.distill).normalise == cfg.distill.normalise


def test_students_batched_across_phases_train_as_if_alone():
    cfg = override(HeadlineConfig(), TINY + ["distill.steps=30"])
    train, _ = repeat_data(cfg, 0)
    for family in ("nn", "ntk", "rf"):
        make = maker(family, cfg, 3, train, 0)
        teachers = M.single(make, train, cfg.train)[0]
        phases = [M.kd_phase(teachers, train, cfg.distill), M.self_distill_phase(teachers, train, cfg.distill),
                  M.label_control_phase(train, cfg.train, cfg.distill)]
        together = M.train_phases(make, phases, train, cfg.train, cfg.distill)[0]
        alone = {"kd": M.kd(make, teachers, train, cfg.train, cfg.distill)[0],
                 "self_distill": M.self_distill(make, teachers, train, cfg.train, cfg.distill)[0],
                 "label_control": M.label_control(make, train, cfg.train, cfg.distill)[0]}
        for name, models in alone.items():
            for a, b in zip(together[name].tensors(), models.tensors()):
                assert torch.allclose(a, b, rtol=1e-4, atol=1e-6), (family, name)
