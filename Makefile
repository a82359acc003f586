# Two commands on a fresh machine: `make demo` and `make test`. Each does its own setup.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The Data Docs browser test opens the page in Debian's chromium, and the `ykt check` tests open the
# annotated workbooks in Debian's headless LibreOffice (tests only, not the demo). The report tests
# print exceptions.xlsx (LibreOffice) and report.html (Chromium) to PDF and read the pages back with
# poppler's pdftotext; fonts-noto-cjk makes the PDFs show Chinese instead of empty boxes.
CHROMIUM := /usr/bin/chromium
SOFFICE := /usr/bin/soffice
PDFTOTEXT := /usr/bin/pdftotext
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_HOME := $(CURDIR)/.prefect
export GX_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120

.PHONY: demo test lint fmt bench bench-province clean setup

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3 python3-venv >/dev/null; }
	$(PYTHON) -m venv $(VENV) || { apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ykt demo

test: lint $(CHROMIUM) $(SOFFICE) $(PDFTOTEXT) $(CJK_FONT)
	$(BIN)/python -m pytest

# The project's habits, checked before the tests (`make fmt` fixes what can be fixed).
LINTED := src tests flows schemas sample_data bench
lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/sqlfluff lint --disable-progress-bar rules src/ykt
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(STAMP)
	$(BIN)/ruff check --fix $(LINTED)
	$(BIN)/ruff format $(LINTED)
	$(BIN)/sqlfluff fix --disable-progress-bar rules src/ykt

$(CHROMIUM):
	apt-get update -qq && apt-get install -y -qq chromium >/dev/null

$(SOFFICE):
	apt-get update -qq && apt-get install -y -qq libreoffice-calc-nogui >/dev/null

$(PDFTOTEXT):
	apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null

$(CJK_FONT):
	apt-get update -qq && apt-get install -y -qq fonts-noto-cjk >/dev/null

bench: $(STAMP)
	$(BIN)/python bench/bench.py

# a province night: 20 counties × 500k entitlements on each engine, and the province rules over the lake
bench-province: $(STAMP)
	$(BIN)/python bench/province.py

clean:
	rm -rf $(VENV) out demo_out .prefect *.duckdb
