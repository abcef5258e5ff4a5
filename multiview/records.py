"""Tidy records of what happened: the rows of results.csv, views.csv and phi_history.csv, built from
models (or any predictors' logits) and the data they were measured on."""
from __future__ import annotations

import pandas as pd
import torch

from .data import Dataset
from .measure import accuracies, learned, single_view_accuracy_by_view
from .train import History


def accuracy_rows(F_train, F_test, train, test, **labels) -> list[dict]:
    """results.csv rows for K predictors: one per (model, split). labels: family, data, method, repeat.

    The `model` column is each predictor's index 0..K-1 unless a `model` label is given (e.g. -1)."""
    rows = []
    for F, data, is_train in ((F_train, train, True), (F_test, test, False)):
        for split, acc in accuracies(F, data, is_train).items():
            for i, a in enumerate(acc.tolist()):
                rows.append({"model": i, **labels, "split": split, "accuracy": a})
    return rows


@torch.no_grad()
def model_rows(models, train: Dataset, test: Dataset, **labels) -> list[dict]:
    """accuracy_rows of K models, each row with its model's fraction of classes with both views learned."""
    rows = accuracy_rows(models.logits(train), models.logits(test), train, test, **labels)
    both = learned(models.phi()).all(-1).float().mean(-1).cpu()
    return [{**r, "both_views": both[r["model"]].item()} for r in rows]


@torch.no_grad()
def generation_rows(chain: list, test: Dataset, **labels) -> list[dict]:
    """Per generation g and model i of a born-again chain [gen 0, ..., gen G]: test accuracies, the
    fraction of classes with both views, and the chain's coverage: the (class, view) pairs that model
    i's line (its generation-0 teacher and each descendant) has learned so far."""
    rows, seen = [], None
    for g, models in enumerate(chain):
        acc = accuracies(models.logits(test), test, train=False)
        learn = learned(models.phi()).cpu()                    # (S, k, 2)
        seen = learn if seen is None else seen | learn
        rows += [{**labels, "generation": g, "model": i, "test": acc["test"][i].item(),
                  "test_single": acc["test_single"][i].item(), "both_views": learn[i].all(-1).float().mean().item(),
                  "chain_coverage": seen[i].float().mean().item()} for i in range(models.K)]
    return rows


@torch.no_grad()
def view_rows(models, test: Dataset, repeat: int, **labels) -> list[dict]:
    """views.csv rows: Phi, the learned rule and the single-view accuracy of each (model, class, view)."""
    ph = models.phi().cpu()
    learn = learned(ph)
    by_view = single_view_accuracy_by_view(models.logits(test), test, ph.shape[1])
    K, k, _ = ph.shape
    return [{**labels, "repeat": repeat, "model": i, "class": j, "view": l, "phi": ph[i, j, l].item(),
             "learned": int(learn[i, j, l]), "acc_single": by_view[i, j, l].item()}
            for i in range(K) for j in range(k) for l in range(2)]


def history_rows(hist: History, repeat: int) -> pd.DataFrame:
    """Tidy Phi_{j,l}(t): repeat, model, step, class, view, phi (plus loss and train accuracy)."""
    h = hist.stacked()
    T, K, k, _ = h["phi"].shape
    idx = pd.MultiIndex.from_product([range(T), range(K), range(k), range(2)], names=["t", "model", "class", "view"])
    df = pd.DataFrame({"phi": h["phi"].reshape(-1).numpy()}, index=idx).reset_index()
    df["step"] = h["steps"].numpy()[df.t]
    df["loss"] = h["loss"].numpy()[df.t, df.model]
    df["train_acc"] = h["acc"].numpy()[df.t, df.model]
    df.insert(0, "repeat", repeat)
    return df.drop(columns="t")
