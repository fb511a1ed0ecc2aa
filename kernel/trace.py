"""The kernel's event stream: one structured record per thing that happened.

Off by default: every emitting site is guarded by `if k.events is not None`, one attribute
test, so tracing costs nothing measurable when off. When on, events are appended in the
order they happen, which is deterministic (same seed, same stream), and also passed to
listeners (the debugger's catchpoints); with keep False they are only passed on (a tool
counting events over a long run: kernel/inspect.py's subscribe).

Event kinds and their detail fields:
  switch      a hart starts running thread lwp            name
  off         thread lwp leaves its hart                   why: sleep|yield|preempt|exit|migrate|kill
  sleep       lwp blocks                                   chan
  wakeup      lwp becomes runnable                         chan, by (waking lwp, 0 from an interrupt)
  syscall     lwp enters the kernel by ecall               nr, name
  sysret      the call returns                             nr, ret
  trap        a fault or exception other than ecall        cause, epc, tval
  pagefault   a page fault the kernel resolved (or not)    addr, access, ok
  aspace      a hart switches address space (satp)         pid
  timer       the hart's timer expired                     preempt (bool)
  irq         a device interrupt                           device
  signal      a signal posted to a process                 sig
  fork exec exit lwp_create lwp_exit                       child | path | status | lwp
  uevent      a user-level event (uevent syscall)          code, arg
  upcall      an upcall is written (kernel/sa.py)          type, events, interrupted, ids, kinds
  downcall    sa_setconcurrency / sa_yield / sa_preempt   call, and its argument
  sa_alloc    the vps granted to an SA process change      pid, vps, want
  vp_taken    an activation ends: its vp was taken back    vp, id
  device: added by the disk driver.
"""
from typing import NamedTuple


class Event(NamedTuple):
    time: int           # virtual ns
    hart: int           # -1 when not on a hart (event context)
    pid: int            # 0 for pure kernel threads and event context
    lwp: int            # kernel thread id (an LWP's lwpid); 0 in event context
    kind: str
    detail: dict


def chan_name(chan) -> str:
    """A readable name for a sleep channel: tuples name themselves, objects by class."""
    if isinstance(chan, tuple) and chan and isinstance(chan[0], str):
        return chan[0]
    return type(chan).__name__.lower()


class Tracer:
    def __init__(self, kernel):
        self.k = kernel
        self.listeners = []             # fn(Event), called for each event
        self.keep = True                # append each event to k.events

    def start(self) -> list:
        self.k.events = []
        return self.k.events

    def emit(self, kind: str, t=None, **detail) -> None:
        sched = self.k.sched
        cpu = sched.cur
        if t is None and cpu is not None:
            t = cpu.current
        pid = t.proc.pid if t is not None and t.proc is not None else 0
        ev = Event(sched.now(), cpu.hid if cpu is not None else -1, pid, t.tid if t is not None else 0,
                   kind, detail)
        if self.keep:
            self.k.events.append(ev)
        for fn in self.listeners:
            fn(ev)
