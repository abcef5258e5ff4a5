"""The lottery predicted from the init: view strength by hand, the score's form, the swap, and the sim's tables."""
import math

import numpy as np
import pandas as pd
import pytest
import torch

from multiview.claims import CLAIMS, check
from multiview.config import override
from multiview.data import DataConfig, Dataset, generate
from multiview.experiment import ExperimentConfig, repeat_data
from multiview.families import maker
from multiview.lottery import (init_scores, log_score_ratio, predicted_winner, swap_views, view_pairs,
                               view_strength)
from multiview.model import ModelConfig, Params, init, phi
from multiview.train import fit

from conftest import TINY_3


def hand_dataset() -> Dataset:
    """k = 2 classes, P = 4 patches, F = 4 features (f = 2 class + view), weights written by hand.

    n0: class 0, multi-view: v_{0,0} at 0.5, v_{0,1} at 1.0, an off-class v_{1,0} at 0.2, and a stray
        0.3 on v_{0,0} in a noise-only patch (neither counts toward S).
    n1: class 1, multi-view: v_{1,0} at 0.8, v_{1,1} at 0.6 and 0.5 (two patches), off-class v_{0,0} at 0.3.
    n2: class 0, single-view of view 0: v_{0,0} at 0.9, the weak v_{0,1} at 0.01."""
    X = torch.zeros(3, 4, 4)
    pf = torch.full((3, 4), -1)
    for n, p, f, z in [(0, 0, 0, 0.5), (0, 1, 1, 1.0), (0, 2, 2, 0.2),
                       (1, 0, 2, 0.8), (1, 1, 3, 0.6), (1, 3, 3, 0.5), (1, 2, 0, 0.3),
                       (2, 0, 0, 0.9), (2, 1, 1, 0.01)]:
        X[n, p, f], pf[n, p] = z, f
    X[0, 3, 0] = 0.3
    y = torch.tensor([0, 1, 0])
    single = torch.tensor([False, False, True])
    return Dataset(X, y, single, torch.tensor([-1, -1, 0]), torch.zeros(3, 4), pf)


def test_view_strength_matches_a_hand_computation():
    multi = view_strength(hand_dataset(), q=4)
    assert torch.allclose(multi, torch.tensor([[0.5 ** 4, 1.0], [0.8 ** 4, 0.6 ** 4 + 0.5 ** 4]]))
    every = view_strength(hand_dataset(), q=3, multi_view_only=False)
    assert torch.allclose(every, torch.tensor([[0.5 ** 3 + 0.9 ** 3, 1.0 + 0.01 ** 3], [0.8 ** 3, 0.6 ** 3 + 0.5 ** 3]]))


def test_view_strength_on_generated_data_matches_a_loop_over_patches():
    train, _ = generate(DataConfig(k=3, P=8, n_train=40, noise="limit"), 1)
    S = torch.zeros(3, 2)
    for n in range(len(train)):
        for p in range(train.X.shape[1]):
            f = int(train.patch_feature[n, p])
            if f >= 0 and f // 2 == int(train.y[n]) and not train.single_view[n]:
                S[f // 2, f % 2] += train.X[n, p, f] ** 4
    assert torch.allclose(view_strength(train, 4), S) and (S > 0).all()


def hand_params(q=4) -> Params:
    """K = 1, k = 2, m = 2, D = 4: class 0's best correlations 0.003 (view 0) and 0.002 (view 1);
    class 1's view 0 is negative on both filters (Lambda = 0), its view 1 is 0.001."""
    W = torch.zeros(1, 2, 2, 4)
    W[0, 0, 0, :2] = torch.tensor([0.003, -0.001])
    W[0, 0, 1, :2] = torch.tensor([0.001, 0.002])
    W[0, 1, 0, 2:] = torch.tensor([-0.001, 0.001])
    W[0, 1, 1, 2:] = torch.tensor([-0.002, -0.004])
    W[0, 0, :, 2:] = 0.05  # class 0's filters on class 1's features: not part of either score
    return Params(W, None, ModelConfig(m=2, q=q), seed=0)


def test_init_scores_are_s_times_lambda_to_the_q_minus_2_and_the_log_ratio_is_antisymmetric():
    data = hand_dataset()
    S = view_strength(data, 4)
    scores = init_scores(hand_params(), data)
    want = torch.stack([S[0] * torch.tensor([0.003, 0.002]) ** 2, S[1] * torch.tensor([0.0, 0.001]) ** 2])[None]
    assert scores.shape == (1, 2, 2) and torch.allclose(scores, want)
    ratio = log_score_ratio(scores)
    assert ratio.shape == (1, 2, 2)
    assert ratio[0, 0, 0].item() == pytest.approx(math.log(S[0, 0] / S[0, 1] * (3 / 2) ** 2), rel=1e-5)
    assert torch.equal(ratio[..., 0], -ratio[..., 1])
    assert ratio[0, 1, 1] == math.inf  # no positive start on view 0: view 1 wins outright
    # class 0: Lambda alone favours view 0 ((3/2)^2), the data favours view 1 (S ratio 1/16): the score says view 1
    assert predicted_winner(scores).tolist() == [[1, 1]] and predicted_winner(phi(hand_params())).tolist() == [[0, 1]]


def test_predicted_winner_is_where_the_log_ratio_is_positive():
    train, _ = generate(DataConfig(k=4, P=8, n_train=60, noise="limit"), 2)
    params = init(ModelConfig(), 16, 4, train, seed=3)
    scores = init_scores(params, train)
    win = predicted_winner(scores)
    ratio = log_score_ratio(scores)
    assert win.shape == (16, 4) and win.dtype == torch.long
    assert torch.equal(win == 1, ratio[..., 1] > 0)
    assert 0 < win.float().mean() < 1  # both views get predicted somewhere
    tie = torch.tensor([[[2.0, 2.0], [0.0, 0.0]]])
    assert predicted_winner(tie).tolist() == [[0, 0]] and log_score_ratio(tie)[0, 0].tolist() == [0.0, 0.0]


def test_swap_views_swaps_lambda_exactly_and_leaves_everything_else():
    train, _ = generate(DataConfig(k=3, P=8, n_train=40, noise="limit"), 0)
    params = init(ModelConfig(m=4), 5, 3, train, seed=4)
    before = params.W.clone()
    swapped = swap_views(params)
    assert torch.equal(params.W, before)  # the original is not touched
    assert torch.equal(phi(swapped), phi(params).flip(-1))
    S = view_strength(train, params.cfg.q)
    assert torch.allclose(init_scores(swapped, train), S * phi(params).clamp(min=0).flip(-1) ** 2)
    assert swapped.C is not params.C and torch.equal(swapped.C, params.C)
    moved = torch.zeros_like(before, dtype=torch.bool)
    for j in range(3):
        moved[:, j, :, 2 * j: 2 * j + 2] = True
    assert torch.equal(swapped.W[~moved], before[~moved])  # other features and noise-free coordinates
    assert not torch.equal(swapped.W, before)


def test_with_equal_view_strength_the_swap_flips_every_predicted_winner():
    data = hand_dataset()
    data.X[1, 3, 3] = 0.0                                             # class 1: one patch per view
    data.X[1, 1, 3] = 0.8
    data.X[0, 1, 1] = 0.5                                             # class 0: 0.5 and 0.5
    assert torch.equal(view_strength(data, 4)[:, 0], view_strength(data, 4)[:, 1])
    params = init(ModelConfig(m=3), 32, 2, data, seed=5)
    before, after = predicted_winner(init_scores(params, data)), predicted_winner(init_scores(swap_views(params), data))
    tie = (phi(params).clamp(min=0) == 0).all(-1)
    assert torch.equal(after[~tie], 1 - before[~tie]) and (~tie).sum() > 50


def test_view_pairs_reads_winner_prediction_and_hit():
    rows = []
    for model, (l0, l1, pred0, ratio) in enumerate([(1, 0, 1, 0.7), (0, 1, 1, 0.2), (1, 1, 0, -0.1), (0, 0, 1, 2.0)]):
        for view, (lrn, pred, lr) in enumerate([(l0, pred0, ratio), (l1, 1 - pred0, -ratio)]):
            rows.append({"repeat": 0, "model": model, "class": 0, "view": view, "learned": lrn, "predicted": pred,
                         "log_ratio": lr})
    p = view_pairs(pd.DataFrame(rows))
    assert p.winner.tolist() == [0, 1, -1, -1] and p.predicted.tolist() == [0, 0, 1, 0]
    assert p.hit.tolist()[:2] == [1.0, 0.0] and p.hit.isna().tolist() == [False, False, True, True]
    assert p.log_ratio.tolist() == [0.7, 0.2, -0.1, 2.0] and p.n_learned.tolist() == [1, 1, 2, 0]


TINY = TINY_3 + ["repeats=2"]


def test_views_per_seed_writes_the_lottery_columns_swap_csv_and_their_claims(tmp_path, run_sim):
    run_sim("views_per_seed", tmp_path, "--no-cache", *TINY)
    t = {name: pd.read_csv(tmp_path / f"{name}.csv") for name in ("results", "views", "swap")}
    _check_views_score_the_init_the_sim_trained(t["views"])
    _check_swap_rows(t["swap"], view_pairs(t["views"]))
    _check_claims(t)
    assert (tmp_path / "lottery_prediction.png").is_file() and (tmp_path / "lottery_swap.pdf").is_file()


def _check_views_score_the_init_the_sim_trained(views):
    """predicted and log_ratio are the scores of the very init that, trained, gives views.csv's Phi."""
    assert {"predicted", "log_ratio"} <= set(views.columns)
    cfg = override(ExperimentConfig(), TINY)
    train, _ = repeat_data(cfg, 1)
    start = maker("nn", cfg, cfg.data.k, train, 1)(cfg.train.n_models, 0)
    v = views[views.repeat == 1].sort_values(["model", "class", "view"])
    assert np.array_equal(v.predicted.to_numpy(), (predicted_winner(init_scores(start, train))[..., None]
                                                   == torch.arange(2)).reshape(-1).int().numpy())
    assert np.allclose(v.log_ratio, log_score_ratio(init_scores(start, train)).reshape(-1).numpy(), rtol=1e-5)
    trained, _ = fit(start, train, cfg.train, quiet=True, seed=start.seed)
    assert np.allclose(v.phi, phi(trained).reshape(-1).numpy(), rtol=1e-5)  # that init is the one trained
    assert (views.groupby(["repeat", "model", "class"]).predicted.sum() == 1).all()


def _check_swap_rows(swap, pairs):
    """One row per pair; changed says whether the winner moved (NaN unless one view won in both runs)."""
    assert len(swap) == 2 * 3 * 3 and not swap.duplicated(["repeat", "model", "class"]).any()
    assert np.array_equal(swap.winner_before, pairs.winner) and np.array_equal(swap.predicted_before, pairs.predicted)
    both = (swap.winner_before >= 0) & (swap.winner_after >= 0)
    assert swap.changed[~both].isna().all()
    assert np.array_equal(swap.changed[both], (swap.winner_before != swap.winner_after)[both].astype(float))
    assert both.any()


def _check_claims(t):
    """The new claims measure the tables (per repeat, then mean); a folder without them is not tested."""
    v = check(CLAIMS["views_per_seed"], t).set_index("claim")
    pairs = view_pairs(t["views"])
    hits = pairs.groupby("repeat").hit.mean().mean()
    assert v.loc["the init predicts the winner"].measured == pytest.approx(hits)
    assert v.loc["swapping the init's views swaps the winner"].measured == pytest.approx(
        t["swap"].groupby("repeat").changed.mean().mean())
    assert v.holds.notna().all()
    old = {"results": t["results"], "views": t["views"].drop(columns=["predicted", "log_ratio"])}
    untested = check(CLAIMS["views_per_seed"], old).set_index("claim")
    assert untested.loc["the init predicts the winner"].holds is None
    assert untested.loc["swapping the init's views swaps the winner"].note.startswith("not tested")
