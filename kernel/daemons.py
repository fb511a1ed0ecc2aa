"""Pure kernel threads (no user context), Solaris's K1/K2: they prove that the kernel
thread, not the process, is the unit of scheduling.

- kreaper: releases the kernel stacks (greenlets) of exited threads.
- kworker: the page zeroer, at idle priority: zeroes freed frames in the background so
  that a page fault finds a zeroed frame and skips PAGE_ZERO.
- kping, kpong: started by kswitch() for one measurement, then gone: two kernel threads
  hand a hart to each other, each woken by the other, timed by the kernel clock (S18's K1-K2).
"""
from . import params
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
            k.charge(k.cost.KSTACK_FREE)


def kworker(k, t, _arg) -> None:
    kalloc = k.kalloc
    while True:
        while not kalloc.dirty:
            k.sched.sleep(kalloc, interruptible=False)
        for _ in range(ZERO_BATCH):
            if not kalloc.prezero_one():
                break
        k.sched.yield_()


def kswitch(k, t) -> tuple:
    """Measure a switch between two pure kernel threads on t's hart: kping and kpong pass
    the hart to each other params.KSWITCH_ROUNDS times (after one warm-up round) while t
    sleeps. Returns (virtual ns, switches) of the timed rounds, read off the hart's clock."""
    hart = 1 << t.cpu.hid
    box = {"turn": None, "t0": 0, "t1": 0, "done": False}

    def pass_to(other):
        box["turn"] = other
        k.sched.wakeup(("kswitch", other))
        while box["turn"] != other_of(other):
            k.sched.sleep(("kswitch", other_of(other)), interruptible=False)

    def other_of(name):
        return "kpong" if name == "kping" else "kping"

    def ping(k, me, _arg):
        pass_to("kpong")                               # warm-up: kpong has run once
        box["t0"] = k.sched.now()
        for _ in range(params.KSWITCH_ROUNDS):
            pass_to("kpong")
        box["t1"] = k.sched.now()
        box["turn"] = "done"
        k.sched.wakeup(("kswitch", "kpong"))

    def pong(k, me, _arg):
        while True:
            while box["turn"] not in ("kpong", "done"):
                k.sched.sleep(("kswitch", "kpong"), interruptible=False)
            if box["turn"] == "done":
                break
            box["turn"] = "kping"
            k.sched.wakeup(("kswitch", "kping"))
        box["done"] = True
        k.sched.wakeup(("kswitch", t))

    k.spawn_kthread("kpong", pong, affinity=hart)
    k.spawn_kthread("kping", ping, affinity=hart)
    while not box["done"]:
        k.sched.sleep(("kswitch", t), interruptible=False)
    return box["t1"] - box["t0"], 2 * params.KSWITCH_ROUNDS
