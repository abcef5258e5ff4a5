"""The distillation-channel losses against their definitions: full KD, the DKD identity
KD = TCKD + (1 - p_t,target) NCKD per sample, the logit masks splitting the gradient, the transfer
subset, the target surgeries, and the paper's one-sided truncated update."""
import math

import pytest
import torch

from multiview import channels as ch
from multiview import methods as M

S, N, k, T = 2, 9, 5, 3.0


def _setup(seed=0):
    gen = torch.Generator().manual_seed(seed)
    teacher = 3 * torch.randn(1, N, k, generator=gen, dtype=torch.float64)
    y = torch.randint(0, k, (N,), generator=gen)
    F = 2 * torch.randn(S, N, k, generator=gen, dtype=torch.float64, requires_grad=True)
    return teacher, y, F, gen


def test_soft_target_loss_is_the_kd_loss():
    teacher, y, F, _ = _setup()
    a = ch.soft_target_loss(ch.tempered(teacher, T), T)(F, torch.arange(N))
    b = M.kd_loss(teacher, y, T, 1.0)(F, torch.arange(N))
    assert torch.allclose(a, b, atol=1e-12)


def test_kd_is_tckd_plus_weighted_nckd_per_sample():
    teacher, y, F, _ = _setup(1)
    p_t = ch.tempered(teacher, T)
    for n in range(N):
        one = slice(n, n + 1)
        kd = ch.soft_target_loss(p_t[..., one], T)(F[:, one], torch.arange(1))
        tckd = ch.tckd_loss(p_t[..., one], y[one], T)(F[:, one], torch.arange(1))
        nckd = ch.nckd_loss(p_t[..., one], y[one], T)(F[:, one], torch.arange(1))
        w = 1 - p_t[0, y[n], n]
        assert torch.allclose(kd, tckd + w * nckd, atol=1e-12)
        assert (nckd > 1e-6).all() and (tckd > 1e-6).all()


def test_target_and_nontarget_masks_split_the_gradient():
    teacher, y, F, _ = _setup(2)
    p_t = ch.tempered(teacher, T)
    target = torch.arange(k)[:, None] == y[None, :]
    grads = []
    for mask in (None, target, ~target):
        (g,) = torch.autograd.grad(ch.soft_target_loss(p_t, T, logit_mask=mask)(F, torch.arange(N)).sum(), F)
        grads.append(g)
    assert torch.allclose(grads[1] + grads[2], grads[0], atol=1e-12)
    onehot = torch.nn.functional.one_hot(y, k).bool()
    assert torch.all(grads[1][:, ~onehot] == 0) and torch.all(grads[2][:, onehot] == 0)
    assert grads[1].abs().sum() > 0 and grads[2].abs().sum() > 0


def test_transfer_subset_is_the_loss_on_those_samples():
    teacher, y, F, _ = _setup(3)
    p_t = ch.tempered(teacher, T)
    keep = torch.arange(N) % 3 == 0
    a = ch.soft_target_loss(p_t, T, samples=keep)(F, torch.arange(N))
    b = ch.soft_target_loss(p_t[..., keep], T)(F[:, keep], torch.arange(int(keep.sum())))
    assert torch.allclose(a, b, atol=1e-12)


def test_surgeries_keep_what_they_promise():
    teacher, y, _, gen = _setup(4)
    p_t = ch.tempered(teacher, T)
    perm = ch.permute_nontarget(p_t, y, gen)
    onehot = torch.nn.functional.one_hot(y, k).T.bool()[None]                  # (1, k, N)
    assert torch.equal(perm[onehot], p_t[onehot])
    for n in range(N):
        rest = lambda p: torch.sort(p[0, [j for j in range(k) if j != y[n]], n]).values  # noqa: E731
        assert torch.equal(rest(perm), rest(p_t))
    assert not torch.equal(perm, p_t)
    cm = ch.class_mean_target(p_t, y)
    assert torch.allclose(cm.sum(1), torch.ones(1, N, dtype=cm.dtype), atol=1e-12)
    for c in y.unique():
        want = p_t[0, c, y == c].mean()
        assert torch.allclose(cm[0, c, y == c], want.expand(int((y == c).sum())), atol=1e-12)
    ratio = cm[0, :, 0] / p_t[0, :, 0]                                          # non-targets scaled alike
    others = [j for j in range(k) if j != y[0]]
    assert torch.allclose(ratio[others], ratio[others][0].expand(k - 1), atol=1e-12)


def test_paper_update_gradient_is_ce_minus_lam_times_the_one_sided_push():
    teacher, y, F, _ = _setup(5)
    lam, tau = 7.0, ch.paper_tau(k)
    assert math.isclose(tau, 1 / math.log(k) ** 2)
    loss = ch.paper_update_loss(teacher, y, lam, tau)(F, torch.arange(N))
    (g,) = torch.autograd.grad(loss.sum(), F)
    trunc = lambda z: torch.softmax(torch.clamp(tau * tau * z, max=1.0) / tau, -1)  # noqa: E731
    push = torch.relu(trunc(teacher) - trunc(F.detach()))                     # (S, N, k)
    onehot = torch.nn.functional.one_hot(y, k).to(F.dtype)
    want = (torch.softmax(F.detach(), -1) - onehot) / N - lam * push / N
    assert torch.allclose(g, want, atol=1e-12)
    assert (push == 0).any() and (push > 0).any()       # one-sided: some classes are not pushed at all


def test_flat_nontarget_keeps_the_target_and_the_mean_of_the_rest():
    from multiview.mechanism import flat_nontarget
    teacher, y, _, _ = _setup(6)
    flat = flat_nontarget(teacher, y)
    onehot = torch.nn.functional.one_hot(y, k).bool()[None]
    assert torch.equal(flat[onehot], teacher[onehot])
    for n in range(N):
        others = [j for j in range(k) if j != y[n]]
        want = teacher[0, n, others].mean()
        assert torch.allclose(flat[0, n, others], want.expand(k - 1), atol=1e-12)
