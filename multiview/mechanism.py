"""Mechanism experiments: students on parts of the distillation signal, with the growth instrument on.

One repeat trains K teachers (the singles) and then batches of students that differ only in their
loss: every student of a repeat starts from the same seed group, so the variants are paired. Each
fit carries `growth.growth_probe`, so every student's views come with where their growth came from.

Which view is "second": per (model, class), the view that crossed LEARNED_PHI later (or never; if
neither did, the one with the smaller final Phi). For a single network it is the view it lost in
the lottery; for a student, the view distillation has to add.
"""
from __future__ import annotations

import pandas as pd
import torch

from . import channels as ch
from . import growth
from .data import Dataset
from .experiment import NetworkConfig, repeat_data
from .families import maker
from .records import accuracy_rows, model_rows
from .measure import LEARNED_PHI
from .methods import DistillConfig, Phase, ensemble_logits, paper_phase, train_phases
from .seeding import Group, model_seed
from .train import cross_entropy, fit

STUDENTS = Group.KD  # seed group of every student: all variants start from the same inits (paired)


def second_view(phi: torch.Tensor) -> torch.Tensor:
    """(K, k) long: the view that crossed LEARNED_PHI later (ties: smaller final Phi). phi: (T, K, k, 2)."""
    T = phi.shape[0]
    above = phi >= LEARNED_PHI
    cross = torch.where(above.any(0), above.float().argmax(0), T)                # (K, k, 2) first record above
    by_final = phi[-1].argmin(-1)
    return torch.where(cross[..., 0] == cross[..., 1], by_final, (cross[..., 1] > cross[..., 0]).long())


def growth_table(hist, names: list[tuple[str, int]], log_every: int, **labels) -> pd.DataFrame:
    """Per (method, step, view rank, group): the growth of the first / second view from each group,
    mean over the method's (model, class) pairs. names: (method, number of models) in batch order."""
    g = torch.stack(hist.probe)                                                   # (T, K, k, 2, G)
    phi = torch.stack(hist.phi)                                                   # (T', K, k, 2)
    second = second_view(phi)                                                     # (K, k)
    rank = torch.stack([1 - second, second], -1)                                  # (K, k, 2): view index by rank
    ranked = g.gather(3, rank[None, ..., None].expand(g.shape[0], -1, -1, -1, g.shape[-1]))
    rows, a = [], 0
    for name, n in names:
        part = ranked[:, a:a + n].mean((1, 2)) * log_every                        # (T, 2, G)
        a += n
        for t, step in enumerate(hist.probe_steps):
            for r, which in enumerate(("first", "second")):
                rows += [{**labels, "method": name, "step": step, "view": which, "group": grp,
                          "growth": part[t, r, i].item()} for i, grp in enumerate(growth.GROUPS)]
    return pd.DataFrame(rows)


def accounting(hist, names: list[tuple[str, int]], log_every: int, **labels) -> pd.DataFrame:
    """The instrument checked against what happened: per method, the second view's growth summed over
    the records (every log_every steps, each counted log_every times) and its actual change in Phi
    from the first record to the last, mean over (model, class) pairs."""
    est = torch.stack(hist.probe).sum((0, -1)) * log_every                       # (K, k, 2)
    phi = torch.stack(hist.phi)
    pick = second_view(phi)[..., None]
    est, act = est.gather(2, pick)[..., 0], (phi[-1] - phi[0]).gather(2, pick)[..., 0]
    rows, a = [], 0
    for name, n in names:
        rows.append({**labels, "method": name, "estimated": est[a:a + n].mean().item(), "actual": act[a:a + n].mean().item()})
        a += n
    return pd.DataFrame(rows)


def shares(growth_df: pd.DataFrame, view: str = "second") -> pd.DataFrame:
    """Per (repeat, method): each group's share of the view's total growth (columns GROUPS) and the
    total. Shares are signed: a group that pulls the view down has a negative share."""
    g = growth_df[growth_df.view == view].groupby(["repeat", "method", "group"], sort=False).growth.sum()
    t = g.unstack("group")[list(growth.GROUPS)]
    total = t.sum(axis=1)
    out = t.div(total.where(total != 0), axis=0)
    out["total_growth"] = total
    return out.reset_index()


CHANNELS = ("kd", "tckd", "nckd", "kd_target_logit", "kd_nontarget_logits", "kd_multi_view_samples",
            "kd_single_view_samples", "kd_permuted_nontarget", "kd_class_mean_target", "ce+nckd",
            "ce+kd_nontarget_logits", "self_distill", "label_control")


def channel_phases(teachers, train: Dataset, dcfg: DistillConfig, seed: int, names=CHANNELS) -> list[Phase]:
    """Students on each part of the ensemble's soft targets (channels.py), self-distillation and the
    label control (CHANNELS; `names` picks some, in CHANNELS order), all from the same seed group."""
    T, y, S = dcfg.T, train.y, dcfg.n_students
    with torch.no_grad():
        p_t = ch.tempered(ensemble_logits(teachers, train), T)                   # (1, k, N)
        p_self = ch.tempered(teachers.select(range(min(S, teachers.K))).logits(train), T)
    target = torch.arange(p_t.shape[1], device=y.device)[:, None] == y[None, :]  # (k, N)
    gen = torch.Generator().manual_seed(seed)
    losses = {
        "kd": ch.soft_target_loss(p_t, T),
        "tckd": ch.tckd_loss(p_t, y, T),
        "nckd": ch.nckd_loss(p_t, y, T),
        "kd_target_logit": ch.soft_target_loss(p_t, T, logit_mask=target),
        "kd_nontarget_logits": ch.soft_target_loss(p_t, T, logit_mask=~target),
        "kd_multi_view_samples": ch.soft_target_loss(p_t, T, samples=~train.single_view),
        "kd_single_view_samples": ch.soft_target_loss(p_t, T, samples=train.single_view),
        "kd_permuted_nontarget": ch.soft_target_loss(ch.permute_nontarget(p_t, y, gen), T),
        "kd_class_mean_target": ch.soft_target_loss(ch.class_mean_target(p_t, y), T),
    }
    ce = cross_entropy(y)
    for part in ("nckd", "kd_nontarget_logits"):  # alone they never ask for the target: with the labels too
        losses[f"ce+{part}"] = _plus(ce, losses[part])
    phases = [Phase(name, STUDENTS, S, loss) for name, loss in losses.items()]
    phases.append(Phase("self_distill", STUDENTS, p_self.shape[0], ch.soft_target_loss(p_self, T)))
    phases.append(Phase("label_control", STUDENTS, S, cross_entropy(y)))
    assert [p.name for p in phases] == list(CHANNELS)
    return [p for p in phases if p.name in names]


def _plus(a, b):
    return lambda F, idx: a(F, idx) + b(F, idx)


def paper_phases(teachers, train: Dataset, dcfg: DistillConfig, lams) -> list[Phase]:
    """Students under the paper's distillation update at each lam = eta'/eta: from the ensemble
    (paper_kd) and from one teacher each (paper_sd); lam = 0 is the label control."""
    S = dcfg.n_students
    with torch.no_grad():
        ens = ensemble_logits(teachers, train)
        own = teachers.select(range(min(S, teachers.K))).logits(train)
    phases = [Phase("paper_label_control", STUDENTS, S, cross_entropy(train.y))]
    for lam in lams:
        phases.append(paper_phase(f"paper_kd_lam{lam:g}", STUDENTS, ens, train, dcfg, lam))
        phases.append(paper_phase(f"paper_sd_lam{lam:g}", STUDENTS, own, train, dcfg, lam))
    phases.append(paper_phase(f"paper_kd_flat_lam{dcfg.paper_lam:g}", STUDENTS, flat_nontarget(ens, train.y), train,
                              dcfg))
    return phases


def flat_nontarget(F: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Teacher logits with each sample's non-target logits replaced by their mean: the target's
    margin kept, the dark knowledge (which other class, how much) removed. (S, N, k) -> (S, N, k)."""
    target = torch.nn.functional.one_hot(y, F.shape[-1]).bool().expand_as(F)
    rest = F.masked_fill(target, 0.0).sum(-1, keepdim=True) / (F.shape[-1] - 1)
    return torch.where(target, F, rest)


def mechanism_repeat(cfg: NetworkConfig, r: int, device: str, quiet: bool, batches) -> dict[str, pd.DataFrame]:
    """Teachers, then each batch of students; batches: [(phases(teachers, train) -> [Phase],
    distill config)]. Tables: results (model_rows with both_views), growth (growth_table) and accounting."""
    train, test = repeat_data(cfg, r, device)
    make = maker("nn", cfg, cfg.data.k, train, r, device)
    labels = {"family": "nn", "data": "multiview", "repeat": r}
    teachers, hist = fit(make(cfg.train.n_models, Group.TEACHERS), train, cfg.train, quiet=quiet, desc="single",
                         seed=model_seed(cfg.seed, r, Group.TEACHERS), probe=growth.growth_probe)
    rows = model_rows(teachers, train, test, method="single", **labels)
    rows += accuracy_rows(ensemble_logits(teachers, train), ensemble_logits(teachers, test), train, test,
                          method="ensemble", model=-1, **labels)
    every = cfg.train.log_every
    grow = [growth_table(hist, [("single", teachers.K)], every, repeat=r)]
    check = [accounting(hist, [("single", teachers.K)], every, repeat=r)]
    for phases_of, dcfg in batches:
        phases = phases_of(teachers, train)
        students, h = train_phases(make, phases, train, cfg.train, dcfg, quiet, probe=growth.growth_probe)
        for p in phases:
            rows += model_rows(students[p.name], train, test, method=p.name, **labels)
        grow.append(growth_table(h, [(p.name, p.n) for p in phases], every, repeat=r))
        check.append(accounting(h, [(p.name, p.n) for p in phases], every, repeat=r))
    return {"results": pd.DataFrame(rows), "growth": pd.concat(grow, ignore_index=True),
            "accounting": pd.concat(check, ignore_index=True)}


def channel_table(results: pd.DataFrame, growth_df: pd.DataFrame) -> pd.DataFrame:
    """Per method: single-view test accuracy and both-view rate (mean, std over repeats) and each
    group's share of the second view's growth (mean over repeats), in the order methods ran."""
    from .report import by_method

    acc = by_method(results, by=[]).set_index("method")
    sh = shares(growth_df).groupby("method", sort=False).mean(numeric_only=True).drop(columns="repeat")
    sh.columns = [f"share_{c}" if c in growth.GROUPS else c for c in sh.columns]
    return acc.join(sh).loc[list(dict.fromkeys(results.method))].reset_index()


def write_tables(tables: dict, out, figure: str, shown: list[str]) -> pd.DataFrame:
    """A mechanism sim's outputs: results, growth, accounting and channels CSVs, the channel figure
    (`figure`) and the growth figure of the methods `shown`. Returns the channel table."""
    from . import plots
    from .io import write_csv

    for name in ("results", "growth", "accounting"):
        write_csv(tables[name], out / f"{name}.csv")
    table = channel_table(tables["results"], tables["growth"])
    write_csv(table, out / "channels.csv")
    plots.channel_shares(table, out / figure)
    plots.growth_by_group(tables["growth"], [m for m in shown if m in set(table.method)], out / "growth")
    return table
