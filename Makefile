# flanlab's two contract commands: `make run` (the default ablation) and `make test` (the whole suite, what CI runs);
# `make test-fast` runs the unit and config tests only (no subprocess runs, nothing marked slow: under 2 minutes).
# All create or reuse the virtualenv first; a second call's set-up takes about a second.
VENV ?= .venv
PY := $(VENV)/bin/python
# CPU torch by default. GPU users: install your CUDA torch into $(VENV) first (set-up then keeps it),
# or set TORCH_SPEC/TORCH_INDEX, e.g. make setup TORCH_INDEX=https://download.pytorch.org/whl/cu126
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
ARGS ?=
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export HF_EVALUATE_OFFLINE ?= 1

.PHONY: setup run test test-fast lint
setup: $(VENV)/.flanlab-installed

$(VENV)/.flanlab-installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "$(TORCH_SPEC)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

run: setup
	$(PY) -m flanlab +experiment=ablation $(ARGS)

test: setup
	$(PY) -m pytest -q -p no:cacheprovider $(ARGS)

test-fast: setup
	$(PY) -m pytest -q -p no:cacheprovider tests/unit tests/config -m "not slow and not subprocess" $(ARGS)

lint: setup
	$(VENV)/bin/ruff check .
