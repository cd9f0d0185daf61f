# OSS: the two commands are `make demo` and `make test`.
# Python 3.11, 3.12 or 3.13. PY: the interpreter (default: the virtual environment's own if it exists,
# else the first of python3.13, python3.12, python3.11 that runs). VENV: where the environment lives.
#   make PY=python3.11 test              # .venv made again for 3.11 if it holds another Python
#   make VENV=.venv-3.13 PY=python3.13 test   # one environment per Python side by side (as CI does)
SUPPORTED := 3.11 3.12 3.13
CANDIDATES := python3.13 python3.12 python3.11
VENV ?= .venv
BIN := $(VENV)/bin

ifeq ($(origin PY),undefined)
  ifneq ($(wildcard $(BIN)/python),)
    PY := $(BIN)/python
  else
    PY := $(firstword $(foreach p,$(CANDIDATES),$(shell $(p) -c '' >/dev/null 2>&1 && echo $(p))))
  endif
endif
PYVER := $(if $(PY),$(shell $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null))
STAMP := $(VENV)/.installed-$(PYVER)

.PHONY: install demo test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml setup.py
	@if [ -z "$(PY)" ]; then echo "Python 3.11, 3.12 or 3.13 is needed (none of $(CANDIDATES) runs): install one, or run 'make PY=/path/to/python3.13'"; exit 1; fi
	@case " $(SUPPORTED) " in *" $(PYVER) "*) ;; *) echo "Python 3.11, 3.12 or 3.13 is needed: $(PY) is $(if $(PYVER),Python $(PYVER),not runnable); run 'make PY=/path/to/python3.13'"; exit 1;; esac
	@if [ -x $(BIN)/python ] && [ "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" != "$(PYVER)" ]; then \
	  echo "$(VENV) holds another Python than $(PY) ($(PYVER)): making $(VENV) again"; rm -rf $(VENV); fi
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed*
	@touch $(STAMP)

demo: install
	$(BIN)/python run_station.py --demo

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check oss tests benchmarks run_station.py setup.py tools
	$(BIN)/mypy

bench: install
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
