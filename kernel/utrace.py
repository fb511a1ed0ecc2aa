"""Green-thread switches in the event stream (docs/abi.md "Green-thread tracing").

The green-thread library (userland/libc/uthread/) tests one word, `__uthread_trace`, at
each user-level switch; when it is nonzero the switch also makes a uevent(SWITCH, id of the
user thread that runs next) system call, which the kernel records as a `uevent` event with
the time, hart and LWP of the switch (kernel/sysproc.py). uthread_trace(1) sets the word
(S8 measures what it costs). The kernel sets it too, at exec, when it traces green threads
(Kernel.utrace: tools.run --trace and --timeline): it finds the word by its symbol, as a
debugger would, and writes MARK before the program's first instruction.

The reports the kernel asked for are the observer's, not the program's, so they take no
virtual time: the scheduler (Sched.run_hart) recognises such a call as the ecall that ends a
run (trace_only) and, instead of a kernel entry, records it and resumes the LWP (report):
no trap entry or exit, no dispatch, and the stub's STUB instructions taken back from the
run. A program that sets the word itself (uthread_trace(1): S8) pays a system call a switch.

Contracts:
- Untraced, or traced without utrace, nothing here runs: the program's memory, its
  instructions and so the recorded event logs (tests/eventlogs/) are as before.
- The word is found only in an image whose symbol table names it with size 4; otherwise
  (no library, a stripped binary) the program runs untraced.
- Deterministic: the events are the uevent calls, stamped with the time of the stub's first
  instruction once the stub is taken back.
- Cost of the kernel's tracing: none of the call itself. What stays is the library's own
  work to make it: the test of the word falling through to the argument set-up and the call
  (a few instructions a switch), and in M:1 uthread_yield's general path, since its short
  path has no report (docs/trace.md "User threads on the timeline" has the demos' figures).
  A quantum that ends inside the stub leaves the instructions before it counted.
"""
import struct
import weakref

from . import arch
from .sysnum import SYS_uevent
from .vm import PROT_R, Fault

SYMBOL = "__uthread_trace"
SWITCH = 1                       # uevent code of a switch (uthread.h: UTHREAD_EV_SWITCH)
MARK = 2                         # the word's value when the kernel set it (uthread_trace writes 0/1)
STUB = 3                         # instructions of a system call stub: li a7, N; ecall; ret (gensys)

_words = weakref.WeakKeyDictionary()    # symbol table -> the word's address (or None), looked up once


def attach(k, p) -> None:
    """At exec, green-thread tracing on: switch the library's tracing on if p's image has it."""
    addr = p.symbols.address(SYMBOL, size=4) if p.symbols is not None else None
    if addr is None:
        return
    cpu = k.sched.cur
    before = cpu.hart.time if cpu is not None else None
    try:
        p.aspace.copyout(addr, struct.pack("<i", MARK))
    except Fault:
        k.log(f"pid {p.pid} ({p.name}): {SYMBOL} is not writable: green threads not traced")
    if before is not None:
        cpu.hart.time = before                  # the write and its page fault are the observer's


def trace_only(k, t, hart) -> bool:
    """Whether the ecall that ended t's run on hart is a switch report the kernel asked for:
    uevent(SWITCH, id) while the word holds MARK. The word is read without a charge (the
    observer's read); a page not present (never, after attach's write) counts as not MARK."""
    args = arch.syscall_args(hart)
    if args[0] != SYS_uevent or arch.i32(args[1]) != SWITCH:
        return False
    p = t.proc
    if p.symbols is None:
        return False
    addr = _words.get(p.symbols, 0)
    if addr == 0:
        addr = _words[p.symbols] = p.symbols.address(SYMBOL, size=4)
    if addr is None:
        return False
    try:
        pa = p.aspace.resolve(addr, PROT_R)
    except Fault:
        return False
    return struct.unpack("<i", p.aspace.mem.read(pa, 4))[0] == MARK


def report(k, t, hart) -> None:
    """Record the trace-only switch report that ended t's run (after trace_only) and return
    0 from it; the LWP goes straight back to user mode, as if the call took no time."""
    k.event("uevent", t, code=SWITCH, arg=arch.syscall_args(hart)[2])
    hart.set_x(arch.SYSCALL_RET, 0)
