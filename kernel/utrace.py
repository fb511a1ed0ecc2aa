"""Green-thread switches in the event stream (docs/abi.md "Green-thread tracing").

The green-thread library (userland/libc/uthread/) tests one word, `__uthread_trace`, at
each user-level switch; when it is nonzero the switch also makes a uevent(SWITCH, id of the
user thread that runs next) system call, which the kernel records as a `uevent` event with
the time, hart and LWP of the switch (kernel/sysproc.py). uthread_trace(1) sets the word
(S8 measures what it costs). The kernel sets it too, at exec, when it traces green threads
(Kernel.utrace: tools.run --trace and --timeline): it finds the word by its symbol, as a
debugger would, and writes 1 before the program's first instruction.

Contracts:
- Untraced, or traced without utrace, nothing here runs: the program's memory, its
  instructions and so the recorded event logs (tests/eventlogs/) are as before.
- The word is found only in an image whose symbol table names it with size 4; otherwise
  (no library, a stripped binary) the program runs untraced.
- Deterministic: the events are the uevent calls, stamped like any system call.
- Cost when tracing: one system call per switch (about 400 ns of virtual time on the linux
  profile; docs/trace.md "User threads on the timeline" has the demos' figures).
"""
import struct

from .vm import Fault

SYMBOL = "__uthread_trace"
SWITCH = 1                       # uevent code of a switch (uthread.h: UTHREAD_EV_SWITCH)


def attach(k, p) -> None:
    """At exec, green-thread tracing on: switch the library's tracing on if p's image has it."""
    addr = p.symbols.address(SYMBOL, size=4) if p.symbols is not None else None
    if addr is None:
        return
    try:
        p.aspace.copyout(addr, struct.pack("<i", 1))
    except Fault:
        k.log(f"pid {p.pid} ({p.name}): {SYMBOL} is not writable: green threads not traced")
