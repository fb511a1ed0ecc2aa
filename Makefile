# make        build everything (venv, generated syscall files, userland, the disk image)
# make run    boot to the shell          make test   run the test suite
# make bench  print the benchmark figures (ARGS="--rounds 9" for steadier medians)
# make soak   the long hostile run (docs/soak.md)
# make demo-S20  run a seed claim's demo, write its timeline to build/demo-S20.html
# make summary   the seed's reference table: processes, 1:1, M:1, M:N, SA side by side
#                (COSTS=xv6 on this and the run, demo, debug targets: another cost profile)
# make debug PROG=hello   step through a program, gdb-style;  make gdb-server PROG=hello
# make exercise  the exercises (docs/exercises.md);  make sweeps  the charts of docs/sweeps.md
# make lab LAB=uswitch  a lab's student tree in build/labs/;  make grade [LAB=...]  score it (docs/labs.md)
PY      := .venv/bin/python
# make summary COSTS=xv6: the cost profile of the run, demo, debug targets (docs/costs.md)
COSTOPT  = $(if $(COSTS),--costs $(COSTS) )
BUILD   := build
VENV    := .venv/.installed

.PHONY: all run test test-quick bench clean
all: userland $(BUILD)/fs.img $(BUILD)/libblockcount.so

$(VENV): requirements.txt
	python3 -m venv .venv
	.venv/bin/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

include userland/userland.mk

# The disk image: every program in /bin. Rebuilt (wiping what was stored in it) whenever a
# program or the file system's format code changes; run with --disk to keep your own image.
FS_CODE := tools/mkfs.py kernel/fslayout.py kernel/fs.py kernel/diskfs.py kernel/inode.py kernel/bmap.py kernel/log.py kernel/bio.py
$(BUILD)/fs.img: $(USER_PROGS) $(FS_CODE) | $(VENV)
	$(PY) -m tools.mkfs $@ $(USER_PROGS)

# The harts' native instruction counter (emulator/blockcount.c), built for this host with the
# venv's Zig against the headers in the unicorn wheel. If it cannot be built the harts fall
# back to unicorn's count mode (slower; the boot log says so), so a failure does not stop make.
BC_FLAGS := -shared -fPIC -O2 -fomit-frame-pointer -mcpu=baseline -Wall -Wextra
$(BUILD)/libblockcount.so: emulator/blockcount.c | $(VENV)
	@mkdir -p $(@D)
	ZIG_GLOBAL_CACHE_DIR=$(BUILD)/zig-cache ZIG_LOCAL_CACHE_DIR=$(BUILD)/zig-cache \
	  $(PY) -m ziglang cc $(BC_FLAGS) -I "$$($(PY) -c 'import os, unicorn; print(os.path.dirname(unicorn.__file__))')/include" \
	  -o $@ $< || echo "warning: $@ not built: the harts will use unicorn's count mode"

run: all
	$(PY) -m tools.run $(COSTOPT)$(ARGS)

test: all
	$(PY) -m pytest -q -rs -n auto --dist loadfile

test-quick: all
	$(PY) -m pytest -q -rs -n auto --dist loadfile -m "not slow"

bench: all
	$(PY) -m tools.bench $(ARGS)

# make soak [SOAK="--calls 100000"]: fuzzer, state machine and hostile programs (docs/soak.md)
.PHONY: soak
soak: all
	$(PY) -m tools.soak $(SOAK)

# make demo-S20: run a seed claim's demo program (table: tools/demos.py) and write its
# timeline to build/demo-S20.html;  make demos: every demo.
.PHONY: demos
demo-%: all
	$(PY) -m tools.demos $(COSTOPT)$* -o $(BUILD)/demo-$*.html

demos: all
	$(PY) -m tools.demos $(COSTOPT)all

# make summary: the seed's reference table, every thread model side by side (docs/costs.md)
.PHONY: summary
summary: all
	$(PY) -m tools.run $(COSTOPT)summary

# make costs-profiles: docs/costs.md's generated tables: every profile's entries, the
# validation of the calibrated ones, the lecture's demos under each profile (tools/costs.py)
.PHONY: costs-profiles
costs-profiles: all
	$(PY) -m tools.costs profiles --write

# make debug PROG=hello [ARGS="..."] [RUNOPTS="--cpus 2"]: the debugger (docs/debugger.md);
# make gdb-server PROG=hello [PORT=1234]: serve PROG to gdb-multiarch on 127.0.0.1:PORT.
PORT ?= 1234
.PHONY: debug gdb-server
debug: all
	@test -n "$(PROG)" || (echo "usage: make debug PROG=name-or-path [ARGS=...]" && false)
	$(PY) -m tools.debug $(COSTOPT)$(RUNOPTS) $(PROG) $(ARGS)

gdb-server: all
	@test -n "$(PROG)" || (echo "usage: make gdb-server PROG=name-or-path [PORT=1234] [ARGS=...]" && false)
	$(PY) -m tools.run --gdb $(PORT) $(COSTOPT)$(RUNOPTS) $(PROG) $(ARGS)

# make exercise: the list;  make exercise N=12 [SEED=S]: one question;
# make exercise N=12 ANSWER=0 [SEED=S]: check an answer (docs/exercises.md)
.PHONY: exercise sweeps
exercise: all
	$(PY) -m tools.exercise $(if $(N),$(if $(ANSWER),check $(N) '$(ANSWER)',show $(N)),list) $(if $(SEED),--seed $(SEED))

# make sweeps: run the shipped sweeps again, writing their CSV and charts in docs/img (docs/sweeps.md)
sweeps: all
	$(PY) -m tools.sweep --shipped all

clean:
	rm -rf $(BUILD)

# make lab LAB=uswitch: the lab's student tree in build/labs/uswitch (docs/labs.md);
# make grade LAB=uswitch: grade it here (in a student tree: make grade)
.PHONY: lab grade
LAB ?= $(shell cat .lab 2>/dev/null)
lab:
	@test -n "$(LAB)" || (echo "usage: make lab LAB=name   (python -m tools.lab list)" && false)
	$(PY) -m tools.lab make $(LAB)

grade: all
	$(PY) -m tools.lab grade $(LAB)
