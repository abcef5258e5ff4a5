"""KD under variants of one config: teachers trained once per distinct (data, model, training) and
students per distinct config, one row per predictor and split with a `variant` column."""
from __future__ import annotations

import pandas as pd
import torch

from . import methods as M
from .config import override
from .experiment import repeat_data
from .families import maker
from .measure import dark_logits, learned, same_filter, view_summary
from .model import feature_weights
from .records import accuracy_rows


def kd_variants(cfg, variants: list, r: int, device="cpu", quiet=True,
                label_control: bool = False) -> pd.DataFrame:
    """KD from the ensemble of K networks under each variant (label, [KEY=VALUE, ...]) of cfg, one repeat.

    Teachers are retrained only when a variant changes the data, model or training config. Rows:
    single, ensemble and kd accuracies per split with a `variant` column (with label_control, also the
    label control: students on the hard labels with the variant's distillation optimiser and budget),
    per method the fraction of (model, class) pairs with both views learned and the fraction of those
    held by one filter (measure.same_filter), and per variant the teacher's and the KD students' dark
    logits over the views the teachers know (measure.dark_logits)."""
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


def kd_sweep(cfg, sweeps: dict, r: int, device="cpu", quiet=True) -> pd.DataFrame:
    """kd_variants over one-knob sweeps {key: values}: one variant per (key, value), with `knob` and
    `value` columns (variants that resolve to the same config share their runs)."""
    variants = [(f"{key}={v}", [f"{key}={v}"]) for key, values in sweeps.items() for v in values]
    df = kd_variants(cfg, variants, r, device, quiet)
    df[["knob", "value"]] = df.variant.str.split("=", n=1, expand=True)
    df["value"] = df.value.astype(float)
    return df
