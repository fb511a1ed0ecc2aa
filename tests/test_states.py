"""The state machines of kernel/thread.py (a thread) and kernel/sa.py (an activation), and the
policy interface of kernel/policy.py: allowed transitions pass, every other one is a
KernelPanic; a policy is a class the scheduler asks."""
import itertools

import pytest

from kernel import policy, sa, thread
from kernel.panic import KernelPanic
from kernel.thread import NEW, RUNNABLE, RUNNING, SLEEPING, ZOMBIE, Thread, ThreadState, set_state
from tests.kfixture import make_kernel
from tools.run import simulate

T_ALLOWED = {(NEW, RUNNABLE), (RUNNABLE, RUNNING), (RUNNING, RUNNABLE), (RUNNING, SLEEPING),
             (SLEEPING, RUNNABLE), (RUNNABLE, ZOMBIE), (RUNNING, ZOMBIE), (SLEEPING, ZOMBIE)}
A = sa.ActState
A_ALLOWED = {(A.FRESH, A.RUNNING), (A.FRESH, A.BLOCKED), (A.FRESH, A.ENDED), (A.RUNNING, A.IDLE),
             (A.RUNNING, A.BLOCKED), (A.RUNNING, A.ENDED), (A.IDLE, A.RUNNING), (A.IDLE, A.ENDED),
             (A.BLOCKED, A.UNBLOCKED)}


def thread_in(state):
    t = Thread(7, "t", None, None)
    t._state = state
    return t


@pytest.mark.parametrize("old,new", list(itertools.product(ThreadState, repeat=2)))
def test_thread_transitions(old, new):
    t = thread_in(old)
    if (old, new) in T_ALLOWED:
        set_state(t, new)
        assert t.state is new
    else:
        with pytest.raises(KernelPanic, match=f"illegal state change {old} -> {new}"):
            set_state(t, new)
        assert t.state is old


def test_the_tables_are_the_documented_ones():
    assert {(a, b) for a, bs in thread.TRANSITIONS.items() for b in bs} == T_ALLOWED
    assert {(a, b) for a, bs in sa.TRANSITIONS.items() for b in bs} == A_ALLOWED


def test_states_are_read_only():
    t = thread_in(NEW)
    with pytest.raises(AttributeError):
        t.state = RUNNABLE
    with pytest.raises(AttributeError):
        sa.Activation(1, 0).state = A.RUNNING


@pytest.mark.parametrize("old,new", list(itertools.product(A, repeat=2)))
def test_activation_transitions(old, new):
    a = sa.Activation(1, 0)
    a._state = old
    if (old, new) in A_ALLOWED:
        a.to(new)
        assert a.state is new
    else:
        with pytest.raises(KernelPanic, match=f"activation 1 \\(vp 0\\): illegal state change {old} -> {new}"):
            a.to(new)


def test_the_scheduler_refuses_to_queue_a_thread_twice():
    k = make_kernel(cpus=2)
    t = k.spawn_kthread("k", lambda k, t, arg: None)
    assert t.state is RUNNABLE
    with pytest.raises(KernelPanic, match="runnable -> runnable"):
        k.sched.make_runnable(t)


class Newest(policy.Policy):
    """A toy policy for the test: the most recently queued thread first."""
    name = "newest"
    asked = 0

    def choose(self, cands, cpu):
        Newest.asked += 1
        return cands[-1]


def test_a_policy_is_a_class(userland, monkeypatch):
    monkeypatch.setitem(policy.POLICIES, "newest", Newest)
    r = simulate("s20_parallel", cpus=2, sched="newest")
    assert r.status == 0 and "S20 OK" in r.output, r.output + r.log
    assert isinstance(r.kernel.sched.policy, Newest) and Newest.asked > 0


def test_two_level_bookkeeping_runs_only_under_two_level(userland):
    flat = simulate("sched_share", ("2", "0.02"), cpus=1, sched="flat")     # 10 slices: enough
    two = simulate("sched_share", ("2", "0.02"), cpus=1, sched="two-level")  # for the verdict
    assert flat.status == 0 and two.status == 0, flat.output + two.output
    assert all(t.vtime == 0 for t in flat.kernel.kthreads)
    assert sum(t.vtime for t in two.kernel.kthreads) > 0
