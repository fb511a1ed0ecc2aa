"""The machine loop's round rule (emulator/machine.py), driven by a scripted kernel."""
from emulator.machine import SOLO_QUANTA, Machine

Q = 10_000


class ScriptedKernel:
    """The machine's contract: hart hid has work while work[hid] > 0 (ns of it), done in
    steps of STEP ns (as if between syscalls); at[(hid, t)] runs when that hart reaches t."""
    STEP = 1000

    def __init__(self, machine, work):
        self.m = machine
        self.work = dict.fromkeys(range(len(machine.harts)), 0) | work
        self.at = {}
        self.calls = []                 # (hid, start time, until) of each run_hart

    def has_work(self, hid):
        return self.work[hid] > 0

    def run_hart(self, hid, until):
        h = self.m.harts[hid]
        self.calls.append((hid, h.time, until))
        while h.time < until and self.work[hid] > 0 and not self.m.kicked and not self.m.stop_requested:
            step = min(until - h.time, self.work[hid], self.STEP)
            h.time += step
            self.work[hid] -= step
            for key in [k for k in self.at if k[0] == hid and k[1] <= h.time]:
                self.at.pop(key)()

    def timer_interrupt(self, hid):
        pass

    def deadlock(self):                 # all the work is done
        self.m.halt(0)

    def first_call(self, hid):
        return next(c for c in self.calls if c[0] == hid)


def test_one_busy_hart_runs_in_solo_rounds():
    m = Machine(cpus=4, mem_mib=4, quantum=Q)
    k = ScriptedKernel(m, {2: 2_000_000})
    rng = m.rng.getstate()
    assert m.run(k) == 0 and k.work[2] == 0
    assert m.rounds == -(-2_000_000 // (SOLO_QUANTA * Q))
    assert {c[0] for c in k.calls} == {2}
    assert [h.time for h in m.harts] == [0, 0, 2_000_000, 0]    # idle harts were not visited
    assert m.rng.getstate() == rng


def test_kick_ends_a_solo_round_where_the_other_hart_starts():
    m = Machine(cpus=2, mem_mib=4, quantum=Q)
    k = ScriptedKernel(m, {0: 1_000_000})

    def wake():                         # hart 0 makes work for hart 1, at 53,000
        k.work[1] = 30_000
        m.kick()
    k.at[(0, 53_000)] = wake
    assert m.run(k) == 0
    assert k.first_call(1)[1] == 53_000           # not at a quantum boundary
    assert k.work == {0: 0, 1: 0}


def test_kick_is_ignored_on_one_hart():
    m = Machine(cpus=1, mem_mib=4, quantum=Q)
    k = ScriptedKernel(m, {0: 500_000})
    k.at[(0, 53_000)] = m.kick
    m.run(k)
    assert m.rounds == 1


def test_event_scheduled_in_a_solo_round_fires_at_its_time():
    m = Machine(cpus=1, mem_mib=4, quantum=Q)
    k = ScriptedKernel(m, {0: 1_000_000})
    fired = []
    k.at[(0, 123_000)] = lambda: m.clock.at(127_321, lambda: fired.append(m.clock.now))
    m.run(k)
    assert fired == [127_321]


def test_rounds_do_not_cross_max_time():
    m = Machine(cpus=1, mem_mib=4, quantum=Q)
    k = ScriptedKernel(m, {0: 10_000_000})
    k.timeout = lambda: m.halt(124)
    assert m.run(k, max_time=345_678) == 124
    assert m.clock.now == 345_678
