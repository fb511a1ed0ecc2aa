"""Scheduler activations at the kernel interface (userland/bin/s13_upcalls.c: raw system
calls and a minimal upcall handler, no thread library)."""
from tools.run import simulate


def test_blocked_then_unblocked_upcalls_keep_the_processor_busy(userland):
    r = simulate("s13_upcalls", [], cpus=2, trace=True, max_time=5e9)
    assert r.status == 0, r.output + r.log
    lines = r.output.splitlines()
    assert lines[0] == "register 0 stacks 6 enable 0"
    assert lines[1:5] == ["upcall NEWPROC id 1", "upcall BLOCKED id 1",
                          "upcall UNBLOCKED id 1", "upcall PREEMPTED id 2"]
    assert lines[5] == "blocked 1 work during block yes"
    kinds = [e.detail["type"] for e in r.kernel.events if e.kind == "upcall"]
    assert kinds == ["NEWPROC", "BLOCKED", "UNBLOCKED"]


def test_S13_upcalls_demo(userland):
    r = simulate("s13_upcalls", [], cpus=2, trace=True, max_time=5e9)
    assert r.status == 0 and "S13 OK" in r.output, r.output + r.log
    ups = [e for e in r.kernel.events if e.kind == "upcall"]
    assert [e.detail["type"] for e in ups] == ["NEWPROC", "BLOCKED", "UNBLOCKED"]
    blocked, unblocked = ups[1], ups[2]
    assert blocked.hart >= 0 and unblocked.detail["interrupted"] == 1
    # between BLOCKED and UNBLOCKED the process kept running user code on its processor
    ran = [e for e in r.kernel.events if blocked.time <= e.time <= unblocked.time
           and e.kind == "switch" and e.pid == blocked.pid]
    assert ran, "the virtual processor idled while the main thread was blocked"
