"""The view lottery on a small fast config, and the d -> infinity limit against large finite d."""
import pytest
import torch

from multiview.config import override
from multiview.data import DataConfig, Dataset, generate
from multiview.experiment import ExperimentConfig, evaluate, repeat_data, train_models
from multiview.measure import accuracies, learned, view_summary
from multiview.model import ModelConfig, Params, init, phi
from multiview.train import TrainConfig, fit

SMALL = ["data.k=5", "data.n_train=200", "data.n_test=1000", "data.dark_prob=0.5", "train.n_models=8"]


def run(overrides, repeats=2):
    cfg = override(ExperimentConfig(), SMALL + overrides + [f"repeats={repeats}"])
    accs, learns = [], []
    for r in range(cfg.repeats):
        train, test = repeat_data(cfg, r)
        params, _ = train_models(cfg, train, r, quiet=True)
        Ft, Fe = evaluate(params, train, test)
        accs.append({**accuracies(Ft, train, True), **accuracies(Fe, test, False)})
        learns.append(learned(phi(params)))
    mean = {s: torch.stack([a[s] for a in accs]).mean().item() for s in accs[0]}
    return mean, view_summary(torch.cat(learns))


@pytest.fixture(scope="module")
def multiview_run():
    return run([])


def test_single_models_fit_and_generalise_on_multiview_data(multiview_run):
    acc, _ = multiview_run
    assert acc["train"] == 1.0
    assert acc["test_multi"] >= 0.95


def test_single_models_fail_on_about_half_the_single_view_data(multiview_run):
    acc, _ = multiview_run
    assert 0.35 <= acc["test_single"] <= 0.65


def test_each_seed_learns_one_view_per_class_and_the_lottery_is_fair(multiview_run):
    _, views = multiview_run
    assert views["one_view"] >= 0.75
    assert 0.3 <= views["view0_share"] <= 0.7


def test_single_feature_control_learns_its_one_view_with_no_single_view_split():
    acc, views = run(["data.kind=single_feature"], repeats=1)
    assert "test_single" not in acc and acc["test"] >= 0.95
    assert views["one_view"] >= 0.95 and views["view0_share"] == 1.0


def _dense_twin(train: Dataset, params: Params, d: int, gen) -> tuple[Dataset, Params]:
    """The limit data and init embedded in R^d: each training patch's noise is s times a random unit
    vector off the feature span, and the init's noise coordinates are the dense init's projections."""
    N, P, F = train.X.shape
    E = torch.randn(N, P, d - F, generator=gen, dtype=torch.float64)
    E /= E.norm(dim=-1, keepdim=True)
    X = torch.cat([train.X, train.noise_norm * E], dim=-1)
    K, k, m, _ = params.W.shape
    R = torch.randn(K, k, m, d - F, generator=gen, dtype=torch.float64) * params.cfg.init_std
    W = torch.cat([params.W, R], dim=-1)
    C = torch.einsum("kcmd,npd->knpcm", R, E)  # the layout of Params.C: (K, N, P, k, m)
    dense = Dataset(X, train.y, train.single_view, train.view, train.feature_weight, train.patch_feature)
    return dense, Params(W, None, params.cfg, params.seed), Params(params.W, C, params.cfg, params.seed)


def test_large_finite_d_approaches_the_infinite_d_limit():
    train, _ = generate(DataConfig(k=3, P=6, n_train=40, noise="limit", dark_prob=0.5), 0)
    train.X = train.X.double()
    base = init(ModelConfig(m=2), 2, 3, train, seed=0)
    base = Params(base.W.double(), None, base.cfg, base.seed)
    cfg = TrainConfig(n_models=2, max_steps=120, fit_margin=0.0)
    errors = []
    for d in (300, 30000):
        dense, p_dense, p_limit = _dense_twin(train, base, d, torch.Generator().manual_seed(d))
        fd, _ = fit(p_dense, dense, cfg, quiet=True)
        fl, _ = fit(p_limit, train, cfg, quiet=True)
        scale = phi(fl).abs().max()
        errors.append(((phi(fd) - phi(fl)).abs().max() / scale).item())
        assert scale > 10 * base.cfg.varrho  # the runs left the init: something was learned
    print("relative Phi error by d:", errors)
    assert errors[1] < errors[0] / 3
    assert errors[1] < 0.02
