"""Green-thread switches in the event stream (kernel/utrace.py, docs/trace.md): on only when
asked (tools.run --trace/--timeline, simulate(trace_uthreads=True)), one uevent per switch
naming the user thread that runs next; the timeline draws a lane per user thread."""
import re

from kernel.utrace import MARK
from tools import trace as ttrace
from tools import timeline
from tools.run import simulate

SWITCH = 1                                      # uthread.h: UTHREAD_EV_SWITCH


def pid_of(events, name):
    return next(e.pid for e in events if e.kind == "exec" and e.detail["path"].endswith("/" + name))


def switches(events, pid):
    return [e for e in events if e.pid == pid and e.kind == "uevent" and e.detail["code"] == SWITCH]


def test_traced_m1_run_names_each_uthread_on_one_lwp_in_order(userland):
    r = simulate("s11_parallel", ("m1", "1", "3000"), cpus=2, trace=True, trace_uthreads=True)
    assert r.status == 0 and "S11 OK" in r.output, r.output + r.log
    ev = r.kernel.events
    pid = pid_of(ev, "s11_parallel")
    sw = switches(ev, pid)
    lwps = {e.lwp for e in ev if e.pid == pid and e.kind == "switch"}
    assert len(lwps) == 1 and {e.lwp for e in sw} == lwps         # the kernel sees one LWP
    ids = [e.detail["arg"] for e in sw]
    first = list(dict.fromkeys(i for i in ids if i > 0))
    assert first == [1, 2, 3, 4]                                  # created in order, run in order
    assert ids[-1] == 0                                           # main runs again to join them
    times = [e.time for e in sw]
    assert times == sorted(times) and len(set(times)) == len(times)


def test_off_unless_asked(userland):
    r = simulate("s11_parallel", ("m1", "1", "3000"), cpus=2, trace=True)
    assert r.status == 0
    assert switches(r.kernel.events, pid_of(r.kernel.events, "s11_parallel")) == []


def test_s9_timeline_has_a_lane_per_uthread(userland):
    r = simulate("s9_onelwp", (), cpus=1, trace=True, trace_uthreads=True)
    assert r.status == 0 and "S9 OK" in r.output, r.output + r.log
    ev = r.kernel.events
    pid = pid_of(ev, "s9_onelwp")
    want = {e.detail["arg"] for e in switches(ev, pid)}
    model = ttrace.build(ev, 1, r.kernel.sched.now())
    lanes = {u.uid for u in model.uthreads if u.pid == pid}
    assert lanes == want and {1, 2, 3, 4} <= lanes
    lwp = next(iter({u.lwp for u in model.uthreads if u.pid == pid}))
    running = [s for s in model.states if s.lwp == lwp and s.state == "running"]
    for u in model.uthreads:                                      # inside the LWP's time on a hart
        if u.state == "running":
            assert any(s.start <= u.start and u.end <= s.end for s in running), u
    data = timeline.extract(ttrace.chrome(model, {}))
    rows = [t["name"] for t in data["threads"] if t["pid"] == pid]
    assert [n for n in rows if n.startswith("uthread")] == [f"uthread {i} on lwp {lwp}" for i in sorted(lanes)]
    assert len({t["color"] for t in data["threads"] if t["pid"] == pid}) == len(rows)


def test_mn_lanes_are_valid_trace_json(userland):
    """M:N (solaris: two processes, pools of LWPs, idle switches): the lanes are well-formed
    tracks, never two user threads on one LWP at once, and a thread that moved says so."""
    from tests.test_trace import validate
    r = simulate("solaris", ("20",), cpus=4, trace=True, trace_uthreads=True)
    assert r.status == 0, r.output + r.log
    model = ttrace.build(r.kernel.events, 4, r.kernel.sched.now())
    obj = ttrace.chrome(model, {})
    validate(obj)
    assert {u.pid for u in model.uthreads} == {e.pid for e in r.kernel.events if e.kind == "uevent"
                                               and e.detail["code"] == SWITCH}
    assert all(u.uid >= 0 for u in model.uthreads)                # idle (-1) holds no lane
    for lwp in {u.lwp for u in model.uthreads}:
        spans = sorted((u.start, u.end) for u in model.uthreads if u.lwp == lwp)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), lwp
    names = {e["args"]["name"] for e in obj["traceEvents"] if e["ph"] == "M" and e["tid"] >= ttrace.UTHREAD_TID}
    assert names and all(n.startswith("uthread ") for n in names)


def _prog(tmp_path, name, decl):
    from tools.cc import build
    src = tmp_path / f"{name}.c"
    src.write_text(decl + "\nint main(void) { return __uthread_trace; }\n")
    return build([str(src)], str(tmp_path / name))


def test_the_word_is_written_only_when_asked_and_only_if_writable(userland, tmp_path):
    rw = _prog(tmp_path, "rw", "volatile int __uthread_trace = 7;")
    assert simulate(rw, (), cpus=1).status == 7                  # untraced: untouched
    assert simulate(rw, (), cpus=1, trace=True).status == 7      # the event logs' kind of run
    assert simulate(rw, (), cpus=1, trace=True, trace_uthreads=True).status == MARK
    ro = _prog(tmp_path, "ro", "const volatile int __uthread_trace = 7;")
    r = simulate(ro, (), cpus=1, trace=True, trace_uthreads=True)
    assert r.status == 7 and "__uthread_trace is not writable" in r.log, r.log


def _figures(program, args, cpus, utrace):
    r = simulate(program, args, cpus=cpus, trace=True, trace_uthreads=utrace)
    assert r.status == 0, r.output + r.log
    k = r.kernel
    pid = pid_of(k.events, program)
    return r, len(switches(k.events, pid)), k.trap.stats["syscalls"], k.sched.now()


def test_the_kernels_reports_take_no_virtual_time(userland):
    """An observer must not change what it observes: the reports the kernel asked for are not
    system calls (no trap, no dispatch, the stub taken back). What stays is the library's own
    work to make them (kernel/utrace.py): a few instructions a switch under M:N, and under
    M:1 uthread_yield's general path instead of its short one (about 40)."""
    r0, n0, calls0, t0 = _figures("solaris", ("20",), 4, False)
    r1, n1, calls1, t1 = _figures("solaris", ("20",), 4, True)
    assert n0 == 0 and n1 > 10                                    # the lanes are still there
    assert calls1 == calls0                                       # and none of them is a call
    t12 = [int(re.search(r"side by side: T1-T2 (\d+)", r.output).group(1)) for r in (r0, r1)]
    assert 0 <= t12[1] - t12[0] <= 8                              # the figure S17 prints (~400 before)
    # The run's end: on one hart, only the library's instructions; on more, the page the kernel
    # wrote at exec can shift a fault and with it the interleaving (docs/trace.md).
    _, _, _, t0 = _figures("solaris", ("20",), 1, False)
    _, n1, _, t1 = _figures("solaris", ("20",), 1, True)
    assert 0 <= t1 - t0 <= 8 * n1
    r0, n0, calls0, t0 = _figures("s11_parallel", ("m1", "1", "3000"), 2, False)
    r1, n1, calls1, t1 = _figures("s11_parallel", ("m1", "1", "3000"), 2, True)
    assert n1 > 0 and calls1 == calls0 and 0 <= t1 - t0 <= 48 * n1


def test_tracing_the_program_asks_for_is_still_a_system_call(userland):
    """s8_switch sets the word itself (uthread_trace(1)) for its traced loop: that is the
    program's work, charged as a call, also while the kernel traces (the word is not MARK)."""
    r = simulate("s8_switch", ("200",), cpus=1, trace=True, trace_uthreads=True)
    assert r.status == 0 and "S8 OK" in r.output, r.output + r.log
    per = [float(x) for x in re.findall(r"([\d.]+) per switch", r.output)]
    assert len(per) == 2 and per[1] > 2 * per[0]
