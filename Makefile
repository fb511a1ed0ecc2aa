# make        build everything (venv, generated syscall files, userland)
# make run    boot to the shell          make test   run the test suite
# make bench  print the benchmark figures
PY      := .venv/bin/python
BUILD   := build
VENV    := .venv/.installed

.PHONY: all run test test-quick bench clean
all: userland

$(VENV): requirements.txt
	python3 -m venv .venv
	.venv/bin/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

include userland/userland.mk

run: all
	$(PY) -m tools.run $(ARGS)

test: all
	$(PY) -m pytest -q

test-quick: all
	$(PY) -m pytest -q -m "not slow"

bench: all
	$(PY) -m tools.bench

clean:
	rm -rf $(BUILD)
