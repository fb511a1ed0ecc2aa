# Guest userland: `make userland` builds $(BUILD)/bin/<prog> for every userland/bin/<prog>.c.
# Included by the top-level Makefile, which may set PY (the venv's python), BUILD (output
# directory) and VENV (a file target that installs the venv; built first if set).
PY ?= .venv/bin/python
BUILD ?= build

USER_PROGS := $(patsubst userland/bin/%.c,$(BUILD)/bin/%,$(wildcard userland/bin/*.c))
GENSYS_OUT := kernel/sysnum.py userland/include/sys/syscall.h userland/libc/syscalls.S
LIBC_SRCS := $(sort $(wildcard userland/libc/*.c userland/libc/*.S) userland/libc/syscalls.S)
LIBC_PARTS := $(wildcard userland/libc/*/*.c)      # included by a libc source (uthread.c)
USER_HDRS := $(sort $(wildcard userland/include/*.h userland/include/*/*.h userland/libc/*.h) \
               userland/include/sys/syscall.h)
LIBC_A := $(BUILD)/libc/libc.a

.PHONY: userland
userland: $(USER_PROGS) $(BUILD)/.gensys.stamp

# gensys rewrites an output only when its content changes, so an output may stay older
# than the table: the stamp records the run, and the libc (so every program) depends on
# the stamp. An output does not depend on the stamp: it would stay older than it for ever,
# and `make -n`/`make -q`, which cannot look at a file after its rule has run, would then
# list a full rebuild when there is nothing to do. A missing output is made again.
$(BUILD)/.gensys.stamp: kernel/syscalls.tbl tools/gensys.py | $(VENV)
	$(PY) -m tools.gensys
	@mkdir -p $(@D) && touch $@
$(GENSYS_OUT): | $(VENV)
	$(PY) -m tools.gensys

$(LIBC_A): $(BUILD)/.gensys.stamp $(LIBC_SRCS) $(LIBC_PARTS) $(USER_HDRS) tools/cc.py | $(VENV)
	$(PY) -m tools.cc --libdir $(@D) --libc

$(BUILD)/bin/%: userland/bin/%.c $(LIBC_A) $(USER_HDRS) tools/cc.py userland/user.ld | $(VENV)
	$(PY) -m tools.cc --libdir $(BUILD)/libc -o $@ $<

# A program cut into parts (userland/bin/PROG/*.c, #included by PROG.c) depends on them too.
$(BUILD)/bin/sh: $(wildcard userland/bin/sh/*.c)
