"""Scheduler activations at the kernel interface (userland/bin/s13_upcalls.c: raw system
calls and a minimal upcall handler, no thread library), and processor allocation between
processes (space sharing: kernel/sa.py, userland/bin/sa_share.c)."""
import pytest

from kernel.sa import space_share
from tools.run import simulate


def test_blocked_then_unblocked_upcalls_keep_the_processor_busy(userland):
    r = simulate("s13_upcalls", [], cpus=2, trace=True, max_time=5e9)
    assert r.status == 0, r.output + r.log
    lines = r.output.splitlines()
    assert lines[0].startswith("S13: ") and lines[1] == "register 0 stacks 6 enable 0"
    assert lines[2:6] == ["upcall NEWPROC id 1", "upcall BLOCKED id 1",
                          "upcall UNBLOCKED id 1", "upcall PREEMPTED id 2"]
    assert lines[6] == "blocked 1 work during block yes"
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


# ---- processor allocation ----

@pytest.mark.parametrize("ncpus,wants,grant", [
    (4, [3], [3]),
    (4, [3, 3], [2, 2]),
    (4, [4, 1], [3, 1]),
    (4, [4, 4, 4], [2, 1, 1]),                # the older process gets the odd hart
    (4, [1, 4, 2], [1, 2, 1]),
    (2, [2, 2, 2], [1, 1, 1]),                # more SA processes than harts: one vp each
])
def test_space_share_divides_the_harts(ncpus, wants, grant):
    keys = [f"p{i}" for i in range(len(wants))]
    got = space_share(ncpus, dict(zip(keys, wants)))
    assert [got[k] for k in keys] == grant
    assert sum(got.values()) <= max(ncpus, len(wants))


def allocs(events, pid):
    return [e.detail["vps"] for e in events if e.kind == "sa_alloc" and e.detail["pid"] == pid]


def test_space_sharing_takes_a_vp_back_and_gives_it_again(userland):
    """A asks for 3 vps of 4 harts, then B asks for 3: the kernel takes A's vp 2 back (its
    thread's context reaches A's library in a PREEMPTED upcall on another vp), gives B 2,
    and gives A its vp again (NEWPROC) when B exits. No chunk of work lost or done twice."""
    r = simulate("sa_share", [], cpus=4, trace=True, max_time=5e9)
    assert r.status == 0 and "sa_share OK" in r.output, r.output + r.log
    assert "A: 3 vps granted at start" in r.output and "B: 2 vps granted at start" in r.output
    assert r.output.count("chunks all done once") == 2
    ev = r.kernel.events
    first = [e for e in ev if e.kind == "sa_alloc"]
    a, b = first[0].detail["pid"], next(e.detail["pid"] for e in first if e.detail["pid"] != first[0].detail["pid"])
    assert allocs(ev, a) == [3, 2, 3] and allocs(ev, b) == [2]
    taken = [e for e in ev if e.kind == "vp_taken" and e.pid == a]
    assert [e.detail["vp"] for e in taken] == [2]
    told = [e for e in ev if e.kind == "upcall" and e.pid == a and e.time >= taken[0].time
            and taken[0].detail["id"] in e.detail["ids"]]
    assert told and told[0].detail["type"] == "PREEMPTED" and told[0].lwp != taken[0].lwp
    regrown = [e for e in ev if e.kind == "sa_alloc" and e.detail["pid"] == a][-1]
    before = [e for e in ev[:ev.index(regrown)] if e.pid == b and e.kind == "syscall"][-1]
    assert regrown.pid == b and before.detail.get("name") == "exit_group"     # made by B's exit
    # (its other LWPs' "off" events may follow exit_group's: they are stamped on their harts)
    assert any(e.kind == "upcall" and e.pid == a and e.detail["type"] == "NEWPROC" and e.time >= regrown.time
               for e in ev)
    b_exit = regrown.time
    # while B held its two vps, A ran on at most two harts at any instant (harts log in
    # turn within a round: the log is in time order per hart only)
    running, most = {}, 0
    for e in sorted(ev, key=lambda e: e.time):
        if e.pid == a and e.kind == "switch":
            running[e.lwp] = e.hart
        elif e.pid == a and e.kind in ("off", "lwp_exit"):
            running.pop(e.lwp, None)
        if taken[0].time < e.time < b_exit:
            most = max(most, len(running))
    assert most == 2                       # and it did use both


# ---- misuse: an errno or a signal, never worse ----

@pytest.fixture(scope="module")
def sabad(tmp_path_factory):
    import os
    from tests.conftest import ROOT
    from tools.cc import build
    return build([os.path.join(ROOT, "tests", "guest", "sabad.c")], str(tmp_path_factory.mktemp("sa") / "sabad"))


def test_bad_arguments_get_errnos(userland, sabad):
    r = simulate(sabad, ["args"], cpus=2, max_time=2e9)
    assert r.status == 0 and r.output.endswith("ALL OK\n") and "FAIL" not in r.output, r.output + r.log
    assert r.output.count("ok ") == 22
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot


@pytest.mark.parametrize("mode,message", [
    ("returns", "killed by SIGSEGV (instruction page fault) at pc 0x0"),
    ("nostack", "upcall with no upcall stack left"),
    ("unmapped", "bad upcall stack"),
])
def test_broken_upcall_setup_kills_only_that_process(userland, sabad, mode, message):
    """A handler that returns, running out of upcall stacks, an unmapped stack: the process
    dies of SIGSEGV with a one-line reason; the kernel and the machine go on (exit status
    128 + 11 from init, all frames back)."""
    r = simulate(sabad, [mode], cpus=2, max_time=2e9)
    assert r.status == 128 + 11, r.output + r.log
    assert message in r.log and "not reached" not in r.output and "Traceback" not in r.log
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot


def test_exit_with_activations_and_a_file_to_commit(userland, sabad, base_image, tmp_path):
    """exit closes a written file on the disk (the close sleeps for the journal) after the
    process left the processor allocation: no upcall, no kernel error, the data is there."""
    import shutil
    disk = str(tmp_path / "fs.img")
    shutil.copyfile(base_image, disk)
    r = simulate(sabad, ["exitwrite", "/tmp/saexit"], cpus=2, max_time=2e9, disk=disk)
    assert r.status == 0 and "Traceback" not in r.log, r.output + r.log
    r = simulate("cat", ["/tmp/saexit"], cpus=1, max_time=2e9, disk=disk)
    assert r.output == "written under SA\n"
