# Guest userland: `make userland` builds $(BUILD)/bin/<prog> for every userland/bin/<prog>.c.
# Included by the top-level Makefile, which may set PY (the venv's python), BUILD (output
# directory) and VENV (a file target that installs the venv; built first if set).
PY ?= .venv/bin/python
BUILD ?= build

USER_PROGS := $(patsubst userland/bin/%.c,$(BUILD)/bin/%,$(wildcard userland/bin/*.c))
GENSYS_OUT := kernel/sysnum.py userland/include/sys/syscall.h userland/libc/syscalls.S
LIBC_SRCS := $(sort $(wildcard userland/libc/*.c userland/libc/*.S) userland/libc/syscalls.S)
USER_HDRS := $(sort $(wildcard userland/include/*.h userland/include/*/*.h userland/libc/*.h) \
               userland/include/sys/syscall.h)
LIBC_A := $(BUILD)/libc/libc.a

.PHONY: userland
userland: $(USER_PROGS) kernel/sysnum.py

# gensys rewrites an output only when its content changes; the stamp records the run.
$(BUILD)/.gensys.stamp: kernel/syscalls.tbl tools/gensys.py | $(VENV)
	$(PY) -m tools.gensys
	@mkdir -p $(@D) && touch $@
$(GENSYS_OUT): $(BUILD)/.gensys.stamp ;

$(LIBC_A): $(LIBC_SRCS) $(USER_HDRS) tools/cc.py | $(VENV)
	$(PY) -m tools.cc --libdir $(@D) --libc

$(BUILD)/bin/%: userland/bin/%.c $(LIBC_A) $(USER_HDRS) tools/cc.py userland/user.ld | $(VENV)
	$(PY) -m tools.cc --libdir $(BUILD)/libc -o $@ $<
