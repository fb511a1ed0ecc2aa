"""The boot builder (kernel/boot.py) and the inspection API (kernel/inspect.py): docs/inspect.md."""
import dataclasses

import pytest

from emulator import mmu
from emulator.hart import NREGS, REG_PC
from kernel.boot import BootError, System
from kernel.inspect import KERNEL, RUNNING, SLEEPING, USER, ZOMBIE
from tools.run import add_program, bin_files, simulate


def stopped_at(program, kind, cpus=2, nth=1, **kw):
    """A System running program (in-memory root), paused at the nth event of this kind of
    the program's process (its pid is the first exec of program's path)."""
    files = bin_files()
    path = add_program(files, program)
    s = System(path, cpus=cpus, files=files, **kw)
    seen = []

    def on_event(ev):
        if ev.kind == "exec" and ev.detail.get("path") == path and not seen:
            seen.append(ev.pid)
        elif seen and ev.pid == seen[0] and ev.kind == kind:
            seen.append(ev)
            if len(seen) == nth + 1:
                s.machine.request_stop()
    s.inspect.subscribe(on_event)
    assert s.run() is None, "the program ended before the event"
    s.inspect.unsubscribe(on_event)
    return s, seen[0]


def test_close_unwinds_every_kernel_stack_whatever_the_machine_did():
    s, pid = stopped_at("s4_shared", "lwp_create")        # paused: threads in the kernel and asleep
    glets = [t.glet for t in s.kernel.sched.threads.values()]
    assert any(glets)                                       # started, suspended: holding frames
    with s:
        pass
    assert not any(glets)                                   # each one dead (or never started)
    s.close()                                               # closing twice is harmless
    with System(cpus=1, files={}, log=lambda line: None) as never_run:
        assert never_run.booted is False
    with pytest.raises(BootError, match="--cpus"):
        System(cpus=99, files={})


def test_a_bad_disk_image_is_a_boot_error(tmp_path):
    with pytest.raises(BootError, match="cannot open disk image"):
        System(disk=str(tmp_path / "none.img"))


def test_answers_are_copies_and_reading_faults_nothing_in():
    s, pid = stopped_at("s4_shared", "lwp_create")
    with s:
        ins = s.inspect
        p = ins.process(pid)
        assert p.name == "s4_shared" and p.has_aspace and p.threads and p.ppid == 1
        t = ins.thread(p.threads[0])
        assert (t.pid, t.proc_name) == (pid, "s4_shared")
        with pytest.raises(dataclasses.FrozenInstanceError):
            t.state = RUNNING
        regs = ins.regs(t.tid)
        assert isinstance(regs, tuple) and len(regs) == NREGS
        assert ins.region_at(pid, regs[REG_PC]).kind == "text"
        daemon = next(x for x in ins.threads() if x.pid == 0)
        assert ins.regs(daemon.tid) is None and ins.regs(10 ** 6) is None

        stack = next(r for r in ins.regions(pid, resident=True) if r.kind == "stack")
        assert 0 < stack.resident < (stack.end - stack.start) // mmu.PAGE_SIZE
        absent = next(va for va in range(stack.start, stack.end, mmu.PAGE_SIZE) if not ins.pte(pid, va))
        before = ins.mappings(pid)
        assert ins.read_user(pid, absent, 16) == bytes(16)        # demand zero, not faulted in
        assert ins.mappings(pid) == before
        assert ins.read_user(pid, 0, 8) is None                   # in no region
        assert ins.read_user(pid, absent, 16, fault_in=True) == bytes(16)
        assert len(ins.mappings(pid)) == len(before) + 1

        m = before[0]
        w = ins.walk(pid, m.va + 5)
        assert w.pa == m.pa + 5 and w.steps[-1].pte == m.pte == ins.pte(pid, m.va)
        assert [st.level for st in w.steps] == [2, 1, 0] and w.region == ins.region_at(pid, m.va)
        assert ins.walk(pid, 0x10).pa == -1 and ins.walk(pid, 0x10).region is None


def test_threads_harts_and_stats_agree_with_the_event_stream():
    s, pid = stopped_at("s4_shared", "lwp_create", nth=2, trace=True)
    with s:
        ins = s.inspect
        harts = ins.harts()
        for h in harts:
            if h.current >= 0:
                t = ins.thread(h.current)
                assert t.state == RUNNING and t.hart == h.hid
        for t in ins.threads():
            assert (t.hart >= 0) == (t.state == RUNNING)
            assert (t.chan != "") == (t.state == SLEEPING)
        lwps = [t for t in ins.threads() if t.pid == pid]
        assert len(lwps) == 3 and all(t.mode in (USER, KERNEL) for t in lwps)
        events = ins.events()
        st = ins.stats()
        assert st.syscalls == sum(1 for e in events if e.kind == "syscall")
        assert st.switches == sum(1 for e in events if e.kind == "switch") == sum(h.switches for h in harts)
        events.clear()                                     # a copy: the kernel's log is intact
        assert len(ins.events()) > 0


def test_run_inspect_reads_the_finished_machine():
    r = simulate("hello", cpus=1)
    st = r.inspect.stats()
    assert r.status == 0 and st.syscalls == r.kernel.trap.stats["syscalls"] > 0
    assert st.free_frames == st.free_at_boot                 # every frame came back
    assert st.disk is None and st.bcache is None
    init, = r.inspect.processes()                           # hello was reaped, init exited
    assert (init.pid, init.state, init.threads, init.has_aspace) == (1, ZOMBIE, (), False)
    assert {t.name for t in r.inspect.threads()} == {"kreaper", "kworker"}


def test_a_subscriber_that_keeps_nothing_sees_every_event():
    seen = []
    files = bin_files()
    with System(add_program(files, "hello"), cpus=1, files=files) as s:
        s.inspect.subscribe(seen.append, keep=False)
        assert s.run() == 0
        assert s.inspect.events() == []
    with System(add_program(files, "hello"), cpus=1, files=files, trace=True) as s:
        assert s.run() == 0
        assert s.inspect.events() == seen and len(seen) > 10   # the same run, the same stream
