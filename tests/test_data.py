import pytest
import torch
from hypothesis import example, given, settings, strategies as st

from multiview.data import DataConfig, generate


def small(**kw):
    base = dict(k=4, n_train=300, n_test=100, P=10, d=60, noise="orthogonal")
    return DataConfig(**{**base, **kw})


def test_features_are_the_first_axes_and_patches_carry_them():
    cfg = small(noise="orthogonal")
    train, _ = generate(cfg, 0)
    F = cfg.n_features
    has = train.patch_feature >= 0
    # a patch carrying feature f has its only feature coordinate at f (feature_noise = 0)
    coords = train.X[..., :F]
    f = train.patch_feature.clamp(min=0)
    on = coords.gather(2, f[..., None])[..., 0]
    assert torch.all(on[has] > 0)
    assert torch.allclose(coords.abs().sum(2)[has], on[has])
    assert torch.all(coords[~has] == 0)


def test_orthogonal_noise_is_off_the_feature_span_and_isotropic_is_not():
    F = 8
    tr_o, _ = generate(small(noise="orthogonal"), 1)
    tr_i, _ = generate(small(noise="isotropic"), 1)
    empty_o = tr_o.X[tr_o.patch_feature < 0]
    empty_i = tr_i.X[tr_i.patch_feature < 0]
    assert torch.all(empty_o[:, :F] == 0)
    assert empty_i[:, :F].abs().max() > 0
    # noise norm s = 1 per patch on average
    assert abs(empty_o.norm(dim=1).mean().item() - 1.0) < 0.05


def test_each_present_feature_has_its_own_patches_and_weights_in_range():
    cfg = small(noise="limit", n_train=2000)
    train, _ = generate(cfg, 2)
    cp = cfg.patches_per_feature
    counts = torch.zeros_like(train.feature_weight).scatter_add_(
        1, train.patch_feature.clamp(min=0), (train.patch_feature >= 0).float())
    present = train.feature_weight > 0
    n = torch.arange(len(train))
    y = train.y
    own = torch.zeros_like(present)
    own[n, 2 * y] = own[n, 2 * y + 1] = True
    # disjoint: one feature per patch; C_p patches per own view, dark_patches per off-class feature
    assert torch.all(counts[present & own] == cp)
    assert torch.all(counts[present & ~own] == cfg.dark_patches)
    assert torch.all(counts[~present] == 0)
    multi = ~train.single_view
    own0, own1 = train.feature_weight[n, 2 * y], train.feature_weight[n, 2 * y + 1]
    lo, hi = cp * cfg.view_weight_min, cp * cfg.view_weight_max
    for w in (own0[multi], own1[multi]):
        assert torch.all((w >= lo) & (w <= hi))
    sv = train.single_view
    strong = torch.where(train.view[sv] == 0, own0[sv], own1[sv])
    weak = torch.where(train.view[sv] == 0, own1[sv], own0[sv])
    assert torch.all((strong >= lo) & (strong <= hi))
    assert torch.allclose(weak, torch.full_like(weak, cfg.rho))
    off = train.feature_weight.clone()
    off[n, 2 * y] = off[n, 2 * y + 1] = 0
    assert torch.all(off[multi] <= cfg.dark_weight + 1e-6)
    assert torch.allclose(off[sv][off[sv] > 0], torch.tensor(cfg.dark_weight_single))
    assert (off[multi] > 0).any()


def test_single_view_fraction_is_mu_and_views_are_balanced():
    train, _ = generate(small(noise="limit", mu=0.3, n_train=4000), 3)
    frac = train.single_view.float().mean().item()
    assert abs(frac - 0.3) < 4 * (0.3 * 0.7 / 4000) ** 0.5
    v = train.view[train.single_view].float().mean().item()
    assert 0.45 < v < 0.55
    assert torch.all(train.view[~train.single_view] == -1)


def test_deterministic_from_seed_and_different_across_seeds():
    a, _ = generate(small(), 5)
    b, _ = generate(small(), 5)
    c, _ = generate(small(), 6)
    assert torch.equal(a.X, b.X) and torch.equal(a.y, b.y)
    assert not torch.equal(a.X, c.X)


def test_dark_weight_zero_removes_dark_knowledge_from_multiview_samples():
    train, _ = generate(small(noise="limit", dark_weight=0.0, dark_weight_min=0.0), 4)
    n = torch.arange(len(train))
    off = train.feature_weight.clone()
    off[n, 2 * train.y] = off[n, 2 * train.y + 1] = 0
    assert torch.all(off[~train.single_view] == 0)


def test_single_feature_control_has_one_view_per_class_and_no_single_view_samples():
    train, test = generate(small(kind="single_feature", noise="limit"), 0)
    for ds in (train, test):
        assert not ds.single_view.any()
        assert torch.all(ds.feature_weight[:, 1::2] == 0)  # second views never appear
        n = torch.arange(len(ds))
        assert torch.all(ds.feature_weight[n, 2 * ds.y] >= 1.0)


def test_gaussian_control_labels_come_from_a_teacher_and_use_every_class():
    train, test = generate(DataConfig(kind="gaussian", k=4, d=20, P=4, n_train=400, n_test=400), 0)
    assert train.X.shape == (400, 4, 20) and train.feature_weight.shape == (400, 0)
    assert train.y.bincount(minlength=4).min() > 20
    a, _ = generate(DataConfig(kind="gaussian", k=4, d=20, P=4, n_train=400, n_test=400), 0)
    assert torch.equal(a.y, train.y)


def test_limit_marks_training_noise_rows_and_fresh_test_noise():
    train, test = generate(small(noise="limit"), 0)
    assert train.X.shape[-1] == 8 and torch.equal(train.noise_rows, torch.arange(len(train)))
    assert test.noise_rows is None and train.noise_norm == 1.0


@settings(max_examples=25, deadline=None)
@example(k=2, P=4, cp=1, mu=1.0, dark_prob=0.0, rho=0.0, dp=1, seed=0)  # absent weak view sorted first
@given(k=st.integers(2, 6), P=st.integers(4, 12), cp=st.integers(1, 2), mu=st.floats(0, 1),
       dark_prob=st.floats(0, 1), rho=st.floats(0, 0.2), dp=st.integers(1, 3), seed=st.integers(0, 2**31))
def test_generator_invariants_hold_for_random_valid_configs(k, P, cp, mu, dark_prob, rho, dp, seed):
    cfg = DataConfig(k=k, P=P, patches_per_feature=cp, mu=mu, dark_prob=dark_prob, rho=rho,
                     dark_patches=dp, n_train=50, n_test=10, noise="limit")
    train, test = generate(cfg, seed)
    assert train.X.shape == (50, P, 2 * k) and train.y.max() < k
    n = torch.arange(50)
    # the strong views of the label are always present; no patch holds two features
    assert torch.all(train.X.sum(1)[n, 2 * train.y + train.view.clamp(min=0)] > 0)
    counts = torch.zeros(50, 2 * k).scatter_add_(1, train.patch_feature.clamp(min=0),
                                                (train.patch_feature >= 0).float())
    assert torch.all((counts == 0) | (counts == cp) | (counts == dp))
    assert torch.all((train.patch_feature >= 0).sum(1) <= P)
    assert torch.allclose(train.X.sum(1), train.feature_weight, atol=1e-5)


def _off_class(ds):
    """(N, F) bool: the features of other classes than each sample's."""
    n = torch.arange(len(ds))
    off = torch.ones_like(ds.feature_weight, dtype=torch.bool)
    off[n, 2 * ds.y] = off[n, 2 * ds.y + 1] = False
    return off


def test_shared_layout_keeps_every_off_class_feature_with_its_full_weight():
    # the draws of labels and off-class features come before any patch is placed, so the own layout
    # with room for every feature (P = 2 C_p + 2 (2k - 2)) holds exactly the features shared keeps
    shared, _ = generate(small(noise="limit", dark_layout="shared"), 3)
    roomy, _ = generate(small(noise="limit", P=16), 3)
    cramped, _ = generate(small(noise="limit"), 3)
    off = _off_class(shared)
    assert torch.allclose(shared.feature_weight[off], roomy.feature_weight[off], atol=1e-6)
    assert (cramped.feature_weight[off] > 0).sum() < (shared.feature_weight[off] > 0).sum()
    assert torch.allclose(shared.X.sum(1), shared.feature_weight, atol=1e-6)


def test_shared_layout_puts_each_off_class_feature_on_dark_patches_patches_some_of_them_a_view_s():
    cfg = small(noise="limit", dark_layout="shared", dark_patches=3, n_train=2000)
    train, _ = generate(cfg, 4)
    off = _off_class(train) & (train.feature_weight > 0)                 # (N, F) present off-class
    coords = train.X.transpose(1, 2)                                     # (N, F, P)
    on = coords > 0
    assert torch.all(on.sum(2)[off] == cfg.dark_patches)
    share = (train.feature_weight / cfg.dark_patches)[..., None].expand_as(coords)
    assert torch.allclose(coords[off][on[off]], share[off][on[off]], atol=1e-6)     # an even split
    # on a view's patches: the expected share of off-class weight is 2 C_p / P = 0.4
    n = torch.arange(len(train))
    view_patch = (train.X[n, :, 2 * train.y] > 0) | (train.X[n, :, 2 * train.y + 1] > 0)   # (N, P)
    off_w = (train.X * _off_class(train)[:, None, :]).sum(2)                               # (N, P)
    frac = (off_w * view_patch).sum() / off_w.sum()
    assert 0.3 < frac < 0.5
    # patch_feature: the own view where there is one, else an off-class feature, else -1
    f = train.patch_feature
    assert torch.all((f[view_patch] // 2) == train.y[:, None].expand_as(f)[view_patch])
    assert torch.all((f[~view_patch] >= 0) == (off_w[~view_patch] > 0))


def test_own_layout_is_the_default_and_its_patches_are_disjoint():
    own, _ = generate(small(noise="limit", dark_layout="own"), 5)
    default, _ = generate(small(noise="limit"), 5)
    assert torch.equal(own.X, default.X) and torch.equal(own.patch_feature, default.patch_feature)
    assert torch.all((own.X > 0).sum(2) <= 1)


def test_a_bad_dark_layout_is_a_one_line_config_error():
    from multiview.config import ConfigError, override
    from multiview.experiment import ExperimentConfig
    with pytest.raises(ConfigError) as err:
        override(ExperimentConfig(), ["data.dark_layout=mixed"])
    assert "\n" not in str(err.value) and "dark_layout='mixed'" in str(err.value) and "own, shared" in str(err.value)
    with pytest.raises(ConfigError, match="dark_patches=13"):
        DataConfig(dark_layout="shared", dark_patches=13)
