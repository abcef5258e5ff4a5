"""The three learner families as one dict, name -> init(cfg, K, k, train, seed, device): the network
(nn), its linearisation around the init (ntk) and random features (rf). `maker` binds one family to a
repeat's data and seeds: make(K, group) -> K fresh models (methods.Make)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .baselines import NTKConfig, RFConfig, init_ntk, init_rf
from .config import ListOf, knob
from .data import Dataset
from .experiment import ExperimentConfig
from .model import init
from .seeding import model_seed

FAMILIES = {
    "nn": lambda cfg, K, k, train, seed, device: init(cfg.model, K, k, train, seed, device),
    "ntk": lambda cfg, K, k, train, seed, device: init_ntk(cfg.ntk, cfg.model, K, k, train, seed, device),
    "rf": lambda cfg, K, k, train, seed, device: init_rf(cfg.rf, cfg.model, K, k, train, seed, device),
}


def maker(family: str, cfg, k: int, train: Dataset, repeat: int, device="cpu"):
    """make(K, group) -> K fresh models of `family` for k classes.

    Seeds: model_seed(seed, repeat, group) for nn (as experiment.train_models), with the family's index
    appended for the baselines, so every family's models are independent draws from the master seed."""
    init_family = FAMILIES[family]
    index = () if family == "nn" else (list(FAMILIES).index(family),)

    def make(K: int, group: int):
        return init_family(cfg, K, k, train, model_seed(cfg.seed, repeat, group, *index), device)
    return make


@dataclass(frozen=True)
class FamiliesConfig(ExperimentConfig):
    """Every family on one data set: the networks' config with the baselines' and which families run."""
    ntk: NTKConfig = field(default_factory=NTKConfig)
    rf: RFConfig = field(default_factory=RFConfig)
    families: str = knob(",".join(FAMILIES), ListOf(tuple(FAMILIES)), "families to run")
