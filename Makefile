# Two commands a new user needs: `make run` (set up, then simulate china_ban) and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test dashboard lint bench clean

$(STAMP): pyproject.toml
	@PYTHON_BIN=$$(.ci/find-python) || exit 1; \
	  echo "using $$PYTHON_BIN"; \
	  "$$PYTHON_BIN" -m venv --clear $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/sim run scenarios/china_ban.yaml

test: $(STAMP)
	@sh .ci/install-browser
	$(PY) -m pytest -n 2

dashboard: $(STAMP)
	$(VENV)/bin/sim dashboard scenarios/china_ban.yaml

lint: $(STAMP)
	$(VENV)/bin/ruff check sim tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info
