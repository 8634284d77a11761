# The two commands a newcomer needs (see README.md): `make book` and `make test`.
PYTHON ?= python3

.PHONY: install book test labs

install:
	$(PYTHON) -m pip install -e ".[test]"

# Build the book; chapters and solution labs are executed (offline profile where no GPU is present).
book: install
	jupyter-book build -W --keep-going .
	@echo "open _build/html/index.html"

# Unit tests, labs-in-sync and book checks, then every solution re-executed and checked by nbval.
test: install
	$(PYTHON) -m pytest tests solutions --nbval-lax --nbval-current-env

# Regenerate the student labs from the solutions.
labs:
	$(PYTHON) -m utils.labgen
