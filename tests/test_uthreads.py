"""User-level threads (userland/include/uthread.h, docs/uthreads.md): the library itself
(tests/guest/utest.c) and the claims it shows (../shared/seed-claims.md S8-S12, S17-S19),
each by running its demo program and checking what the kernel saw in its event log."""
import os
import re

import pytest

from tests.conftest import ROOT
from tools.run import simulate

SIGABRT, SIGSEGV = 6, 11


def run(program, *args, **kw):
    return simulate(program, args, **kw)


def ok(r, tag):
    assert r.status == 0 and f"{tag} OK" in r.output, r.output + r.log


def num(pattern, text, conv=float):
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not in output:\n{text}"
    return conv(m.group(1))


def pid_of(events, name):
    """The pid that exec'ed /bin/NAME."""
    return next(e.pid for e in events if e.kind == "exec" and e.detail["path"].endswith("/" + name))


def on_cpu(events, pid):
    """[(lwp, hart, start, end)]: when each LWP of pid held a hart (switch .. off)."""
    start, spans = {}, []
    for e in events:
        if e.pid != pid:
            continue
        if e.kind == "switch":
            start[e.lwp] = (e.hart, e.time)
        elif e.kind == "off" and e.lwp in start:
            hart, t0 = start.pop(e.lwp)
            spans.append((e.lwp, hart, t0, e.time))
    end = events[-1].time
    spans += [(lwp, hart, t0, end) for lwp, (hart, t0) in start.items()]
    return spans


def overlap(spans, t0, t1, lwps=None):
    """Hart time the spans (of the given LWPs) spent inside [t0, t1]."""
    return sum(max(0, min(b, t1) - max(a, t0)) for lwp, _, a, b in spans if lwps is None or lwp in lwps)


def max_parallel(spans):
    """Most harts the spans ever held at the same instant."""
    points = sorted([(a, 1) for _, _, a, b in spans if b > a] + [(b, -1) for _, _, a, b in spans if b > a])
    cur = best = 0
    for _, d in points:
        cur += d
        best = max(best, cur)
    return best


def marks(events, pid, code):
    return [e for e in events if e.pid == pid and e.kind == "uevent" and e.detail["code"] == code]


# ---- the library ----

@pytest.fixture(scope="module")
def utest(tmp_path_factory):
    from tools.cc import build
    out = str(tmp_path_factory.mktemp("uthreads") / "utest")
    return build([os.path.join(ROOT, "tests", "guest", "utest.c")], out)


@pytest.mark.parametrize("args", [("m1",), ("mn", "1"), ("mn", "2"), ("mn", "4"), ("sa", "1"), ("sa", "2")])
def test_api_create_join_sync_errors(userland, utest, args):
    r = run(utest, "api", *args)
    assert r.status == 0 and r.output.endswith("ALL OK\n") and "FAIL" not in r.output, r.output + r.log
    assert "ok ucond_bounded_buffer" in r.output and "ok errno_fp_per_thread" in r.output
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot


def sa_fuzz_cases(n, first_seed):
    """n (cpus, vps, mode, seed) cases: seeds from first_seed, machines of 2-4 harts, 2-4
    vps (more vps than harts included); every other one beside a second SA process that
    keeps changing its concurrency (so vps are taken back and given again), every third
    one with 30 us timer preemption (uthread_preempt)."""
    def mode(s):
        return "+".join(m for m, on in (("churn", s % 2 == 0), ("tick", s % 3 == 0)) if on) or "-"
    return [(2 + s % 3, 2 + (s // 3) % 3, mode(s), s) for s in range(first_seed, first_seed + n)]


def check_sastress(utest, cpus, vps, mode, seed):
    churn = "churn" in mode
    args = ("sastress", str(vps), mode)
    r = run(utest, *args, cpus=cpus, seed=seed, max_time=2_000_000_000, trace=True)
    assert r.status == 0 and "counter 1200 " in r.output and r.output.endswith("ALL OK\n"), \
        f"cpus {cpus} vps {vps} {mode} seed {seed}\n" + r.output + r.log
    assert "ok sa_once" in r.output and "ok sa_iterations" in r.output
    assert not churn or "ok sa_churn" in r.output
    assert "tick" not in mode or not re.search(r"preemptions 0\b", r.output)
    announced, unblocked = set(), 0                 # UNBLOCKED never overtakes its BLOCKED
    for e in r.kernel.events:
        if e.kind == "upcall":
            for kind, sa_id in zip(e.detail["kinds"], e.detail["ids"]):
                if kind == "BLOCKED":
                    announced.add((e.pid, sa_id))
                elif kind == "UNBLOCKED":
                    assert (e.pid, sa_id) in announced, f"seed {seed}: UNBLOCKED {sa_id} before its BLOCKED"
                    unblocked += 1
    assert unblocked > 0


@pytest.mark.parametrize("cpus,vps,mode,seed", sa_fuzz_cases(10, 1))
def test_sa_stress_many_seeds_loses_no_thread(userland, utest, cpus, vps, mode, seed):
    """Fuzzing the interleavings: mutexes, semaphores, yields and sleeps under SA; every
    thread does each iteration exactly once (none lost, none run twice or on two vps at
    once), no deadlock (a time limit), for many seeds and machine shapes, with and without
    processor reallocation and timer preemption."""
    check_sastress(utest, cpus, vps, mode, seed)


@pytest.mark.slow
@pytest.mark.parametrize("cpus,vps,mode,seed", sa_fuzz_cases(60, 11))
def test_sa_stress_fuzz_more_seeds(userland, utest, cpus, vps, mode, seed):
    check_sastress(utest, cpus, vps, mode, seed)


def test_sa_process_stopped_and_continued(userland, utest):
    """SIGSTOP freezes a process of activations as it is: its activations sleep stopped and
    keep their vps (no new activation for a BLOCKED upcall), and SIGCONT resumes them. (A stop
    used to count as blocking: each stopped activation's vp went on with a new activation,
    which stopped in turn, until the upcall stacks ran out and the process died of SIGSEGV.)"""
    from tools.run import bin_files
    files = dict(bin_files())
    with open(utest, "rb") as f:
        files["/bin/utest"] = f.read()
    script = ("utest sastress 3 - &\nsleep 0.0001\nkill -STOP -5\nsleep 0.0002\nkill -CONT -5\n"
              "sleep 0.0001\nkill -STOP -5\nkill -CONT -5\nwait\n")
    r = simulate(None, input=script, cpus=3, seed=1, files=files, trace=True, max_time=3_000_000_000)
    assert "[1] 5" in r.output and "counter 1200 " in r.output and "ALL OK" in r.output, r.output + r.log
    ev = [e for e in r.kernel.events if e.pid == 5 or e.kind == "signal"]
    stop = next(i for i, e in enumerate(ev) if e.kind == "signal" and e.pid == 5 and e.detail["sig"] == 19)
    cont = next(i for i, e in enumerate(ev) if i > stop and e.kind == "wakeup" and e.detail["chan"] == "stopped")
    assert [e.kind for e in ev[stop:cont]].count("sleep") >= 3        # every vp stopped ...
    assert not [e for e in ev[stop:cont] if e.kind == "upcall_planned"]    # ... and kept its vp
    assert any(e.kind == "upcall" for e in ev[cont:])          # it went on afterwards


def test_api_on_one_hart(userland, utest):
    r = run(utest, "api", "mn", "3", cpus=1)
    assert r.status == 0 and r.output.endswith("ALL OK\n"), r.output + r.log


def test_bound_threads_own_lwps_and_pool_grows_and_shrinks(userland, utest):
    r = run(utest, "bound")
    assert r.status == 0 and r.output.endswith("ALL OK\n"), r.output + r.log


@pytest.mark.parametrize("model", ["m1", "mn", "sa"])
def test_timer_preemption_shares_the_processor(userland, utest, model):
    r = run(utest, "preempt", model, trace=True)
    assert r.status == 0 and r.output.endswith("ALL OK\n"), r.output + r.log
    pid = pid_of(r.kernel.events, "utest")
    ticks = [e for e in r.kernel.events if e.pid == pid and e.kind == "signal" and e.detail["sig"] == 26]
    assert len(ticks) >= 5                                  # SIGVTALRM drove the switches


@pytest.mark.parametrize("cpus,nlwps,seed,model", [(1, 1, 0, "mn"), (2, 3, 1, "mn"), (4, 4, 2, "mn"),
                                                   (1, 2, 3, "sa"), (2, 3, 4, "sa"), (4, 3, 5, "sa")])
def test_preemptive_stress_with_bound_threads(userland, utest, cpus, nlwps, seed, model):
    """Mutexes, conditions, semaphores, bound threads and 30 us timer ticks at once, on
    LWPs (M:N: new LWPs take ticks before their first instruction, tp = 0) or on scheduler
    activations (ticks land in upcall handlers, bound threads are plain LWPs beside the vps)."""
    r = run(utest, "stress", str(nlwps), model, cpus=cpus, seed=seed, max_time=5 * 10**9)
    assert r.status == 0 and r.output.endswith("ALL OK\n"), r.output + r.log
    assert num(r"preemptions (\d+)", r.output, int) > 0


def test_preemption_never_switches_inside_libc_locks(userland, utest):
    r = run(utest, "libc")
    assert r.status == 0 and r.output.endswith("ALL OK\n"), r.output + r.log   # no futex deadlock
    lines = [l for l in r.output.splitlines() if l.startswith("thread ")]
    assert len(lines) == 4 * 40
    for line in lines:                                     # printf output never torn
        m = re.fullmatch(r"thread (\d) round \d\d ([a-d]{40})", line)
        assert m and m.group(2) == chr(ord("a") + int(m.group(1))) * 40, line
    assert num(r"preemptions (\d+)", r.output, int) > 0


def test_stack_overflow_hits_the_guard_page(userland, utest):
    r = run(utest, "overflow")
    assert r.status == 128 + SIGSEGV and "not reached" not in r.output
    assert "killed by SIGSEGV" in r.log and "overflow of the stack" in r.log


def test_m1_deadlock_is_reported(userland, utest):
    r = run(utest, "deadlock")
    assert r.status == 128 + SIGABRT
    assert "uthread: deadlock: every user thread is blocked" in r.output


# ---- S8: a user-level switch is a few dozen instructions and no system call ----

def test_S8_switch_is_cheap_and_makes_no_syscall(userland):
    k = 1000
    runs = [run("s8_switch", str(n), "m1", "plain", cpus=1) for n in (k, 2 * k)]
    for r in runs:
        assert r.status == 0, r.output + r.log
    instret = [sum(c.instret for c in r.kernel.sched.cpus) for r in runs]
    syscalls = [r.kernel.trap.stats["syscalls"] for r in runs]
    # Each run switches N times to warm up, then N times measured: 2k more switches in all.
    per_switch = (instret[1] - instret[0]) / (2 * k)
    assert per_switch < 100
    assert syscalls[0] == syscalls[1]                       # the 2k extra switches: 0 syscalls
    reported = num(r"plain: +\d+ instructions, ([\d.]+) per switch", runs[1].output)
    assert abs(reported - per_switch) < 1


def test_S8_no_kernel_event_inside_the_switch_loop(userland):
    r = run("s8_switch", "2000", trace=True, cpus=1)
    ok(r, "S8")
    ev = r.kernel.events
    pid = pid_of(ev, "s8_switch")
    begin, end = marks(ev, pid, 100)[0], marks(ev, pid, 101)[0]
    assert begin.detail["arg"] == 2000
    i = ev.index(begin) + 1                                 # marker 100's sysret: the loop starts
    j = ev.index(end) - 1                                   # marker 101's syscall: it has ended
    assert ev[i].kind == "sysret" and ev[j].kind == "syscall"
    inside = [e for e in ev[i + 1:j] if e.pid == pid and not (e.kind == "timer" and not e.detail["preempt"])]
    assert inside == []                                     # no syscall, trap, fault or switch
    # so the loop's virtual time is its instruction count: nothing else was charged
    per = (ev[j].time - ev[i].time) / 2000
    assert 50 < per < 100
    switches = marks(ev, pid, 1)                            # the traced loop: one uevent each,
    assert len(switches) == 2000 + 3                        # + main -> a, a -> b, b -> main
    assert len({e.detail["arg"] for e in switches}) == 3
    per_traced = num(r"traced: +\d+ instructions, ([\d.]+) per switch", r.output)
    assert per_traced > 2 * num(r"plain: +\d+ instructions, ([\d.]+) per switch", r.output)


# ---- S9: the kernel sees one LWP ----

def test_S9_m1_threads_are_one_lwp_to_the_kernel(userland):
    r = run("s9_onelwp", trace=True)
    ok(r, "S9")
    assert len(re.findall(r"user thread \d: 20 rounds, ran on lwp (\d+)", r.output)) == 8
    assert "lwpinfo: 1 LWP(s)" in r.output and re.search(r"ps: 1 row\(s\) for pid", r.output)
    ev = r.kernel.events
    pid = pid_of(ev, "s9_onelwp")
    assert {e.lwp for e in ev if e.pid == pid} == {pid}     # lwpid == pid: the first LWP only
    assert not [e for e in ev if e.pid == pid and e.kind == "lwp_create"]
    ps_rows = [l.split() for l in r.output.splitlines() if re.match(r" +\d+ +\d+ +[RrSZ] ", l)]
    assert [row for row in ps_rows if row[0] == str(pid)] == [[str(pid), str(pid), "S", "-", "s9_onelwp"]]


# ---- S10: a blocking call blocks every M:1 thread, not M:N ones ----

def sleep_window(ev, pid):
    """(lwp, start, end) of the sleeper's nanosleep between markers 200 and 201."""
    m0, m1 = marks(ev, pid, 200)[0], marks(ev, pid, 201)[0]
    sl = next(e for e in ev if e.pid == pid and e.kind == "sleep" and e.detail["chan"] == "nanosleep"
              and m0.time <= e.time <= m1.time)
    wk = next(e for e in ev if e.lwp == sl.lwp and e.kind == "wakeup" and e.time >= sl.time)
    return sl.lwp, sl.time, wk.time


def test_S10_m1_blocking_call_stops_every_thread(userland):
    r = run("s10_block", "m1", trace=True)
    ok(r, "S10")
    assert num(r"(\d+) before the sleep", r.output, int) > 0      # the workers had started
    assert num(r"before the sleep, (\d+) during it", r.output, int) == 0
    ev = r.kernel.events
    pid = pid_of(ev, "s10_block")
    lwp, t0, t1 = sleep_window(ev, pid)
    assert t1 - t0 >= 3_000_000
    assert overlap(on_cpu(ev, pid), t0, t1) == 0                   # no user time at all
    assert not [e for e in ev if e.pid == pid and t0 < e.time < t1]


def test_S10_mn_other_lwp_keeps_running(userland):
    r = run("s10_block", "mn", "2", trace=True)
    ok(r, "S10")
    during = num(r"before the sleep, (\d+) during it", r.output, int)
    assert during > 500                                            # ~4 us per chunk, 3 ms
    ev = r.kernel.events
    pid = pid_of(ev, "s10_block")
    lwp, t0, t1 = sleep_window(ev, pid)
    others = {e.lwp for e in ev if e.pid == pid} - {lwp}
    assert overlap(on_cpu(ev, pid), t0, t1, others) > 0.9 * (t1 - t0)
    assert "0 added" in r.output


def test_S10_mn_pool_grows_when_every_lwp_blocks(userland):
    r = run("s10_block", "mn", "1", trace=True)
    ok(r, "S10")
    assert "1 added because all were blocked" in r.output
    assert num(r"before the sleep, (\d+) during it", r.output, int) > 500
    ev = r.kernel.events
    pid = pid_of(ev, "s10_block")
    lwp, t0, t1 = sleep_window(ev, pid)
    grown = [e for e in ev if e.pid == pid and e.kind == "lwp_create"]
    assert len(grown) == 1 and marks(ev, pid, 200)[0].time < grown[0].time < t0


def test_S10_sa_blocked_upcall_runs_the_other_threads(userland):
    r = run("s10_block", "sa", "1", trace=True)
    ok(r, "S10")
    assert num(r"before the sleep, (\d+) during it", r.output, int) > 500
    ev = r.kernel.events
    pid = pid_of(ev, "s10_block")
    lwp, t0, t1 = sleep_window(ev, pid)
    ups = [e for e in ev if e.pid == pid and e.kind == "upcall"]
    blocked = [e for e in ups if e.detail["type"] == "BLOCKED" and t0 <= e.time <= t1]
    unblocked = [e for e in ups if e.detail["type"] == "UNBLOCKED" and e.time >= t1]
    assert blocked and unblocked                            # the kernel told the library both
    others = {e.lwp for e in ev if e.pid == pid} - {lwp}   # the activation(s) the vp went on with
    assert overlap(on_cpu(ev, pid), t0, t1, others) > 0.9 * (t1 - t0)
    assert not [e for e in ev if e.pid == pid and e.kind == "lwp_create"]   # no pool growth


def test_api_sa_on_one_hart(userland, utest):
    r = run(utest, "api", "sa", "2", cpus=1)
    assert r.status == 0 and r.output.endswith("ALL OK\n"), r.output + r.log


# ---- S13 with the library: the upcalls demo (UTHREAD_SA, 2 vps on 4 harts) ----

def check_upcalls_demo(r):
    ok(r, "S13")
    out = r.output
    rid = num(r"reader is thread (\d+)", out, int)
    lines = out.splitlines()
    b = next(i for i, l in enumerate(lines) if "BLOCKED " in l and "UNBLOCKED" not in l)
    other = num(r"-> runs thread (\d+)", lines[b], int)
    assert other != rid                                    # another thread got the processor
    assert any(f"UNBLOCKED sa" in l and f"context of thread {rid} " in l for l in lines[b + 1:])
    assert num(r"while the reader waited: (\d+) chunks", out, int) > 0
    ev = r.kernel.events
    pid = pid_of(ev, "upcalls")
    ups = [e for e in ev if e.pid == pid and e.kind == "upcall"]
    blocked = next(e for e in ups if e.detail["type"] == "BLOCKED")
    unblocked = next(e for e in ups if e.detail["type"] == "UNBLOCKED" and e.time > blocked.time)
    assert unblocked.detail["ids"][0] == blocked.detail["ids"][0]   # the reader's activation
    t0, t1 = blocked.time, unblocked.time
    # the activation that took the BLOCKED upcall ran user threads on that vp meanwhile
    assert overlap(on_cpu(ev, pid), t0, t1, {blocked.lwp}) > 0.8 * (t1 - t0)
    return out


def test_S13_upcalls_demo_nanosleep(userland):
    r = run("upcalls", cpus=4, trace=True, max_time=5e9)
    check_upcalls_demo(r)


def test_S13_upcalls_demo_cold_disk_read(userland, base_image, tmp_path):
    import shutil
    disk = str(tmp_path / "fs.img")
    shutil.copyfile(base_image, disk)
    r = simulate("upcalls", ["/bin/sh"], cpus=4, trace=True, max_time=5e9, disk=disk)
    out = check_upcalls_demo(r)
    assert "read 16384 bytes" in out


# ---- Anderson et al. 1991: speedup of a parallel computation that blocks for I/O ----

@pytest.mark.parametrize("seed", [0, 13])
def test_sa_speedup_with_blocking_io(userland, seed):
    """8 threads x 5 rounds of ~200 us of work + 100 us in nanosleep, on 4 harts. Seed 13
    gave SA's worst figure of seeds 0-16 (speedup 5.36; 5.36-5.59 over those seeds, M:N
    3.97, 1:1 5.66-5.69)."""
    r = run("sa_speedup", cpus=4, seed=seed)
    ok(r, "sa_speedup")
    t = {m: int(v) for m, v in re.findall(r"^(serial|M:1|M:N|1:1|SA)\b.* (\d+) +[\d.]+$", r.output, re.M)}
    assert len(t) == 5, r.output
    assert t["M:1"] >= max(t["M:N"], t["1:1"], t["SA"])    # one LWP: no parallelism, and
    assert t["M:1"] > 0.98 * t["serial"]                    # each sleep stops every thread
    assert t["SA"] <= t["M:N"]             # M:N loses an LWP for each thread in I/O
    # 1:1 is time-sliced, so its 8 threads' sleeps stay spread out; SA runs a thread until it
    # blocks, and when several happen to sleep at once a vp idles: 1-6 % slower over seeds
    # 0-16 (1-11 % booted from the disk), hence 15 %.
    assert t["SA"] <= 1.15 * t["1:1"]
    assert t["serial"] / t["SA"] > 4.5     # above the 4 harts: the I/O is overlapped too


# ---- S11: no parallelism under M:1 ----

def test_S11_m1_never_more_than_one_hart(userland):
    r = run("s11_parallel", "m1", cpus=4, trace=True)
    ok(r, "S11")
    assert num(r"ratio to the serial time: ([\d.]+)", r.output) >= 0.9
    ev = r.kernel.events
    spans = on_cpu(ev, pid_of(ev, "s11_parallel"))
    assert max_parallel(spans) == 1 and len({s[0] for s in spans}) == 1


def test_S11_mn_four_lwps_run_in_parallel(userland):
    r = run("s11_parallel", "mn", "4", cpus=4, trace=True)
    ok(r, "S11")
    assert num(r"ratio to the serial time: ([\d.]+)", r.output) <= 0.35
    ev = r.kernel.events
    spans = on_cpu(ev, pid_of(ev, "s11_parallel"))
    assert max_parallel(spans) == 4
    lwps = set(int(x) for x in re.findall(r"finished on lwp (\d+)", r.output))
    assert len(lwps) == 4


# ---- S12: cooperative vs preemptive ----

def test_S12_cooperative_hog_starves_the_others(userland):
    r = run("s12_preempt", "coop")
    ok(r, "S12")
    done = [int(x) for x in re.findall(r"(\d+)% done when thread 1 finished", r.output)]
    assert done == [100, 0, 0]
    assert "timer preemptions: 0" in r.output


def test_S12_timer_preemption_shares_the_processor(userland):
    r = run("s12_preempt", "preempt", "500", trace=True)
    ok(r, "S12")
    done = [int(x) for x in re.findall(r"(\d+)% done when thread 1 finished", r.output)]
    assert done[0] == 100 and min(done[1:]) >= 90
    n = num(r"timer preemptions: (\d+)", r.output, int)
    ev = r.kernel.events
    pid = pid_of(ev, "s12_preempt")
    ticks = [e for e in ev if e.pid == pid and e.kind == "signal" and e.detail["sig"] == 26]
    assert n >= 30 and len(ticks) >= n                     # 18 ms of work, a tick per 500 us


# ---- S17, S18: the Solaris figure ----

def test_S17_S18_solaris_switch_costs_in_order(userland):
    r = run("solaris", trace=True)
    ok(r, "S18")
    costs = {k: float(v) for k, v in re.findall(r"(T1-T2|T1-T3|T3-T4|K1-K2) (\d+)", r.output)}
    assert costs["T1-T2"] < costs["T1-T3"] < costs["T3-T4"]
    assert costs["K1-K2"] < costs["T3-T4"]
    label, table = r.inspect.costs()
    assert f"costs: {label}" in r.output                        # the header names the profile
    assert costs["K1-K2"] == table["KTHREAD_SWITCH"] + table["WAKEUP"]   # measured: a wakeup and a switch
    assert costs["T1-T2"] < 200                                 # a user-level switch
    m = re.search(r"pid (\d+)\): T1 on lwp (\d+), T2 on lwp (\d+) .* T3 on lwp (\d+) \(bound\)", r.output)
    pid, t1, t2, t3 = map(int, m.groups())
    assert t1 == t2 != t3                                       # T1, T2 share an LWP; T3 owns one
    pid2 = num(r"process 2 \(pid (\d+)\)", r.output, int)
    ev = r.kernel.events
    assert {e.lwp for e in ev if e.pid == pid} >= {t1, t3}
    assert pid2 != pid and any(e.kind == "aspace" and e.detail["pid"] == pid2 for e in ev)


def test_S18_K1_K2_is_measured_and_moves_with_the_kernel_thread_switch_entry(userland):
    """K1-K2 is timed by the kernel (two kernel threads handing a hart to each other), so
    overriding KTHREAD_SWITCH moves it, and T1-T3 and T3-T4 (same pipes) differ by the
    address-space change alone."""
    figs = {}
    for over in ((), ("KTHREAD_SWITCH=1000",), ("KTHREAD_SWITCH=3000",)):
        r = run("solaris", "20", cost_overrides=over)
        ok(r, "S18")
        figs[over] = {k: float(v) for k, v in re.findall(r"(T1-T2|T1-T3|T3-T4|K1-K2) (\d+)", r.output)}
    assert figs[("KTHREAD_SWITCH=1000",)]["K1-K2"] == 1000 < figs[("KTHREAD_SWITCH=3000",)]["K1-K2"] == 3000
    base, small = figs[()], figs[("KTHREAD_SWITCH=1000",)]
    assert base["K1-K2"] != small["K1-K2"] and base["T1-T2"] == small["T1-T2"]    # user level: unmoved
    assert base["T3-T4"] - base["T1-T3"] == small["T3-T4"] - small["T1-T3"]       # the address space alone


# ---- S19 and the cost table ----

def test_S19_summary(userland):
    r = run("s19_summary")
    ok(r, "S19")
    assert re.search(r"S8 .* \d+ instr, no syscall +\d+ instr, no syscall", r.output)
    assert re.search(r"S10 .* 0 chunks in \d+ us +[1-9]\d* chunks", r.output)
    assert re.search(r"S11 .* 1\.0\d x serial +0\.[23]\d x serial", r.output)


def test_costs_user_thread_rows(userland):
    r = run("costs")
    assert r.status == 0, r.output + r.log
    rows = {name.strip(): float(v) for name, v in re.findall(r"^(.{34}) +(\d+) +[\d.]+$", r.output, re.M)}
    for model in ("M:1", "M:N"):
        for op in ("uthread create + join", "uthread switch (yield)", "umutex handoff"):
            assert f"{model} {op}" in rows
    assert rows["M:1 uthread switch (yield)"] < 150 < rows["thread switch (futex ping-pong)"]
    assert rows["M:1 uthread create + join"] < rows["thread create + join"]
    assert rows["M:1 umutex handoff"] < rows["thread switch (futex ping-pong)"]


def test_costs_sa_paper_table(userland):
    """Anderson et al. 1991, Table 4: Null Fork and Signal-Wait for user threads on LWPs
    (M:N) and on scheduler activations, kernel threads (1:1) and processes. The paper's
    order must hold: user level below kernel threads below processes, and SA's fast path
    as cheap as M:N's (no kernel in either)."""
    r = run("costs")
    assert r.status == 0, r.output + r.log
    cols = ("mn", "sa", "kernel", "proc")
    table = {}
    for op, unit, *vals in re.findall(r"^(Null Fork|Signal-Wait) +(virtual ns|host us)" + r" +([\d.]+)" * 4 + "$",
                                     r.output, re.M):
        table[op, unit] = dict(zip(cols, map(float, vals)))
    assert len(table) == 4, r.output
    for op in ("Null Fork", "Signal-Wait"):
        v = table[op, "virtual ns"]
        # Measured 2.7x (Null Fork) and 2.1x (Signal-Wait), not the paper's 28x and 12x: a
        # kernel path here costs its xv6 instruction count (kernel/cost.py), Topaz's cost
        # far more. 1.5x still separates "no kernel" from "kernel" with room for the
        # library's paths to grow by a third.
        assert 1.5 * max(v["mn"], v["sa"]) <= v["kernel"] < v["proc"], (op, v)
        assert v["sa"] <= 1.15 * v["mn"], (op, v)              # SA costs nothing on the fast path
