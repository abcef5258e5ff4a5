"""Test settings for the whole suite (tests/ and the notebooks run by nbmake)."""
import os
import tempfile

import pytest
import torch

# sims and notebooks run by the tests keep their cache in a throwaway folder, never the user's
os.environ["MULTIVIEW_CACHE"] = tempfile.mkdtemp(prefix="multiview-test-cache-")
# test configs are tiny: one thread per process (sims and notebook kernels inherit it) is fastest and
# cannot oversubscribe a shared machine, where spinning threads slowed a tiny headline run 18x
os.environ["OMP_NUM_THREADS"] = "1"
torch.set_num_threads(1)
# notebooks read extra KEY=VALUE overrides from here: the tests shrink their configs (set it beforehand to run
# the notebooks on another config, e.g. to see a closing assertion fail where its claim does not hold)
os.environ.setdefault("MULTIVIEW_NOTEBOOK_ARGS", "train.n_models=3 data.n_train=200 data.n_test=400 train.max_steps=600")
os.environ["MULTIVIEW_HEADLINE_NOTEBOOK_ARGS"] = "distill.steps=600"  # the headline notebook's own keys


@pytest.fixture(autouse=True)
def _same_global_rng():
    """Every test starts from the same global torch RNG state, whatever ran before it (hypothesis
    draws a varying number of examples), so a test's unseeded draws do not depend on the order."""
    torch.manual_seed(0)
