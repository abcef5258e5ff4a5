# Set-up is automatic: the first target you run makes .venv and installs the package into it.
# TORCH pins the CPU wheel that installs fast here; elsewhere pick your build, e.g.
#   make test TORCH="torch"            (whatever pip chooses, CUDA builds included)
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin

.PHONY: headline lottery kd-regime baseline-width train-average-variants sweep-example figures test \
        benchmark benchmark-quick notebook clean explanation literature tables mechanisms

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[test]"
	touch $@

headline: $(VENV)/.installed
	$(BIN)/python sims/ensemble_vs_ntk.py $(ARGS)

lottery: $(VENV)/.installed
	$(BIN)/python sims/views_per_seed.py $(ARGS)

kd-regime: $(VENV)/.installed
	$(BIN)/python sims/kd_regime.py $(ARGS)

baseline-width: $(VENV)/.installed
	$(BIN)/python sims/baseline_width.py $(ARGS)

train-average-variants: $(VENV)/.installed
	for v in mean separate; do \
	  $(BIN)/python sims/ensemble_vs_ntk.py --out figures/train_average_$$v families=nn datasets=multiview distill.average=$$v $(ARGS) || exit 1; \
	done

# an example sweep: the headline's networks as the single-view fraction mu varies
sweep-example: $(VENV)/.installed
	$(BIN)/python sims/sweep.py --out figures/sweep_mu --grid data.mu=0.05,0.1,0.2 repeats=2 methods=single,ensemble,kd $(ARGS)

# the explanation experiments: ensemble size, dark knowledge, generations, view dropout, real digits
explanation: $(VENV)/.installed
	for s in ensemble_size self_distillation view_dropout dark_knowledge real_digits; do \
	  $(BIN)/python sims/$$s.py $(ARGS) || exit 1; \
	done

# the distillation literature: teacher ensembles, online KD, hints, capacity gap, calibration, label refinery
literature: $(VENV)/.installed
	for s in teacher_ensembles online_kd hints capacity_gap calibration label_refinery; do \
	  $(BIN)/python sims/$$s.py $(ARGS) || exit 1; \
	done
	$(BIN)/python sims/calibration.py --out figures/calibration_margin10 train.fit_margin=10 $(ARGS)

# the mechanisms: which part of the distillation signal carries a lost view, at the defaults and in a
# regime closer to the paper's data (REGIME), and the paper's own distillation update
REGIME ?= data.dark_patches=1 data.dark_weight_min=0.3 data.dark_weight=0.4 data.mu=0.05
mechanisms: $(VENV)/.installed
	$(BIN)/python sims/kd_channels.py $(ARGS)
	$(BIN)/python sims/kd_channels.py --out figures/kd_channels_regime $(REGIME) $(ARGS)
	$(BIN)/python sims/kd_channels.py --out figures/kd_channels_regime_no_dark $(REGIME) data.dark_weight_min=0 \
	  data.dark_weight=0 variants=kd,kd_multi_view_samples,kd_single_view_samples,self_distill,label_control $(ARGS)
	$(BIN)/python sims/paper_update.py $(ARGS)
	$(BIN)/python sims/paper_update.py --out figures/paper_update_no_dark data.dark_weight=0 $(ARGS)
	$(BIN)/python sims/ensemble_vs_ntk.py --out figures/headline_paper_update families=nn datasets=multiview \
	  methods=single,ensemble,kd,self_distill,label_control,kd_paper,self_distill_paper $(ARGS)
	$(BIN)/python sims/patch_layout.py $(ARGS)

# every figure in figures/, each folder with its CSVs and config.json. Finished repeats come from the
# cache, so a second run only re-plots; `make figures ARGS=--force` retrains everything.
figures: lottery headline kd-regime baseline-width train-average-variants sweep-example explanation literature mechanisms
	$(MAKE) tables

# from the figures' CSVs: each folder's claims.csv, and the measured tables README and paper_notes quote
# (python -m multiview.claims exits 1 when a claim fails: a result, not an error of this target)
tables: $(VENV)/.installed
	$(BIN)/python -m multiview.claims --write $(wildcard figures/*/) > /dev/null || test $$? -eq 1
	$(BIN)/python -m multiview.tables

benchmark-quick: $(VENV)/.installed
	$(BIN)/python benchmarks/speed.py --quick

benchmark: $(VENV)/.installed
	$(BIN)/python benchmarks/speed.py

notebook: $(VENV)/.installed
	$(BIN)/pip install -q -e ".[notebooks]"
	$(BIN)/jupyter lab notebooks/

test: $(VENV)/.installed
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
