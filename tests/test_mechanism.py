"""The mechanism sims end to end on tiny configs, and the measurements they rest on."""
import pandas as pd
import torch

from multiview import growth
from multiview.mechanism import second_view, shares


def test_second_view_is_the_later_to_cross_the_learned_threshold():
    # (T=3, K=1, k=4, 2): view 1 crosses first; view 0 crosses first; neither (smaller final); both at once
    phi = torch.tensor([[[[0.0, 0.6], [0.6, 0.0], [0.1, 0.2], [0.7, 0.9]]],
                        [[[0.7, 0.8], [0.7, 0.1], [0.2, 0.1], [0.8, 0.9]]],
                        [[[0.9, 0.9], [0.8, 0.2], [0.3, 0.1], [0.8, 0.9]]]])
    assert second_view(phi).tolist() == [[0, 1, 1, 0]]


def test_shares_are_signed_fractions_of_the_total():
    rows = [{"repeat": 0, "method": "kd", "view": "second", "group": g, "growth": v, "step": 0}
            for g, v in zip(growth.GROUPS, (2.0, 1.0, 0.0, 2.0, -1.0))]
    s = shares(pd.DataFrame(rows)).iloc[0]
    assert s.total_growth == 4.0 and s.own_multi == 0.5 and s.rest == -0.25 and s.dark == 0.5


def _channels(out):
    return pd.read_csv(out / "channels.csv").set_index("method")


def test_kd_channels_sim(tmp_path, run_sim, tiny_sim):
    out = tmp_path / "kc"
    res = run_sim("kd_channels", out, *tiny_sim, "train.log_every=1")
    want = {"single", "ensemble", "kd", "tckd", "nckd", "kd_target_logit", "kd_nontarget_logits",
            "kd_multi_view_samples", "kd_single_view_samples", "kd_permuted_nontarget", "kd_class_mean_target",
            "ce+nckd", "ce+kd_nontarget_logits", "self_distill", "label_control"}
    assert set(res.method) == want
    g = pd.read_csv(out / "growth.csv")
    assert set(g.group) == set(growth.GROUPS) and set(g.view) == {"first", "second"}
    assert set(g.method) == want - {"ensemble"}
    # students of a transfer set of multi-view samples only get no growth from single-view samples
    multi = g[(g.method == "kd_multi_view_samples") & g.group.isin(["own_same", "own_other"])]
    assert (multi.growth == 0).all() and (g[g.method == "kd"].growth != 0).any()
    t = _channels(out)
    cols = [f"share_{x}" for x in growth.GROUPS]
    ok = t.total_growth.abs() > 1e-9
    assert ((t.loc[ok, cols].sum(axis=1) - 1).abs() < 1e-5).all()   # the CSV keeps 6 digits
    assert (out / "claims.csv").exists() and (out / "growth.png").exists()
    # recorded every step, the instrument's total is the second view's actual change in Phi
    acc = pd.read_csv(out / "accounting.csv").set_index("method")
    assert set(acc.index) == want - {"ensemble"}
    assert ((acc.estimated - acc.actual).abs() <= 0.02 * acc.actual.abs() + 1e-6).all()


def test_paper_update_sim_and_headline_methods(tmp_path, run_sim, tiny_sim):
    out = tmp_path / "pu"
    res = run_sim("paper_update", out, *tiny_sim, "distill.paper_steps=30")
    assert {"paper_label_control", "paper_kd_lam10", "paper_sd_lam1000"} <= set(res.method)
    head = run_sim("ensemble_vs_ntk", tmp_path / "hl", *tiny_sim, "families=nn", "datasets=multiview",
                   "methods=single,ensemble,kd,kd_paper,self_distill_paper", "distill.paper_steps=30")
    assert {"kd_paper", "self_distill_paper"} <= set(head.method)
    assert head[head.method == "self_distill_paper"].model.nunique() == 2   # one student per teacher (n_students)
