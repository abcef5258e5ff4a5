import dataclasses

import pytest
import torch

import multiview._kernel as kernel
from multiview.data import DataConfig, generate
from multiview.model import ModelConfig, Params, init, logits, phi, preactivations, reference_logits, srelu
from multiview.train import TrainConfig, cross_entropy, fit


def test_srelu_values_on_each_piece():
    q, r = 4, 0.1
    z = torch.tensor([-1.0, 0.0, 0.05, 0.1, 0.5], dtype=torch.float64)
    want = torch.tensor([0.0, 0.0, 0.05 ** 4 / (4 * 0.1 ** 3), 0.1 / 4, 0.5 - 0.75 * 0.1], dtype=torch.float64)
    assert torch.allclose(srelu(z, q, r), want)


def test_srelu_and_its_derivative_are_continuous_at_0_and_varrho():
    q, r, eps = 3, 0.2, 1e-7
    for at in (0.0, r):
        z = torch.tensor([at - eps, at + eps], dtype=torch.float64, requires_grad=True)
        s = srelu(z, q, r)
        (g,) = torch.autograd.grad(s.sum(), z)
        assert abs(s[0] - s[1]) < 1e-6
        assert abs(g[0] - g[1]) < 1e-5
    z = torch.tensor([0.5 * r, 2 * r], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(srelu(z, q, r).sum(), z)
    assert torch.allclose(g, torch.tensor([0.5 ** (q - 1), 1.0], dtype=torch.float64))


def _data(noise):
    return generate(DataConfig(k=3, P=6, d=40, n_train=60, n_test=30, noise=noise), 0)


def test_batched_forward_equals_separately_built_models():
    for noise in ("limit", "orthogonal"):
        train, test = _data(noise)
        p = init(ModelConfig(m=3), 4, 3, train, seed=1)
        F = logits(p, train)
        for i in range(4):
            alone = Params(p.W[i:i + 1].clone(), None if p.C is None else p.C[i:i + 1].clone(), p.cfg, p.seed)
            assert torch.allclose(logits(alone, train)[0], F[i], atol=1e-6)


def test_batched_training_equals_training_each_model_alone():
    train, _ = _data("limit")
    cfg = TrainConfig(n_models=3, max_steps=150)
    p = init(ModelConfig(m=3), 3, 3, train, seed=2)
    p64 = Params(p.W.double(), p.C.double(), p.cfg, p.seed)
    train.X = train.X.double()
    batched, hb = fit(p64, train, cfg, quiet=True)
    for i in range(3):
        alone, ha = fit(p64.select([i]), train, cfg, quiet=True)
        assert ha.stopped_at[0] == hb.stopped_at[i]
        assert torch.allclose(alone.W[0], batched.W[i], atol=1e-10)
        assert torch.allclose(alone.C[0], batched.C[i], atol=1e-10)


@pytest.mark.parametrize("family", ["nn", "ntk"])
def test_models_that_fit_leave_the_batch_without_changing_any_result(family):
    """fit() drops a model from the batch once it fits; an explicit loss keeps every model in the batch
    to the end. Same stopping steps, weights and history either way (float64)."""
    from multiview.baselines import NTKConfig, init_ntk
    train, _ = _data("limit")
    train.X = train.X.double()
    cfg = TrainConfig(n_models=4, max_steps=400)
    p = init(ModelConfig(m=3), 4, 3, train, seed=3)
    p = Params(p.W.double(), p.C.double(), p.cfg, p.seed)
    if family == "ntk":
        p = init_ntk(NTKConfig(), ModelConfig(m=3), 4, 3, train, seed=3)
        p.params.W, p.params.C = p.params.W.double(), p.params.C.double()
        p.init.W, p.init.C = p.init.W.double(), p.init.C.double()
    compact, hc = fit(p, train, cfg, quiet=True)
    whole, hw = fit(p, train, cfg, loss_fn=cross_entropy(train.y), quiet=True)
    assert len(set(hc.stopped_at.tolist())) > 1 and hc.stopped_at.min() < cfg.max_steps  # models left early
    assert torch.equal(hc.stopped_at, hw.stopped_at)
    for a, b in zip(compact.tensors(), whole.tensors()):
        assert torch.allclose(a, b, atol=1e-10)
    sc, sw = hc.stacked(), hw.stacked()
    assert torch.equal(sc["steps"], sw["steps"])
    for key in ("loss", "acc", "phi"):
        assert torch.allclose(sc[key], sw[key], atol=1e-10)


def test_phi_reads_each_class_filters_on_its_own_views():
    train, _ = _data("limit")
    p = init(ModelConfig(m=2), 1, 3, train, seed=0)
    p.W.zero_()
    p.W[0, 1, 1, 3] = 2.5   # class 1, filter 1, feature 2*1+1: view 1 of class 1
    p.W[0, 0, 0, 3] = 9.0   # class 0's filter on class 1's view: not part of Phi
    ph = phi(p)
    assert ph[0, 1, 1] == 2.5 and ph[0, 0].abs().max() == 0 and ph[0, 1, 0] == 0


@pytest.mark.parametrize("q", [4, 5, 6])
@pytest.mark.parametrize("noise", ["limit", "isotropic"])
def test_blocked_logits_match_autograd_through_srelu(noise, q, monkeypatch):
    """The blocked forward/backward equals plain autograd through sReLU, for blocks of every size, with
    the gates recomputed in the backward or kept from the forward, for even and odd powers q."""
    train, test = _data(noise)
    p = init(ModelConfig(m=3, q=q, init_std=0.05), 2, 3, train, seed=1)
    W = p.W.double().requires_grad_(True)
    C = None if p.C is None else p.C.double().requires_grad_(True)
    params = Params(W, C, p.cfg, p.seed)
    train.X = train.X.double()
    ref = srelu(preactivations(params, train), q, 0.1).sum(dim=(3, 4))
    w = torch.randn_like(ref)
    g_ref = torch.autograd.grad((ref * w).sum(), params.tensors())
    for chunk, recompute in ((1, 0), (100, 1 << 30), (1 << 19, 0), (1 << 19, 1 << 30)):  # block sizes; gates kept or recomputed
        monkeypatch.setattr(kernel, "CHUNK_ELEMENTS", chunk)
        monkeypatch.setattr(kernel, "RECOMPUTE_MAX_D", recompute)
        got = logits(params, train)
        assert torch.allclose(got, ref)
        for a, b in zip(torch.autograd.grad((got * w).sum(), params.tensors()), g_ref):
            assert torch.allclose(a, b)
    Xs = train.X[:4]  # and the analytic backward passes a finite-difference check
    inputs = [(torch.randn(1, 3, 1, Xs.shape[-1], dtype=torch.float64) * 0.05).requires_grad_(True)]
    if C is not None:
        inputs.append((torch.randn(1, 4, Xs.shape[1], 3, 1, dtype=torch.float64) * 0.05).requires_grad_(True))
    assert torch.autograd.gradcheck(lambda W_, C_=None: kernel.network_logits(Xs, W_, C_, 0.7, 3, 0.1), inputs)


def test_mini_batch_training_reaches_the_same_fit_as_full_batch():
    train, _ = _data("limit")
    p = init(ModelConfig(m=3), 2, 3, train, seed=3)
    full, hf = fit(p, train, TrainConfig(n_models=2, max_steps=400), quiet=True)
    mini, hm = fit(p, train, TrainConfig(n_models=2, max_steps=1500, batch_size=16, log_every=5), quiet=True)
    for model, hist in ((full, hf), (mini, hm)):
        assert (logits(model, train).argmax(-1) == train.y).all()
        assert (hist.stopped_at < hist.stopped_at.new_tensor([400, 1500])[0 if model is full else 1]).all()
    assert not torch.allclose(mini.W, full.W)  # a different path: the batches are random


# The two kernel layouts: the limit (C present, D = 2k, pre-activations recomputed in the backward)
# and finite d (C None, D > RECOMPUTE_MAX_D: the forward keeps the gates for the backward).
LAYOUTS = {"limit": dict(noise="limit"), "finite_d": dict(noise="isotropic", d=kernel.RECOMPUTE_MAX_D + 44)}


def _net64(layout, n_train=60, K=2, m=3):
    """A float64 network with weights large enough to reach every sReLU piece, and its training data."""
    train, _ = generate(DataConfig(k=3, P=6, n_train=n_train, n_test=10, **LAYOUTS[layout]), 0)
    train.X = train.X.double()
    train.noise_norm = 0.7 if train.noise_rows is not None else train.noise_norm  # s != 1: C's factor shows
    p = init(ModelConfig(m=m, init_std=0.05), K, 3, train, seed=1)
    W = p.W.double().requires_grad_(True)
    C = None if p.C is None else p.C.double().requires_grad_(True)
    return Params(W, C, p.cfg, p.seed), train


@pytest.mark.parametrize("layout", LAYOUTS)
def test_kernel_logits_and_gradients_equal_the_reference_forward(layout):
    params, train = _net64(layout)
    assert (params.C is None) == (train.X.shape[-1] > kernel.RECOMPUTE_MAX_D)
    ref = reference_logits(params, train)
    got = logits(params, train)
    assert torch.allclose(got, ref, rtol=1e-10, atol=1e-12)
    w = torch.randn_like(ref)
    tensors = params.tensors()
    for a, b in zip(torch.autograd.grad((got * w).sum(), tensors), torch.autograd.grad((ref * w).sum(), tensors)):
        assert b.abs().max() > 0 and torch.allclose(a, b, rtol=1e-10, atol=1e-12)
    frozen = Params(*(None if t is None else t.detach() for t in (params.W, params.C)), params.cfg, params.seed)
    assert torch.allclose(logits(frozen, train), ref, rtol=1e-10, atol=1e-12)  # no gradient: no gates kept


@pytest.mark.parametrize("layout", LAYOUTS)
def test_jacrev_of_the_logits_equals_the_autograd_jacobian(layout):
    """torch.func.jacrev runs the kernel's backward under vmap (its unblocked path): the Jacobian in
    W (and C) equals autograd's Jacobian of the plain reference forward."""
    params, train = _net64(layout, n_train=5)
    cfg, seed, primals = params.cfg, params.seed, tuple(t.detach() for t in params.tensors())

    def net(f):
        return lambda W, C=None: f(Params(W, C, cfg, seed), train)
    argnums = tuple(range(len(primals)))
    got = torch.func.jacrev(net(logits), argnums=argnums)(*primals)
    want = torch.autograd.functional.jacobian(net(reference_logits), primals)
    for a, b in zip(got, want):
        assert a.shape == b.shape and b.abs().max() > 0
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)
    (g,) = torch.autograd.grad(logits(params, train)[1, 2, 0], params.W)  # one row, by ordinary autograd
    assert torch.allclose(got[0][1, 2, 0], g, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_vmap_of_the_logits_over_inputs_is_the_kernel_on_each_input(layout):
    """vmap over a batch of inputs gives exactly (bitwise) the logits of each input alone, and its
    gradient in W the sum of theirs."""
    params, train = _net64(layout, n_train=8)
    test = dataclasses.replace(train, noise_rows=None)  # fresh noise: any X has logits
    Xs = torch.stack([test.X, test.X.flip(0), 2 * test.X])

    def F(X):
        return logits(params, dataclasses.replace(test, X=X))
    got = torch.func.vmap(F, randomness="same")(Xs)
    alone = torch.stack([F(X) for X in Xs])
    assert torch.equal(got, alone)
    w = torch.randn_like(got)
    (a,) = torch.autograd.grad((got * w).sum(), params.W)
    (b,) = torch.autograd.grad((alone * w).sum(), params.W)
    assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)
