"""The KD loss and its gradient against their closed forms, and the normalised step against its
definition: each test fails on a plausible slip (sum for mean over samples, a lost T factor, a
missing detach, a sign flip, a wrong norm, a shared step that is not shared)."""
from types import SimpleNamespace

import pytest
import torch

from multiview import methods as M
from multiview.data import DataConfig, generate
from multiview.model import ModelConfig, init
from multiview.train import TrainConfig, cross_entropy, fit, normalised_step

S, N, k = 3, 7, 4  # students, training samples, classes


def _closed_form_grad(s, t, y, T, alpha, n):
    """d loss / d s of alpha T^2 KL(p_t || p_s) + (1 - alpha) CE, each a mean over n samples:
    alpha T (p_s - p_t) / n + (1 - alpha) (softmax(s) - onehot(y)) / n."""
    ps, pt = torch.softmax(s / T, -1), torch.softmax(t / T, -1)
    onehot = torch.nn.functional.one_hot(y, s.shape[-1]).to(s.dtype)
    return alpha * T * (ps - pt) / n + (1 - alpha) * (torch.softmax(s, -1) - onehot) / n


@pytest.mark.parametrize("alpha", [1.0, 0.6])
@pytest.mark.parametrize("one_teacher", [True, False])
def test_kd_loss_and_gradient_equal_the_closed_form(alpha, one_teacher):
    gen = torch.Generator().manual_seed(0)
    t = 3 * torch.randn(1 if one_teacher else S, N, k, generator=gen, dtype=torch.float64)
    y = torch.randint(0, k, (N,), generator=gen)
    s = torch.randn(S, N, k, generator=gen, dtype=torch.float64, requires_grad=True)
    T = 2.5
    loss = M.kd_loss(t, y, T, alpha)(s, torch.arange(N))
    assert loss.shape == (S,)
    tt = t.expand(S, N, k)
    kl = (torch.softmax(tt / T, -1) * (torch.log_softmax(tt / T, -1) - torch.log_softmax(s / T, -1))).sum(-1)
    ce = torch.nn.functional.cross_entropy(s.reshape(-1, k), y.repeat(S), reduction="none").view(S, N)
    want = alpha * T * T * kl.mean(1) + (1 - alpha) * ce.mean(1)
    assert torch.allclose(loss, want, atol=1e-12)
    (g,) = torch.autograd.grad(loss.sum(), s)
    assert torch.allclose(g, _closed_form_grad(s.detach(), tt, y, T, alpha, N), atol=1e-12)


def test_kd_loss_on_a_sub_batch_uses_the_teachers_rows_of_that_batch():
    gen = torch.Generator().manual_seed(1)
    t = torch.randn(S, N, k, generator=gen, dtype=torch.float64)
    y = torch.randint(0, k, (N,), generator=gen)
    idx = torch.tensor([5, 0, 3])
    s = torch.randn(S, len(idx), k, generator=gen, dtype=torch.float64, requires_grad=True)
    T, alpha = 4.0, 0.7
    loss = M.kd_loss(t, y, T, alpha)(s, idx)
    (g,) = torch.autograd.grad(loss.sum(), s)
    assert torch.allclose(g, _closed_form_grad(s.detach(), t[:, idx], y[idx], T, alpha, len(idx)), atol=1e-12)
    # the same samples given as the whole set: the same loss
    whole = M.kd_loss(t[:, idx], y[idx], T, alpha)(s, torch.arange(len(idx)))
    assert torch.allclose(loss, whole, atol=1e-12)


def test_one_sided_gradient_holds_its_weight_fixed():
    """T^2 sum_i w_i (-log p_s,i) with w = relu(p_t - p_s) held fixed has gradient
    T (W p_s - w) / n, W = sum_i w_i; differentiating through w would add other terms."""
    gen = torch.Generator().manual_seed(2)
    t = 2 * torch.randn(1, N, k, generator=gen, dtype=torch.float64)
    y = torch.randint(0, k, (N,), generator=gen)
    s = 2 * torch.randn(S, N, k, generator=gen, dtype=torch.float64, requires_grad=True)
    T = 3.0
    loss = M.kd_loss(t, y, T, 1.0, one_sided=True)(s, torch.arange(N))
    ps, pt = torch.softmax(s.detach() / T, -1), torch.softmax(t / T, -1)
    w = torch.relu(pt - ps)
    assert (w == 0).any() and (w > 0).any()  # both sides of the relu occur
    want = T * T * (w * -torch.log(ps)).sum(-1).mean(1)
    assert torch.allclose(loss, want, atol=1e-12)
    (g,) = torch.autograd.grad(loss.sum(), s)
    assert torch.allclose(g, T * (w.sum(-1, keepdim=True) * ps - w) / N, atol=1e-12)


def _model_with_grads(K=3, seed=0):
    train, _ = generate(DataConfig(k=3, P=8, n_train=20, n_test=1), 0)
    p = init(ModelConfig(m=2), K, 3, train, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    p.W.grad = torch.randn(p.W.shape, generator=gen)
    p.C.grad = 3 * torch.randn(p.C.shape, generator=gen)
    p.W.grad[0, 1] *= 1e-4  # a tiny block, so lr_max clamps it
    p.C.grad[0, :, :, 1] *= 1e-4
    return p


def _class_first(t, dim):
    """(K, ..., k, ...) -> (K, k, rest): each (model, class) block as one row."""
    return t.movedim(dim, 1).reshape(t.shape[0], t.shape[dim], -1)


def _free_rates(p, normalise, shared, eta):
    """eta / ||g|| per (model, class) block, one (K, k) table per tensor: class normalises W and C
    together, tensor each alone; shared sums the squared norm over the K models."""
    sq = [_class_first(t.grad, d).square().sum(-1) for t, d in zip(p.tensors(), p.class_dims)]
    if normalise == "class":
        sq = [sum(sq)] * len(sq)
    if shared:
        sq = [q.sum(0, keepdim=True).expand_as(q) for q in sq]
    return [eta / q.sqrt() for q in sq]


def _expected_step(p, rates, lo, hi, active):
    """The definition: each block moves by -lr * grad, lr = clamp(rate, lo, hi), 0 for inactive models."""
    out = []
    for t, d, rate in zip(p.tensors(), p.class_dims, rates):
        lr = rate.clamp(lo, hi) * active[:, None]
        step = -(lr[..., None] * _class_first(t.grad, d))
        out.append(step.reshape(t.movedim(d, 1).shape).movedim(1, d))
    return out


@pytest.mark.parametrize("normalise", ["class", "tensor"])
@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("chunk", [1 << 17, 7, 50])  # norms in one pass; chunks of rows; a model's block at once
def test_normalised_step_is_minus_the_clamped_rate_times_the_gradient(normalise, shared, chunk, monkeypatch):
    import multiview.train as mt
    monkeypatch.setattr(mt, "SQUARES_CHUNK", chunk)
    p = _model_with_grads()
    rates = _free_rates(p, normalise, shared, eta=0.5)
    every = torch.cat([r.flatten() for r in rates]).unique()
    assert len(every) >= 3
    lo, hi = every[1].item(), every[-2].item()  # both clamps bind on some blocks
    cfg = TrainConfig(step_size=0.5, lr_min=lo, lr_max=hi, normalise=normalise)
    active = torch.tensor([True, True, False])
    want = _expected_step(p, rates, lo, hi, active)
    q = p.detach()
    q.W.grad, q.C.grad = p.W.grad, p.C.grad
    normalised_step(q, cfg, active, shared=shared)
    for before, after, dw in zip(p.tensors(), q.tensors(), want):
        assert torch.allclose(after - before, dw, rtol=1e-5, atol=1e-9)
    assert torch.equal(q.W[2], p.W[2]) and torch.equal(q.C[2], p.C[2])  # an inactive model stays
    assert not torch.equal(q.W[0], p.W[0])


def test_shared_step_moves_the_k_sub_networks_of_a_class_by_eta_together():
    p = _model_with_grads()
    cfg = TrainConfig(step_size=0.5, lr_min=1e-9, lr_max=1e9)
    q = p.detach()
    q.W.grad, q.C.grad = p.W.grad, p.C.grad
    normalised_step(q, cfg, torch.ones(3, dtype=torch.bool), shared=True)
    moved = sum(_class_first(a - b, d).square().sum(-1) for a, b, d in zip(q.tensors(), p.tensors(), p.class_dims))
    assert torch.allclose(moved.sum(0).sqrt(), torch.full((3,), 0.5), rtol=1e-4)  # (k,): over all K together
    assert not torch.allclose(moved.sqrt(), torch.full((3, 3), 0.5), rtol=1e-2)    # not each on its own


def test_equal_lr_clamps_give_plain_gradient_descent():
    p = _model_with_grads()
    cfg = TrainConfig(step_size=0.5, lr_min=0.3, lr_max=0.3)
    q = p.detach()
    q.W.grad, q.C.grad = p.W.grad, p.C.grad
    normalised_step(q, cfg, torch.ones(3, dtype=torch.bool))
    for before, after in zip(p.tensors(), q.tensors()):
        assert torch.allclose(after, before - 0.3 * before.grad, rtol=1e-6, atol=1e-7)


def _avg_setup():
    train, _ = generate(DataConfig(k=3, P=6, n_train=40, n_test=1, noise="limit"), 0)
    return train, init(ModelConfig(m=2), 3, 3, train, seed=0)


@pytest.mark.parametrize("average", ["sum", "mean", "separate"])
def test_each_trained_average_variant_trains_its_own_predictor_with_its_own_step(average):
    """sum / separate: the loss of F = sum_k F_k; mean: of (1/K) sum_k F_k. sum / mean: one step per
    class shared by the K sub-networks (the class's whole block moves by eta); separate: each
    sub-network's block moves by eta."""
    train, p0 = _avg_setup()
    cfg = TrainConfig(n_models=3, step_size=0.05, lr_min=1e-9, lr_max=1e9)
    one, hist = fit(p0, train, cfg, quiet=True, average=average, steps=1)
    F0 = p0.logits(train)
    F0 = F0.mean(0, keepdim=True) if average == "mean" else F0.sum(0, keepdim=True)
    assert torch.allclose(hist.loss[0], cross_entropy(train.y)(F0, torch.arange(len(train))), rtol=1e-5)
    moved = sum(_class_first(a - b, d).square().sum(-1) for a, b, d in zip(one.tensors(), p0.tensors(),
                                                                             p0.class_dims))  # (K, k)
    if average == "separate":
        assert torch.allclose(moved.sqrt(), torch.full((3, 3), 0.05), rtol=1e-3)
    else:
        assert torch.allclose(moved.sum(0).sqrt(), torch.full((3,), 0.05), rtol=1e-3)
        assert not torch.allclose(moved.sqrt(), torch.full((3, 3), 0.05), rtol=1e-2)
    # and the gradient is the combined predictor's: the direction of one plain step on its loss
    q = p0.detach()
    for t in q.tensors():
        t.requires_grad_(True)
    F = q.logits(train)
    F = F.mean(0, keepdim=True) if average == "mean" else F.sum(0, keepdim=True)
    cross_entropy(train.y)(F, torch.arange(len(train))).sum().backward()
    for a, b, t in zip(one.tensors(), p0.tensors(), q.tensors()):
        cos = torch.nn.functional.cosine_similarity((a - b).flatten(), -t.grad.flatten(), dim=0)
        assert cos > 0.5
    assert hist.stopped_at.shape == (1,)


def test_trained_average_stops_when_the_combined_predictor_fits():
    train, p0 = _avg_setup()
    cfg = TrainConfig(n_models=3, max_steps=300)
    avg, hist = fit(p0, train, cfg, quiet=True, average="mean")
    F = M.combined_logits(avg, train, "mean")
    margin = F[0].gather(1, train.y[:, None])[:, 0] - F[0].scatter(1, train.y[:, None], -torch.inf).amax(1)
    stop = int(hist.stopped_at[0])
    assert stop < cfg.max_steps and margin.min() >= cfg.fit_margin
    # a sub-network alone does not fit: the K are one predictor
    alone = avg.logits(train)
    assert ((alone.argmax(-1) == train.y).float().mean(1) < 1).any()
