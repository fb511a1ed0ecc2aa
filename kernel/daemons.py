"""Pure kernel threads (no user context), Solaris's K1/K2: they prove that the kernel
thread, not the process, is the unit of scheduling.

- kreaper: releases the kernel stacks (greenlets) of exited threads.
- kworker: the page zeroer, at idle priority: zeroes freed frames in the background so
  that a page fault finds a zeroed frame and skips PAGE_ZERO.
"""
from . import cost
from .sched import REAPER_CHAN

ZERO_BATCH = 16            # frames kworker zeroes before it yields the hart


def kreaper(k, t, _arg) -> None:
    sched = k.sched
    while True:
        while not sched.dead:
            sched.sleep(REAPER_CHAN, interruptible=False)
        while sched.dead:
            dead = sched.dead.pop(0)
            dead.glet = None
            k.charge(cost.KTHREAD_SWITCH)


def kworker(k, t, _arg) -> None:
    kalloc = k.kalloc
    while True:
        while not kalloc.dirty:
            k.sched.sleep(kalloc, interruptible=False)
        for _ in range(ZERO_BATCH):
            if not kalloc.prezero_one():
                break
        k.sched.yield_()
