"""One experiment = data of one repeat, K models trained on it, and tidy records of what happened.

Seeds: repeat r draws its data from derive(seed, r, 0) and its model inits from derive(seed, r, 1+g)
for model group g, so every number follows from the master seed.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd
import torch
from tqdm.auto import tqdm

from .baselines import NTKConfig, RFConfig
from .cache import Store, code_version, script_file, unit_key
from .config import Int, ListOf, fail, knob, to_dict, validate_fields
from .data import DataConfig, Dataset, generate
from .methods import DistillConfig
from .config import override
from .measure import accuracies, dark_logits, learned, same_filter, single_view_accuracy_by_view, view_summary
from .model import ModelConfig, Params, feature_weights, init, logits
from .seeding import derive
from .train import History, TrainConfig, fit


FAMILIES = ("nn", "ntk", "rf")
METHODS = ("single", "ensemble", "kd", "self_distill", "label_control", "train_average")
PAPER_METHODS = ("kd_paper", "self_distill_paper")  # the paper's distillation update (methods.paper_phase)


@dataclass(frozen=True)
class ExperimentConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = knob(0, Int(0, 2**62), "master seed: every random draw follows from it")
    repeats: int = knob(3, Int(1, 10_000), "R: independent repeats (fresh data and seeds)")

    def __post_init__(self):
        validate_fields(self)


def _gaussian_control() -> DataConfig:
    return DataConfig(kind="gaussian", d=10, P=4, n_train=500, n_test=2000)


@dataclass(frozen=True)
class LearnersConfig:
    """What every headline-style experiment trains and how: the families' models, training,
    distillation, which families and methods run, the master seed and the repeats."""
    model: ModelConfig = field(default_factory=ModelConfig)
    ntk: NTKConfig = field(default_factory=NTKConfig)
    rf: RFConfig = field(default_factory=RFConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    families: str = knob(",".join(FAMILIES), ListOf(FAMILIES), "families to run")
    methods: str = knob(",".join(METHODS), ListOf(METHODS + PAPER_METHODS),
                        "methods to run (ensemble and kd use the singles); kd_paper, self_distill_paper: the "
                        "paper's distillation update (distill.paper_*)")
    seed: int = knob(0, Int(0, 2**62), "master seed: every random draw follows from it")
    repeats: int = knob(3, Int(1, 10_000), "R: independent repeats (fresh data and seeds)")

    def __post_init__(self):
        validate_fields(self)


@dataclass(frozen=True)
class HeadlineConfig(LearnersConfig):
    """The headline: families x methods on multi-view data and on the Gaussian control."""
    data: DataConfig = field(default_factory=DataConfig)
    control: DataConfig = field(default_factory=_gaussian_control)
    datasets: str = knob("multiview,gaussian", ListOf(("multiview", "gaussian")),
                         "data sets: multiview (data.*), gaussian (control.*)")

    def __post_init__(self):
        super().__post_init__()
        if self.control.kind != "gaussian":
            fail("control.kind", self.control.kind, "gaussian (the control data set)")


def repeat_data(cfg, repeat: int, device="cpu", data: DataConfig | None = None) -> tuple[Dataset, Dataset]:
    """One repeat's (train, test) of cfg.data (or `data`), seeded by derive(seed, repeat, 0)."""
    train, test = generate(data or cfg.data, derive(cfg.seed, repeat, 0))
    return train.to(device), test.to(device)


def train_models(cfg: ExperimentConfig, train: Dataset, repeat: int, group: int = 0, device="cpu",
                 quiet=False, loss_fn=None, desc="single") -> tuple[Params, History]:
    """K = cfg.train.n_models fresh models of group `group`, trained on `train`."""
    seed = derive(cfg.seed, repeat, 1 + group)
    params = init(cfg.model, cfg.train.n_models, cfg.data.k, train, seed, device)
    return fit(params, train, cfg.train, loss_fn, quiet=quiet, seed=seed, desc=desc)


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


@torch.no_grad()
def evaluate(params: Params, train: Dataset, test: Dataset):
    return logits(params, train), logits(params, test)


def maker(family: str, cfg, k: int, train: Dataset, repeat: int, device="cpu"):
    """make(K, group) -> K fresh models of `family` for k classes.

    Seeds: derive(seed, repeat, 1 + group) for nn (as train_models), with the family's index appended
    for the baselines, so every family's models are independent draws from the master seed."""
    from .baselines import init_ntk, init_rf

    def make(K: int, group: int):
        tags = (repeat, 1 + group) if family == "nn" else (repeat, 1 + group, FAMILIES.index(family))
        seed = derive(cfg.seed, *tags)
        if family == "nn":
            return init(cfg.model, K, k, train, seed, device)
        if family == "ntk":
            return init_ntk(cfg.ntk, cfg.model, K, k, train, seed, device)
        return init_rf(cfg.rf, cfg.model, K, k, train, seed, device)
    return make


def run_methods(family: str, make, train: Dataset, test: Dataset, cfg, labels: dict, quiet=True):
    """The headline methods of cfg.methods for one family on one repeat's data: single, ensemble,
    kd (+ kd_ensemble, the students' ensemble), self_distill (+ its teachers), label_control (hard
    labels with the distillation optimiser and budget), train_average.

    Returns (results rows, views rows, ensemble-size rows). labels: data, repeat."""
    from . import methods as M

    rows, views, sizes = [], [], []
    lab = {"family": family, **labels}
    has_views = train.feature_weight.shape[1] > 0

    @torch.no_grad()
    def record(method, F_train, F_test, models=None):
        model = {} if F_train.shape[0] > 1 or models is not None else {"model": -1}
        rows.extend(accuracy_rows(F_train, F_test, train, test, method=method, **lab, **model))
        if models is not None and has_views and hasattr(models, "phi"):
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
                curve = M.ensemble_size_curve(F_te[:, mask], test.y[mask])
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
        paper.append(M.paper_phase("kd_paper", 1, M.ensemble_logits(teachers, train), train, cfg.distill))
    if "self_distill_paper" in want:
        with torch.no_grad():
            own = teachers.select(range(min(cfg.distill.n_students, teachers.K))).logits(train)
        paper.append(M.paper_phase("self_distill_paper", 2, own, train, cfg.distill))
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


def run_repeats(name: str, unit, cfg, device: str, quiet: bool, store: Store | None = None,
                repeats=None, parts: list | None = None) -> dict[str, pd.DataFrame]:
    """unit(cfg, repeat, device, quiet) -> tables, for each repeat, through the store; tables concatenated.

    parts: configs whose tables, concatenated, make one repeat (the headline's (data set, family)
    pairs), largest first; default [cfg]. Each (part, repeat) is a unit of work with its own cache
    key (which ignores cfg.repeats, so raising R reuses the repeats already computed and a killed run
    resumes at the first unfinished unit). Missing units run on store.jobs worker processes, each
    stored as it finishes; with one job they run here, in order."""
    store = store or Store(None)
    code = code_version(*filter(None, [script_file(unit)]))
    units = []  # (key, part, repeat), by part then repeat: the largest parts start first
    for part in parts or [cfg]:
        conf = to_dict(part)
        conf.pop("repeats", None)
        for r in range(cfg.repeats) if repeats is None else repeats:
            units.append((unit_key(name, conf, repeat=r, device=torch.device(device).type, code=code), part, r))
    done = {key: store.load(key) for key, _, _ in units}
    todo = [u for u in units if done[u[0]] is None]
    store.hits, store.misses = store.hits + len(units) - len(todo), store.misses + len(todo)
    bar = tqdm(total=len(units), initial=len(units) - len(todo), desc=name, disable=quiet, leave=False)
    try:
        if store.jobs > 1 and len(todo) > 1:
            from joblib import Parallel, delayed, parallel_config
            jobs = min(store.jobs, len(todo))
            threads = max(1, torch.get_num_threads() // jobs)
            tasks = (delayed(compute_unit)(unit, part, r, device, threads, key) for key, part, r in todo)
            with parallel_config(backend="loky", n_jobs=jobs):
                for key, tables in Parallel(return_as="generator_unordered")(tasks):
                    store.save(key, tables)
                    done[key] = tables
                    bar.update()
        else:
            for key, part, r in todo:
                done[key] = unit(part, r, device, quiet)
                store.save(key, done[key])
                bar.update()
    finally:  # also when a unit fails: every unit finished so far is stored
        bar.close()
    order = sorted(range(len(units)), key=lambda i: (units[i][2], i))  # by repeat, then part
    parts_ = [done[units[i][0]] for i in order]
    return {t: pd.concat([p[t] for p in parts_], ignore_index=True) for t in parts_[0]}


def compute_unit(unit, cfg, r: int, device: str, threads: int, key: str):
    """One unit in a worker process (repeats here, sweep points): its share of the cores, denormals
    flushed (set before its first parallel op, so every thread of its pool inherits the mode).
    Its (silent) progress bars lock with a thread lock: tqdm's default multiprocessing lock would be
    reported as a leaked semaphore when a failing unit makes joblib stop this worker."""
    import threading
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    tqdm.set_lock(threading.RLock())
    return key, unit(cfg, r, device, True)


def headline_parts(cfg: HeadlineConfig) -> list[HeadlineConfig]:
    """The headline's units within a repeat: one per (data set, family), the networks first."""
    families = sorted(cfg.families.split(","), key=FAMILIES.index)
    return [replace(cfg, datasets=d, families=f) for f in families for d in cfg.datasets.split(",")]


def kd_variants(cfg: HeadlineConfig, variants: list, r: int, device="cpu", quiet=True,
                label_control: bool = False) -> pd.DataFrame:
    """KD from the ensemble of K networks under each variant (label, [KEY=VALUE, ...]) of cfg, one repeat.

    Teachers are retrained only when a variant changes the data, model or training config. Rows:
    single, ensemble and kd accuracies per split with a `variant` column (with label_control, also the
    label control: students on the hard labels with the variant's distillation optimiser and budget),
    per method the fraction of (model, class) pairs with both views learned and the fraction of those
    held by one filter (measure.same_filter), and per variant the teacher's and the KD students' dark
    logits over the views the teachers know (measure.dark_logits)."""
    from . import methods as M

    rows, teachers, students = [], {}, {}
    nan = float("nan")
    for label, changes in variants:
        vcfg = override(cfg, changes)
        train, test = repeat_data(vcfg, r, device)
        make = maker("nn", vcfg, vcfg.data.k, train, r, device)
        key = (repr(vcfg.data), repr(vcfg.model), repr(vcfg.train))
        if key not in teachers:
            teachers[key] = M.single(make, train, vcfg.train, quiet)[0]
        teach = teachers[key]
        if repr(vcfg) not in students:  # variants that resolve to the same config share their students
            trained = {"kd": M.kd(make, teach, train, vcfg.train, vcfg.distill, quiet)[0]}
            if label_control:
                trained["label_control"] = M.label_control(make, train, vcfg.train, vcfg.distill, quiet)[0]
            students[repr(vcfg)] = trained
        trained = students[repr(vcfg)]
        lab = dict(variant=label, family="nn", data="multiview", repeat=r)
        with torch.no_grad():
            t_dark, s_dark = dark_logits(M.ensemble_logits(teach, train)[0], trained["kd"].logits(train), train,
                                         learned(teach.phi()).any(0))
            predictors = [("single", teach, teach.logits(train), teach.logits(test)),
                          ("ensemble", None, M.ensemble_logits(teach, train), M.ensemble_logits(teach, test))]
            predictors += [(m, s, s.logits(train), s.logits(test)) for m, s in trained.items()]
            for method, models, F_tr, F_te in predictors:
                learn = None if models is None else learned(models.phi())
                both = nan if learn is None else view_summary(learn)["both_views"]
                same = nan if learn is None else same_filter(feature_weights(models), learn)
                rows += [{**x, "both_views": both, "teacher_dark_logit": t_dark, "student_dark_logit": s_dark,
                          "same_filter": same} for x in accuracy_rows(F_tr, F_te, train, test, method=method, **lab)]
    return pd.DataFrame(rows)


def kd_sweep(cfg: HeadlineConfig, sweeps: dict, r: int, device="cpu", quiet=True) -> pd.DataFrame:
    """kd_variants over one-knob sweeps {key: values}: one variant per (key, value), with `knob` and
    `value` columns (variants that resolve to the same config share their runs)."""
    variants = [(f"{key}={v}", [f"{key}={v}"]) for key, values in sweeps.items() for v in values]
    df = kd_variants(cfg, variants, r, device, quiet)
    df[["knob", "value"]] = df.variant.str.split("=", n=1, expand=True)
    df["value"] = df.value.astype(float)
    return df
