"""The headline: every family (families.py) and method (methods.py) on multi-view data and on a
Gaussian control, and the configs of the sims that compare learner families."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd
import torch

from . import methods as M
from .config import ListOf, fail, knob
from .data import DataConfig, Dataset
from .experiment import NetworkConfig, repeat_data
from .families import FAMILIES, FamiliesConfig, maker
from .measure import ensemble_curve
from .predictor import HasViews
from .records import accuracy_rows, view_rows
from .seeding import Group

METHODS = ("single", "ensemble", "kd", "self_distill", "label_control", "train_average")
PAPER_METHODS = ("kd_paper", "self_distill_paper")  # the paper's distillation update (methods.paper_phase)


def _gaussian_control() -> DataConfig:
    return DataConfig(kind="gaussian", d=10, P=4, n_train=500, n_test=2000)


@dataclass(frozen=True)
class LearnersConfig(NetworkConfig, FamiliesConfig):
    """Every family and its distillation: which families and methods run, the baselines' models."""
    methods: str = knob(",".join(METHODS), ListOf(METHODS + PAPER_METHODS),
                        "methods to run (ensemble and kd use the singles); kd_paper, self_distill_paper: the "
                        "paper's distillation update (distill.paper_*)")


@dataclass(frozen=True)
class HeadlineConfig(LearnersConfig):
    """The headline: families x methods on multi-view data and on the Gaussian control."""
    control: DataConfig = field(default_factory=_gaussian_control)
    datasets: str = knob("multiview,gaussian", ListOf(("multiview", "gaussian")),
                         "data sets: multiview (data.*), gaussian (control.*)")

    def __post_init__(self):
        super().__post_init__()
        if self.control.kind != "gaussian":
            fail("control.kind", self.control.kind, "gaussian (the control data set)")


def run_methods(family: str, make, train: Dataset, test: Dataset, cfg, labels: dict, quiet=True):
    """The headline methods of cfg.methods for one family on one repeat's data: single, ensemble,
    kd (+ kd_ensemble, the students' ensemble), self_distill (+ its teachers), label_control (hard
    labels with the distillation optimiser and budget), train_average.

    Returns (results rows, views rows, ensemble-size rows). labels: data, repeat."""
    rows, views, sizes = [], [], []
    lab = {"family": family, **labels}
    has_views = train.feature_weight.shape[1] > 0

    @torch.no_grad()
    def record(method, F_train, F_test, models=None):
        model = {} if F_train.shape[0] > 1 or models is not None else {"model": -1}
        rows.extend(accuracy_rows(F_train, F_test, train, test, method=method, **lab, **model))
        if models is not None and has_views and isinstance(models, HasViews):
            views.extend({**r, "family": family, "data": labels["data"], "method": method}
                         for r in view_rows(models, test, labels["repeat"]))

    def record_models(method, models):
        with torch.no_grad():
            record(method, models.logits(train), models.logits(test), models)

    want = set(cfg.methods.split(","))
    teachers = None
    if want & {"single", "ensemble", "kd", "self_distill", *PAPER_METHODS}:
        teachers, _ = M.single(make, train, cfg.train, quiet)
        record_models("single", teachers)
    if "ensemble" in want:
        with torch.no_grad():
            F_te = teachers.logits(test)
            record("ensemble", M.ensemble_logits(teachers, train), F_te.mean(0, keepdim=True))
            splits = {"test": torch.ones_like(test.single_view)}
            if has_views and test.single_view.any():
                splits["test_single"] = test.single_view
            for split, mask in splits.items():
                curve = ensemble_curve(F_te[:, mask], test.y[mask])
                sizes.extend({**lab, "n_members": n + 1, "split": split, "accuracy": a}
                             for n, a in enumerate(curve.tolist()))
    phases = []  # every distillation phase of this family, trained as one batch
    if "kd" in want:
        phases.append(M.kd_phase(teachers, train, cfg.distill))
    if "self_distill" in want:
        phases.append(M.self_distill_phase(teachers, train, cfg.distill))
    if "label_control" in want:
        phases.append(M.label_control_phase(train, cfg.train, cfg.distill))
    students = M.train_phases(make, phases, train, cfg.train, cfg.distill, quiet)[0] if phases else {}
    paper = []  # the paper's update has its own optimiser: one more batch, paired with kd's and self_distill's seeds
    if "kd_paper" in want:
        paper.append(M.paper_phase("kd_paper", Group.KD, M.ensemble_logits(teachers, train), train, cfg.distill))
    if "self_distill_paper" in want:
        with torch.no_grad():
            own = teachers.select(range(min(cfg.distill.n_students, teachers.K))).logits(train)
        paper.append(M.paper_phase("self_distill_paper", Group.SELF_DISTILL, own, train, cfg.distill))
    if paper:
        students.update(M.train_phases(make, paper, train, cfg.train, M.paper_distill(cfg.distill, cfg.train), quiet)[0])
    for method in PAPER_METHODS:
        if method in students:
            record_models(method, students[method])
    if "kd" in students:
        record_models("kd", students["kd"])
        if students["kd"].K > 1:  # the paper's Figure 6: an ensemble of KD students
            record("kd_ensemble", M.ensemble_logits(students["kd"], train), M.ensemble_logits(students["kd"], test))
    if "self_distill" in students:
        record_models("self_distill", students["self_distill"])
        record_models("self_distill_teacher", teachers.select(range(students["self_distill"].K)))
    if "label_control" in students:
        record_models("label_control", students["label_control"])
    if "train_average" in want:
        avg, _ = M.train_average(make, train, cfg.train, cfg.distill, quiet)
        with torch.no_grad():
            record("train_average", M.combined_logits(avg, train, cfg.distill.average),
                   M.combined_logits(avg, test, cfg.distill.average))
    return rows, views, sizes


def headline_repeat(cfg: HeadlineConfig, r: int, device="cpu", quiet=True) -> dict[str, pd.DataFrame]:
    """One repeat of the headline: every family and method on each data set of cfg.datasets.

    Tables: results (one row per predictor and split), views, ensemble_size."""
    rows, views, sizes = [], [], []
    for name in cfg.datasets.split(","):
        dcfg = cfg.data if name == "multiview" else cfg.control
        train, test = repeat_data(cfg, r, device, data=dcfg)
        for family in cfg.families.split(","):
            make = maker(family, cfg, dcfg.k, train, r, device)
            res = run_methods(family, make, train, test, cfg, {"data": name, "repeat": r}, quiet)
            rows += res[0]
            views += res[1]
            sizes += res[2]
    return {"results": pd.DataFrame(rows), "views": pd.DataFrame(views), "ensemble_size": pd.DataFrame(sizes)}


def headline_parts(cfg: HeadlineConfig) -> list[HeadlineConfig]:
    """The headline's units within a repeat: one per (data set, family), the networks first."""
    families = sorted(cfg.families.split(","), key=list(FAMILIES).index)
    return [replace(cfg, datasets=d, families=f) for f in families for d in cfg.datasets.split(",")]
