# The two commands a newcomer needs (see README.md): `make book` and `make test`.
# They use the active virtual environment, or create `.venv` inside the clone when none is active.
VENV ?= $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),.venv)
BIN := $(VENV)/bin
PYTHON := $(BIN)/python

.PHONY: install book test labs

$(PYTHON):
	python3 -m venv $(VENV)

install: $(PYTHON)
	$(PYTHON) -m pip install -q -e ".[test]"

# Build the book; chapters and solution labs are executed (offline profile where no GPU is present).
book: install
	$(PYTHON) -m utils.course.book_cache
	$(BIN)/jupyter-book build -W --keep-going .
	@echo "open _build/html/index.html"

# Unit tests, labs-in-sync, book build and the t4 smoke test, then every solution re-executed and checked by nbval,
# on two workers; a test file (a notebook's cells) stays on one worker.
test: install
	$(PYTHON) -m pytest -n 2 --dist loadfile tests solutions

# Regenerate the student labs from the solutions.
labs: install
	$(PYTHON) -m utils.course.labgen
