import pytest

from multiview.config import ConfigError, describe, override
from multiview.experiment import ExperimentConfig


def test_override_sets_nested_keys_with_types():
    cfg = override(ExperimentConfig(), ["data.k=5", "data.mu=0.25", "train.n_models=3", "seed=9",
                                        "data.noise=isotropic"])
    assert (cfg.data.k, cfg.data.mu, cfg.train.n_models, cfg.seed, cfg.data.noise) == (5, 0.25, 3, 9, "isotropic")
    assert isinstance(cfg.data.mu, float) and isinstance(cfg.data.k, int)


@pytest.mark.parametrize("item, words", [
    ("data.kk=3", ["data.kk", "did you mean data.k"]),
    ("data.k=1", ["k=1", ">= 2"]),
    ("data.k=three", ["k", "three"]),
    ("data.mu=1.5", ["mu=1.5", "<= 1"]),
    ("data.mu=nan", ["mu=nan"]),
    ("data.noise=pink", ["noise='pink'", "limit"]),
    ("model.q=2", ["q=2", ">= 3"]),
    ("data.P=3", ["P=3", "patches_per_feature"]),
    ("train.lr_min=1000", ["lr_min=1000", "lr_max"]),
    ("seed", ["KEY=VALUE"]),
])
def test_bad_overrides_name_the_key_and_what_is_allowed(item, words):
    with pytest.raises(ConfigError) as err:
        override(ExperimentConfig(), [item])
    msg = str(err.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg


def test_relation_errors_carry_the_section_prefix():
    with pytest.raises(ConfigError, match=r"^data\.P=3"):
        override(ExperimentConfig(), ["data.P=3"])


def test_help_lists_required_keys_with_defaults():
    text = describe(ExperimentConfig())
    for key in ("data.k", "data.mu", "data.dark_weight", "train.n_models", "seed"):
        assert key in text
