"""kernel/futex.py's queues: a waiter is queued while it sleeps and only then, oldest woken
first; a waiter that woke otherwise (timeout, signal, its process dying) is not counted and
leaves no trace. The system call is tested with real programs in tests/test_lwp.py."""
from types import SimpleNamespace

from kernel.futex import Futex
from kernel.thread import INTERRUPTED, TIMEOUT, WOKEN
from tools.run import simulate


class FakeSched:
    """Each test scripts sleep_timed; wakeup wakes a channel's sleeper, if it still sleeps."""

    def __init__(self):
        self.sleeping = set()
        self.woken = []

    def wakeup(self, chan, n=None):
        if chan in self.sleeping:
            self.sleeping.discard(chan)
            self.woken.append(chan[1].tid)
            return 1
        return 0


class FakeThread:
    def __init__(self, tid, proc):
        self.tid, self.proc = tid, proc


def setup():
    sched = FakeSched()
    f = Futex(SimpleNamespace(sched=sched))
    aspace = object()
    proc = SimpleNamespace(aspace=aspace)
    threads = [FakeThread(i, proc) for i in range(4)]
    return f, sched, proc, threads


def test_a_waiter_is_queued_while_it_sleeps():
    f, sched, proc, ts = setup()
    inside = {}

    def sleep_timed(chan, deadline):           # what the queue holds while each one sleeps
        sched.sleeping.add(chan)
        inside[chan[1].tid] = [x.tid for x in f.queues[(proc.aspace, 0x100)]]
        return WOKEN
    sched.sleep_timed = sleep_timed
    for t in ts:
        assert f.wait(t, (proc.aspace, 0x100), None) is WOKEN
    assert inside == {0: [0], 1: [1], 2: [2], 3: [3]}     # each left the queue when it returned
    assert f.queues == {}


def test_queue_order_wake_count_and_cleanup():
    f, sched, proc, ts = setup()
    key = (proc.aspace, 0x200)
    f.queues[key] = list(ts)                   # four waiters, oldest first, all asleep
    f.where = {t: [key, 0xFFFFFFFF] for t in ts}
    sched.sleeping = {("futex", t) for t in ts}
    sched.sleeping.discard(("futex", ts[1]))  # ts[1] timed out and has not run yet
    assert f.wake((proc.aspace, 0x200), 2) == 2
    assert sched.woken == [0, 2]               # ts[1] skipped, not counted
    assert [t.tid for t in f.queues[key]] == [3]
    assert f.wake((proc.aspace, 0x200), 5) == 1 and key not in f.queues
    assert f.wake((proc.aspace, 0x200), 1) == 0 and f.wake((proc.aspace, 0x300), 1) == 0


def test_requeue_wakes_then_moves_in_order_and_wake_meets_bitsets():
    f, sched, proc, ts = setup()
    k1, k2 = (proc.aspace, 0x10), (proc.aspace, 0x20)
    f.queues = {k1: list(ts[:3]), k2: [ts[3]]}
    f.where = {ts[0]: [k1, 1], ts[1]: [k1, 2], ts[2]: [k1, 4], ts[3]: [k2, 8]}
    sched.sleeping = {("futex", t) for t in ts}
    assert f.requeue(k1, 1, k2, 1) == 2           # ts[0] woken, ts[1] moved
    assert sched.woken == [0]
    assert f.queues == {k1: [ts[2]], k2: [ts[3], ts[1]]} and f.where[ts[1]] == [k2, 2]
    assert f.requeue(k1, 0, k1, 5) == 1 and f.queues[k1] == [ts[2]]   # onto itself
    assert f.wake((proc.aspace, 0x20), 5, 2) == 1 and sched.woken == [0, 1]    # only ts[1]'s bitset meets 2
    assert f.wake((proc.aspace, 0x20), 5) == 1 and f.wake((proc.aspace, 0x10), 5) == 1
    assert f.queues == {} and f.where == {}


def test_a_waiter_leaves_the_queue_however_its_sleep_ends():
    f, sched, proc, ts = setup()
    for reason in (TIMEOUT, INTERRUPTED):
        sched.sleep_timed = lambda chan, deadline, r=reason: r
        assert f.wait(ts[0], (proc.aspace, 0x10), 5) is reason
        assert f.queues == {}

    class Killed(Exception):
        pass

    def killed(chan, deadline):                # its process dies: ThreadExit is thrown in
        raise Killed()
    sched.sleep_timed = killed
    try:
        f.wait(ts[0], (proc.aspace, 0x10), None)
    except Killed:
        pass
    assert f.queues == {}


def test_no_waiter_is_left_behind_by_real_programs(userland):
    for prog, args in (("race", ("2000",)), ("s20_parallel", ())):
        r = simulate(prog, args, cpus=2)
        assert r.status == 0 and r.kernel.futex.queues == {}, r.output + r.log
