# Everything a newcomer needs: `make demo` and `make test` create .venv and install pinned deps.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# A .venv made by another Python (another version, or one that no longer runs) is made anew,
# never reused: its packages were built for that interpreter.
VERSION_OF = -c 'import sys; print("%d.%d" % sys.version_info[:2])'
ifneq ($(shell $(BIN)/python $(VERSION_OF) 2>/dev/null),$(shell $(PYTHON) $(VERSION_OF)))
$(shell rm -rf $(VENV))
endif
# The whole estate: East US to Central US, East US 2 to its pair (Central US too).
DEMO_ARGS := --snapshot examples/contoso --pair eastus=centralus --target-region paired \
	--principal-id bbbbbbbb-0000-4000-8000-000000000002

.PHONY: demo test lint bench fuzz docs lock browser shellcheck azcli clean

$(STAMP): pyproject.toml requirements.lock
	sh scripts/mkvenv.sh $(PYTHON) $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

# Exit code 1 means "something blocks replication", which is the point of the demo, not a failure.
demo: $(STAMP)
	$(BIN)/asr-preflight check $(DEMO_ARGS) || [ $$? -eq 1 ]

# The HTML report is tested in Debian's Chromium, driven by its ChromeDriver (nothing downloaded
# by the tests themselves): installed here when missing.
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || \
	  { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq chromium chromium-driver >/dev/null; }

# Fix scripts are linted with Debian's shellcheck: installed here when missing.
shellcheck:
	@command -v shellcheck >/dev/null 2>&1 || \
	  { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq shellcheck >/dev/null; }

# The real Azure CLI, only to parse the az command lines fix writes (never to run them): a
# separate environment, since azure-cli pins its own versions of the Azure SDK.
AZCLI := .venv-azcli
$(AZCLI)/.installed-stamp:
	sh scripts/mkvenv.sh $(PYTHON) $(AZCLI)
	$(AZCLI)/bin/python -m pip install --quiet --upgrade pip==25.3
	$(AZCLI)/bin/python -m pip install --quiet azure-cli==2.91.0
	touch $@
azcli: $(AZCLI)/.installed-stamp

# Four workers on two cores: the live tests mostly wait on the local ARM double's sockets.
test: $(STAMP) browser shellcheck azcli
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/python -m pytest -n 4

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts

bench: $(STAMP)
	$(BIN)/python scripts/bench.py
	$(BIN)/python scripts/bench_live.py
	$(BIN)/python scripts/bench_boundary.py
	$(BIN)/python scripts/bench_churn.py

# The property tests, long and random: ASR_FUZZ_EXAMPLES cases each (default 10,000): the
# boundary, and fix on any mix of defects.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q -p no:cacheprovider \
	  tests/test_boundary_properties.py tests/fix/test_fix_properties.py

docs: $(STAMP)
	$(BIN)/python scripts/gen_docs.py

# requirements.lock anew: the newest versions pyproject.toml's ranges and pins allow, tested by
# running make test after it.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip==25.3
	.lock-venv/bin/python -m pip install --quiet '.[dev]'
	{ echo "# Every package of .venv at the versions tested, for 'pip install -c requirements.lock'."; \
	  echo "# Written by 'make lock' from a fresh .venv; edit pyproject.toml, not this file."; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable | grep -iv '^asr-preflight'; } \
	  > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) $(AZCLI) build *.egg-info src/*.egg-info
