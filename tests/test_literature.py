"""The distillation-literature methods and calibration measures: formulas on hand-made inputs, a cheap
version of each method on a tiny config, and each script end to end."""
import math

import pytest
import torch
import torch.nn.functional as Fn

from multiview import calibration as C, literature as L, methods as M
from multiview.config import override
from multiview.experiment import repeat_data
from multiview.families import maker
from multiview.headline import HeadlineConfig
from multiview.model import logits



class _Fixed:
    """Teachers with given logits on the training set."""
    def __init__(self, F):
        self.F, self.K = F, F.shape[0]

    def logits(self, data):
        return self.F

    def select(self, idx):
        return _Fixed(self.F[list(idx)])


@pytest.fixture
def tiny_setup(tiny_sim):
    return lambda extra=(): _setup(tiny_sim, extra)


def _setup(tiny, extra=()):
    cfg = override(HeadlineConfig(), tiny + list(extra))
    train, test = repeat_data(cfg, 0)
    make = maker("nn", cfg, cfg.data.k, train, 0)
    return cfg, train, test, make


def test_ensemble_targets_average_logits_probabilities_or_relabel():
    F = torch.randn(4, 6, 3)
    t = _Fixed(F)
    assert torch.allclose(L.ensemble_targets(t, None, "logits", 4.0), F.mean(0, keepdim=True))
    probs = torch.softmax(L.ensemble_targets(t, None, "probs", 4.0) / 4.0, -1)
    assert torch.allclose(probs, torch.softmax(F / 4.0, -1).mean(0, keepdim=True), atol=1e-6)
    relabel = torch.softmax(L.ensemble_targets(t, None, "relabel", 4.0), -1)
    assert torch.allclose(relabel, torch.softmax(F, -1).mean(0, keepdim=True), atol=1e-6)
    assert L.relabel_config(M.DistillConfig(T=4.0, alpha=0.5)).T == 1.0


def test_random_teacher_loss_is_one_teachers_kd_loss_per_student_and_step(tiny_setup):
    cfg, train, _, _ = tiny_setup()
    N, k = len(train), cfg.data.k
    F = torch.randn(3, N, k)
    phase = L.random_teacher_phase("random", 0, _Fixed(F), train, cfg.distill, seed=1)
    S, idx = torch.randn(2, N, k), torch.arange(N)
    per_teacher = torch.stack([M.kd_loss(F[i:i + 1], train.y, cfg.distill.T, 1.0)(S, idx) for i in range(3)])
    picks = set()
    for _ in range(20):
        got = phase.loss(S, idx)
        for s in range(2):  # each student's loss is one of the teachers' KD losses
            match = torch.isclose(per_teacher[:, s], got[s]).nonzero()
            assert len(match) >= 1
            picks.add(match[0].item())
    assert picks == {0, 1, 2}   # and every teacher gets drawn


def test_mutual_loss_is_cross_entropy_when_peers_agree_and_pulls_when_they_do_not():
    y = torch.tensor([0, 1, 2, 0])
    same = torch.randn(1, 4, 3).expand(3, 4, 3).clone()
    for balance in (0.0, 0.5):
        loss = L.mutual_loss(y, 4.0, 1.0, balance)
        assert torch.allclose(loss(same, torch.arange(4)), M.cross_entropy(y)(same, torch.arange(4)), atol=1e-6)
    differ = torch.randn(3, 4, 3)
    fwd = L.mutual_loss(y, 4.0, 1.0, 0.0)(differ, torch.arange(4))
    rev = L.mutual_loss(y, 4.0, 1.0, 1.0)(differ, torch.arange(4))
    ce = M.cross_entropy(y)(differ, torch.arange(4))
    assert (fwd > ce).all() and (rev > ce).all() and not torch.allclose(fwd, rev)


def test_mutual_peers_train_together_for_both_phases(tiny_setup):
    cfg, train, _, make = tiny_setup()
    first, peers = L.mutual(make, train, cfg.train, cfg.distill, n_peers=2, balance=0.5)
    assert first.K == peers.K == 2 and not torch.equal(first.W, peers.W)


def test_patch_activations_sum_to_the_logits_and_hints_reduce_their_loss(tiny_setup):
    cfg, train, _, make = tiny_setup(["distill.steps=60"])
    teachers = M.single(make, train, cfg.train)[0]
    a = L.patch_activations(teachers, train)
    assert torch.allclose(a.sum(-1), logits(teachers, train), rtol=1e-4, atol=1e-5)
    target = a.mean(0, keepdim=True)
    students = L.hints(make, teachers, train, cfg.train, cfg.distill, group=30)
    fresh = make(cfg.distill.n_students, 30)
    err = lambda m: (L.patch_activations(m, train) - target).square().sum((2, 3)).mean(1)  # noqa: E731
    assert (err(students) < 0.5 * err(fresh)).all()
    after = L.then_kd(students, teachers, train, cfg.train, cfg.distill)
    assert after.K == students.K and not torch.equal(after.W, students.W)


def test_via_assistants_trains_one_student_per_assistant_at_the_students_width(tiny_setup):
    cfg, train, _, make = tiny_setup()
    narrow = maker("nn", override(cfg, ["model.m=1"]), cfg.data.k, train, 0)
    assistants = M.kd(make, M.single(make, train, cfg.train)[0], train, cfg.train, cfg.distill)[0]
    students = L.via_assistants(narrow, assistants, train, cfg.train, cfg.distill)
    assert students.K == assistants.K and students.W.shape[2] == 1


def test_label_refinery_is_the_born_again_chain_at_temperature_one(monkeypatch, tiny_setup):
    cfg, train, _, make = tiny_setup()
    seen = []
    monkeypatch.setattr(M, "born_again", lambda make, t, train, c, d, g, quiet=True: seen.append(d) or [t])
    L.label_refinery(make, None, train, cfg.train, cfg.distill, 2)
    assert seen[0].T == 1.0 and seen[0].alpha == 1.0


def test_ece_is_zero_when_confidence_matches_accuracy_and_large_when_overconfident():
    n = 4000
    y = torch.zeros(n, dtype=torch.long)
    y[: n // 4] = 1                                       # 75% of samples are class 0
    p = 0.75
    calibrated = torch.log(torch.tensor([p, 1 - p])).expand(n, 2)
    assert C.ece(calibrated, y) < 1e-6
    over = torch.tensor([5.0, 0.0]).expand(n, 2)          # confidence 0.993, accuracy 0.75
    assert abs(C.ece(over, y) - (torch.softmax(over[0], 0)[0].item() - 0.75)) < 1e-6


def test_fitted_temperature_undoes_a_known_sharpening():
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(20000, 5, generator=gen)
    y = torch.multinomial(torch.softmax(z, -1), 1, generator=gen)[:, 0]
    assert abs(C.fit_temperature(3.0 * z, y) - 3.0) < 0.15


def test_class_adaptive_smoothing_targets_each_classs_overconfidence():
    F = torch.tensor([[4.0, 0.0], [4.0, 0.0], [0.0, 4.0], [0.0, 4.0]])
    y = torch.tensor([0, 1, 1, 1])                         # class 0 always right; class 1 half wrong
    eps = C.class_adaptive_eps(F, y, 2)
    conf = torch.softmax(torch.tensor([4.0, 0.0]), 0)[0].item()
    assert eps[0] == 0 and math.isclose(eps[1].item(), conf - 2 / 3, rel_tol=1e-5)
    S, yy = torch.randn(2, 4, 2), torch.tensor([0, 1, 0, 1])
    uniform = C.smoothed_cross_entropy(yy, torch.full((2,), 0.2))(S, torch.arange(4))
    ref = torch.stack([Fn.cross_entropy(S[i], yy, label_smoothing=0.2) for i in range(2)])
    assert torch.allclose(uniform, ref, atol=1e-6)


def _teacher_ensembles(df):
    ways = df.groupby("method").n_teachers.agg(set).to_dict()
    # one teacher: logits = probs = random, so only logits and relabel run; K = 3 caps 10 teachers at 3
    assert ways == {"single": {1}, "ensemble": {3}, "logits": {1, 2}, "relabel": {1, 2}, "probs": {2}, "random": {2}}


def _online_kd(df):
    kinds = ["single", "offline_kd", "mutual_phase1", "mutual", "balanced_phase1", "balanced"]
    assert set(df.method) == set(kinds) | {f"{m}_ensemble" for m in kinds}
    members = df[~df.method.str.endswith("_ensemble")]
    assert members.agreement.between(0, 1).all() and members.groupby("method").agreement.nunique().max() == 1


def _hints(df):
    assert set(df.method) == {"single", "ensemble", "kd", "hints", "hints_then_kd"}
    assert df[df.method == "hints"].model.nunique() == 2  # distill.n_students


def _capacity_gap(df):
    assert set(df.method) == {"single", "ensemble", "kd_direct", "kd_via_assistant", "labels_only"}
    widths = df.groupby("method").width.agg(lambda w: sorted(set(w))).to_dict()
    # students narrower than the assistant (m = 4) go through it too
    assert widths["kd_direct"] == widths["labels_only"] == [1, 2, 4, 8] and widths["kd_via_assistant"] == [1, 2]


def _calibration(df):
    assert set(df.method) == {"single", "ensemble", "kd", "self_distill", "label_smoothing", "class_adaptive_smoothing"}
    assert (df.temperature > 0).all() and (df.ece_scaled <= df.ece + 1e-9).sum() >= 1
    assert (df.conf_missing.dropna() >= 1 / 3 - 1e-6).all()  # a max over 3 softmax outputs


def _label_refinery(df):
    assert set(df.method) == {"born_again", "label_refinery"} and sorted(df.generation.unique()) == [0, 1, 2, 3]
    g0 = df[df.generation == 0].set_index(["method", "model"])[["test", "test_single"]]
    assert g0.loc["born_again"].equals(g0.loc["label_refinery"])  # both chains start from the same teachers
    for _, chain in df.groupby(["method", "model"]):
        assert (chain.sort_values("generation").chain_coverage.diff().dropna() >= 0).all()


CHECKS = {"teacher_ensembles": _teacher_ensembles, "online_kd": _online_kd, "hints": _hints,
          "capacity_gap": _capacity_gap, "calibration": _calibration, "label_refinery": _label_refinery}


@pytest.mark.parametrize("name", list(CHECKS))
def test_literature_sims_end_to_end_on_a_tiny_config(tmp_path, run_sim, tiny_sim, name):
    df = run_sim(name, tmp_path, *tiny_sim)
    CHECKS[name](df)
    assert (tmp_path / f"{name}.png").exists() and (tmp_path / f"{name}.pdf").exists()
