"""The growth instrument: its group contributions sum to the full gradient on each view's
coordinate (float64), the groups partition the samples, and fit's probe leaves training unchanged."""
import pytest
import torch

from multiview import growth
from multiview.data import DataConfig, generate
from multiview.model import ModelConfig, Params, init
from multiview.train import TrainConfig, cross_entropy, fit


def _double(p: Params) -> Params:
    return Params(p.W.double(), None if p.C is None else p.C.double(), p.cfg, p.seed)


def _setup(noise="limit", seed=0):
    cfg = DataConfig(k=3, P=8, n_train=40, n_test=10, noise=noise, d=30, mu=0.3)
    train, _ = generate(cfg, seed)
    train.X = train.X.double()
    # an init large enough that every group's pull is well above rounding
    params = _double(init(ModelConfig(init_std=0.05), 2, 3, train, seed + 1))
    return train, params


@pytest.mark.parametrize("noise", ["limit", "isotropic"])
def test_group_contributions_sum_to_the_gradient_of_each_views_coordinate(noise):
    train, params = _setup(noise)
    for t in params.tensors():
        t.requires_grad_(True)
    F = params.logits(train)
    F.retain_grad()
    loss = cross_entropy(train.y)(F, torch.arange(len(train))).sum()
    loss.backward()
    parts = growth.group_growth(params, train, F.grad)                     # (K, k, 2, G)
    K, k = parts.shape[:2]
    own = params.W[..., : 2 * k].reshape(K, k, -1, k, 2)[:, torch.arange(k), :, torch.arange(k)]
    best = own.permute(1, 0, 2, 3).argmax(2)                               # (K, k, 2)
    want = torch.empty(K, k, 2, dtype=torch.float64)
    for a in range(K):
        for j in range(k):
            for l in range(2):
                want[a, j, l] = -params.W.grad[a, j, best[a, j, l], 2 * j + l]
    assert torch.allclose(parts.sum(-1), want, rtol=1e-10, atol=1e-14)
    assert (parts.abs() > 1e-12).sum() > parts.numel() // 3               # not a sum of zeros


def test_groups_partition_the_samples_and_match_their_definitions():
    train, _ = _setup()
    masks = growth.group_masks(train)                                      # (G, N, k, 2)
    assert torch.equal(masks.sum(0), torch.ones_like(masks[0], dtype=torch.long))
    g = dict(zip(growth.GROUPS, masks))
    for n in range(len(train)):
        y = train.y[n].item()
        for j in range(3):
            for l in range(2):
                if y == j and not train.single_view[n]:
                    assert g["own_multi"][n, j, l]
                elif y == j:
                    assert g["own_same" if train.view[n] == l else "own_other"][n, j, l]
                else:
                    assert g["dark" if train.feature_weight[n, 2 * j + l] > 0 else "rest"][n, j, l]
    assert g["dark"].any() and g["own_same"].any() and g["own_other"].any()


def test_the_probe_records_the_step_times_the_rate_and_leaves_training_unchanged():
    train, _ = _setup()
    params = init(ModelConfig(), 2, 3, train.to("cpu"), 5)
    train.X = train.X.float()
    cfg = TrainConfig(max_steps=40, log_every=1, fit_margin=1e6)
    plain, _ = fit(params, train, cfg, quiet=True, steps=40)
    probed, hist = fit(params, train, cfg, quiet=True, steps=40, probe=growth.growth_probe)
    assert all(torch.equal(a, b) for a, b in zip(plain.tensors(), probed.tensors()))
    assert hist.probe_steps == list(range(40))
    # one step: the view's coordinate on its filter moves by exactly the recorded rate (sum of groups)
    one, _ = fit(params, train, cfg, quiet=True, steps=1)
    k = 3
    own0 = params.W[..., : 2 * k].reshape(2, k, -1, k, 2)[:, torch.arange(k), :, torch.arange(k)]
    best = own0.permute(1, 0, 2, 3).argmax(2)
    moved = (one.W - params.W)[..., : 2 * k].reshape(2, k, -1, k, 2)[:, torch.arange(k), :, torch.arange(k)]
    moved = moved.permute(1, 0, 2, 3).gather(2, best[:, :, None]).squeeze(2)   # (K, k, 2)
    assert torch.allclose(hist.probe[0].sum(-1), moved, rtol=1e-4, atol=1e-9)
    rows = growth.growth_rows(hist.probe_steps, hist.probe, cfg.log_every, method="single")
    assert len(rows) == 40 * 2 * 3 * 2 * len(growth.GROUPS) and set(rows.group) == set(growth.GROUPS)
