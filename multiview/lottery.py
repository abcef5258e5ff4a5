"""The lottery predicted before training: which view of each class the initial weights will win.

Allen-Zhu & Li (arXiv 2012.09816, proof of the single-model theorem: "lottery winning") compare,
for class i and view l, the best initial correlation Lambda_{i,l} = max_r [<w_{i,r}(0), v_{i,l}>]^+
and the data's strength for that view S_{i,l}. Near zero sReLU(z) ~ z^q, so the best filter grows
like a tensor power method, Lambda' ~ eta S Lambda^(q-1), whose blow-up time is ~ 1 / (S Lambda^(q-2)):
the view with the larger S_{i,l} Lambda_{i,l}^(q-2) takes off first, fits the multi-view data and
switches the other view's gradient off. The paper's set of winners is, as we read it,
    M = {(i, l): Lambda_{i,l} >= Lambda_{i,3-l} (S_{i,3-l} / S_{i,l})^(1/(q-2)) (1 + 1/log^2 m)},
the same comparison with a small margin; near a tie both views may be learned.
"""
from __future__ import annotations

import pandas as pd
import torch

from .data import Dataset
from .model import Params, phi


def view_strength(train: Dataset, q: int, multi_view_only: bool = True) -> torch.Tensor:
    """S_{i,l} = sum over class-i training samples of sum_p z_p^q over the patches carrying v_{i,l}: (k, 2).

    z_p = X[n, p, f] on the patches with patch_feature == f, f = 2i + l. The paper takes the mean over
    the multi-view training samples only (multi_view_only=True, the default); with False the
    single-view samples count too (their strong view at full weight, the weak one at rho / C_p).
    Sum or mean is the same comparison: the count is common to both views of a class."""
    N, P, _ = train.X.shape
    F = train.feature_weight.shape[1]
    f = train.patch_feature
    own = (f >= 0) & (f // 2 == train.y[:, None])                       # (N, P): a view of the sample's class
    if multi_view_only:
        own &= ~train.single_view[:, None]
    z = train.X[..., :F].gather(2, f.clamp(min=0)[..., None])[..., 0]   # (N, P): weight on the patch's feature
    power = torch.where(own, z.clamp(min=0) ** q, 0.0)
    return torch.zeros(F, dtype=power.dtype, device=power.device).index_add_(
        0, f.clamp(min=0).reshape(-1), power.reshape(-1)).reshape(F // 2, 2)


def init_scores(params: Params, train: Dataset, multi_view_only: bool = True) -> torch.Tensor:
    """The lottery score S_{i,l} Lambda_{i,l}^(q-2) of each model's initial weights: (K, k, 2).

    The larger score of a class is its predicted winner (the paper's set M, without its margin)."""
    q = params.cfg.q
    S = view_strength(train, q, multi_view_only).to(params.W)
    return S * phi(params).clamp(min=0) ** (q - 2)   # Lambda = [Phi]^+ of the init


def predicted_winner(scores: torch.Tensor) -> torch.Tensor:
    """(K, k) long: the view with the larger score (view 0 on an exact tie)."""
    return (scores[..., 1] > scores[..., 0]).long()


def log_score_ratio(scores: torch.Tensor) -> torch.Tensor:
    """(K, k, 2): log(score of this view / score of the other view); > 0 for the predicted winner.

    0 at a tie, where the paper's margin says the prediction means nothing; +-inf where one view's
    best filter starts with no positive correlation at all (nan if neither has)."""
    logs = scores.log()
    return logs - logs.flip(-1)


def swap_views(params: Params) -> Params:
    """A copy of the init with each class's own two view coordinates swapped: W[:, j, :, 2j] <->
    W[:, j, :, 2j + 1] for class j's filters. Everything else (other classes' features, the noise
    coordinates C, the seed) is unchanged, so Lambda swaps and the paper predicts the winner swaps
    wherever S_{i,0} and S_{i,1} are close."""
    W = params.W.detach().clone()
    K, k, m, _ = W.shape
    j = torch.arange(k, device=W.device)
    W[:, j, :, 2 * j], W[:, j, :, 2 * j + 1] = params.W[:, j, :, 2 * j + 1], params.W[:, j, :, 2 * j]
    C = None if params.C is None else params.C.detach().clone()
    return Params(W, C, params.cfg, params.seed)


def prediction_columns(scores: torch.Tensor) -> dict:
    """views.csv's lottery columns from the init's scores (K, k, 2), in its row order (model, class,
    view): predicted (1 for the view the init predicts to win) and log_ratio (log_score_ratio)."""
    predicted = predicted_winner(scores)[..., None] == torch.arange(2, device=scores.device)
    return {"predicted": predicted.int().reshape(-1).cpu().numpy(),
            "log_ratio": log_score_ratio(scores).reshape(-1).cpu().numpy()}


# tables: views.csv's per-view rows as per-pair outcomes, and the swap experiment's rows ------------
PAIR = ["repeat", "model", "class"]


def view_pairs(views: pd.DataFrame) -> pd.DataFrame:
    """views.csv (one row per repeat, model, class, view, with learned, predicted, log_ratio) -> one
    row per (repeat, model, class): n_learned (0, 1, 2); winner, the learned view where exactly one
    was, else -1; predicted, the view the init predicts; log_ratio, log(score_0 / score_1); hit,
    whether the winner is the predicted view (NaN unless exactly one view was learned)."""
    w = views.set_index([*PAIR, "view"])[["learned", "predicted", "log_ratio"]].unstack("view")
    n = w["learned"][0] + w["learned"][1]
    out = pd.DataFrame({"n_learned": n, "winner": w["learned"][1].where(n == 1, -1),
                        "predicted": w["predicted"][1], "log_ratio": w["log_ratio"][0]})
    out["hit"] = (out.winner == out.predicted).astype(float).where(n == 1)
    return out.reset_index()


def winner(learn: torch.Tensor) -> torch.Tensor:
    """(K, k) long from learned views (K, k, 2) bool: the view learned alone, -1 for both or none."""
    return torch.where(learn.sum(-1) == 1, learn[..., 1].long(), -1)


def swap_rows(learn: torch.Tensor, learn_swapped: torch.Tensor, scores: torch.Tensor,
              scores_swapped: torch.Tensor, repeat: int) -> pd.DataFrame:
    """swap.csv rows, one per (model, class): views learned (count) and winner from the init and from
    its swap, each init's predicted winner, log(score_0 / score_1) of the init, and changed (1 where
    the winner moved to the other view, 0 where it stayed, NaN unless one view won in both runs).
    learn*: (K, k, 2) bool; scores*: (K, k, 2)."""
    before, after = winner(learn.cpu()), winner(learn_swapped.cpu())
    changed = torch.where((before >= 0) & (after >= 0), (before != after).float(), float("nan"))
    K, k = before.shape
    cols = {"views_before": learn.sum(-1), "views_after": learn_swapped.sum(-1), "winner_before": before,
            "winner_after": after, "predicted_before": predicted_winner(scores),
            "predicted_after": predicted_winner(scores_swapped), "log_ratio": log_score_ratio(scores)[..., 0],
            "changed": changed}
    df = pd.DataFrame({name: t.cpu().reshape(-1).numpy() for name, t in cols.items()})
    df.insert(0, "class", torch.arange(k).repeat(K).numpy())
    df.insert(0, "model", torch.arange(K).repeat_interleave(k).numpy())
    df.insert(0, "repeat", repeat)
    return df
