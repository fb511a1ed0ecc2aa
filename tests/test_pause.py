"""A paused and resumed run is the run without pauses (emulator/machine.py), the promise the
debugger's checkpoints rely on: a checkpoint is a pause at a host-time moment, anywhere.
Each program runs once uninterrupted; then with pauses requested (Machine.request_stop) at
points a seed picks among many: kernel events, the kernel's run_hart calls (before and
after), timer interrupts, clock event callbacks, and, with the debugger's hooks in place
(breakpoints at some functions, for some a watchpoint on all of RAM: count mode, Python
hooks), from inside those hooks as a SIGALRM handler would. Every run must give the same
event log, output, exit status, final virtual time and per-hart instret and time."""
import itertools
import random
import shutil
from unittest import mock

import pytest
from elftools.elf.elffile import ELFFile

from emulator.machine import RAM_BASE
from kernel.boot import System
from tools.run import BIN_DIR, root

# name -> (program, args, cpus, seed, on a disk image, watch all of RAM with "hooks": a pause
# after every user store). The quick set is race, the program of the reverse-continue test.
RUNS = {
    "race": ("race", ("20",), 2, 0, False, True),
    "s12_preempt": ("s12_preempt", ("preempt", "300"), 2, 0, False, False),
    "s10_block-mn": ("s10_block", ("mn",), 2, 2, False, True),
    "sched_share": ("sched_share", ("3", "0.002"), 2, 1, False, False),
    "slowread": ("slowread", ("-q", "-c", "1", "/f"), 2, 3, True, False),
}
QUICK = ("race", "s12_preempt")
PLACES = {"events": 0.05, "quanta": 0.05, "timers": 0.5, "clock": 0.5, "hooks": 0.02}   # -> probability


class Pauser:
    """request_stop() at each call of maybe() with probability p, from a seeded RNG."""

    def __init__(self, machine, seed, p):
        self.m, self.rng, self.p, self.asked = machine, random.Random(seed), p, 0

    def maybe(self):
        if self.rng.random() < self.p:
            self.asked += 1
            self.m.request_stop()


def functions(path, k, seed):
    """k addresses of functions of the ELF file, picked by seed."""
    with open(path, "rb") as f:
        syms = ELFFile(f).get_section_by_name(".symtab")
        addrs = sorted({s["st_value"] for s in syms.iter_symbols()
                        if s["st_info"]["type"] == "STT_FUNC" and s["st_value"]})
    return random.Random(seed).sample(addrs, min(k, len(addrs)))


def run(name, disk_image=None, places=(), seed=0):
    """The observable result of run `name` with pauses at places: (log, pauses resumed)."""
    program, args, cpus, mseed, on_disk, watch_all = RUNS[name]
    files, disk, path = root(program, disk=disk_image if on_disk else None)
    ticks = itertools.count(1_000_000_000, 1_234_567)     # the host clock, as tests/test_eventlog.py
    with mock.patch("time.monotonic_ns", lambda: next(ticks)), System(path, args, cpus=cpus, seed=mseed, files=files, disk=disk, log=lambda _: None,
                trace=True, max_time=2_000_000_000) as s:
        m, k = s.machine, s.kernel
        pzs = {place: Pauser(m, seed * 10 + i, PLACES[place]) for i, place in enumerate(places)}
        if "events" in places:
            s.inspect.subscribe(lambda ev, pz=pzs["events"]: pz.maybe())
        if "quanta" in places:
            inner, pz = k.run_hart, pzs["quanta"]

            def run_hart(hid, until):
                pz.maybe()
                inner(hid, until)
                pz.maybe()
            k.run_hart = run_hart
        if "timers" in places:
            tick, pz = k.timer_interrupt, pzs["timers"]

            def timer_interrupt(hid):
                tick(hid)
                pz.maybe()
            k.timer_interrupt = timer_interrupt
        if "clock" in places:
            pop, pz = m.clock.pop_due, pzs["clock"]

            def wrap(fn):
                def fire():
                    fn()
                    pz.maybe()
                return fire

            def pop_due(until):
                due = pop(until)
                for ev in due:
                    ev.fn = wrap(ev.fn)
                return due
            m.clock.pop_due = pop_due
        if "hooks" in places:
            bps, pz = functions(f"{BIN_DIR}/{program}", 40, seed), pzs["hooks"]
            for h in m.harts:
                on_code, on_write = h._on_code, h._on_write
                h._on_code = lambda *a, f=on_code: (pz.maybe(), f(*a))[1]
                h._on_write = lambda *a, f=on_write: (pz.maybe(), f(*a))[1]
                h.set_fault_filter(lambda hid, trap: False)
                h.set_breakpoints(bps)
                if watch_all:
                    h.set_watchpoints([(RAM_BASE, RAM_BASE + (128 << 20))])
        pauses = 0
        status = s.run()
        while status is None:
            pauses += 1
            for h in m.harts:
                h.debug_stop = None
            status = s.run()
        events = [(e.time, e.hart, e.pid, e.lwp, e.kind, sorted(e.detail.items())) for e in k.events]
        log = (events, bytes(m.console.output), status, m.clock.now, [(h.instret, h.time) for h in m.harts])
    return log, pauses


@pytest.mark.parametrize("name", [n if n in QUICK else pytest.param(n, marks=pytest.mark.slow) for n in RUNS])
def test_pauses_anywhere_leave_the_run_unchanged(userland, base_image, tmp_path, name):
    img = None
    if RUNS[name][4]:
        img = str(tmp_path / "fs.img")
    ref = None
    for i, places in enumerate([()] + [(p,) for p in PLACES] + [tuple(PLACES)]):
        if img is not None:
            shutil.copy(base_image, img)
        log, pauses = run(name, img, places, seed=i)
        if ref is None:
            ref = log
            assert pauses == 0 and log[2] == 0 and log[0]
            continue
        assert pauses > 0 or len(places) == 1, places
        assert log[2:] == ref[2:], (places, pauses)
        assert log[0] == ref[0], (places, pauses)


def test_a_stop_in_an_event_callback_fires_no_event_earlier():
    """A callback scheduling an event for the current time (it fires at the next round
    boundary, as the round is already planned from that time on): a stop requested in the
    callback must not fire it at once on resume."""
    from emulator.machine import Machine
    from tests.test_machine import Q, ScriptedKernel

    def go(pause):
        m = Machine(cpus=2, mem_mib=4, quantum=Q)
        k = ScriptedKernel(m, {0: 200_000, 1: 200_000})
        fired = []

        def first():
            fired.append(("first", m.clock.now))
            m.clock.at(m.clock.now, lambda: fired.append(("second", m.clock.now)))
            if pause:
                m.request_stop()
        m.clock.at(50_000, first)
        pauses = 0
        while m.run(k) is None:
            pauses += 1
        return fired, [h.time for h in m.harts], m.rounds, pauses

    ref, paused = go(False), go(True)
    assert ref[3] == 0 and paused[3] == 1
    assert paused[:3] == ref[:3]
