"""From the kernel's event stream (kernel/trace.py) to intervals, and to trace-event JSON.

build(events, cpus, end) -> Model: what ran on each hart and when (Run), each thread's
state over time (State: running, ready, blocked), the part of each syscall spent on a hart
(Call), block -> wake links (Wake), everything else as instants (Mark), and from the
green-thread switches (uevent code 1, kernel/utrace.py) which user thread each LWP ran
(UThread: from one switch on the LWP to its next, in the LWP's own states).

chrome(model, meta) -> dict in the Chrome/Perfetto "JSON Object Format": one track per
hart (B/E per running interval), one per thread (X per state, syscalls nested in running),
flow arrows s -> f from each block to its wake, instants, and process/thread names; user
threads are tracks of their process too, tid UTHREAD_TID + id, named `uthread N on lwp L`.

Contracts:
- Events are taken in list order, which is causal order. Within one round of the machine
  loop hart clocks differ by up to a quantum, so a wake stamped by one hart may precede
  the sleep stamped by another: each thread's state times are clamped to never go back.
- Unknown event kinds become instants (category "other"): new kinds need no change here.
- Same events in, same model and byte-identical JSON out.
"""
import json
import os
from typing import NamedTuple

from emulator.hart import CAUSE_INSN_PAGE, CAUSE_LOAD_PAGE, CAUSE_STORE_PAGE

HARTS_PID = 1_000_000            # trace pid of the hart tracks; hart h is tid HARTS_PID + h
KERNEL_PID = 1_000_001           # trace pid of pure kernel threads (kernel pid 0)
PAGE_FAULT_CAUSES = (CAUSE_INSN_PAGE, CAUSE_LOAD_PAGE, CAUSE_STORE_PAGE)   # shown by pagefault events
UTHREAD_TID = 1_100_000          # trace tid of user thread N of a process: UTHREAD_TID + N
UEV_SWITCH = 1                   # uevent code of a green-thread switch (userland/include/uthread.h)


class Run(NamedTuple):
    hart: int
    start: int
    end: int
    pid: int
    lwp: int
    name: str
    why: str              # off's why (sleep|yield|preempt|exit|migrate|kill), end (still on
                          # the hart when the run ended) or lost (next switch came first)


class State(NamedTuple):
    pid: int
    lwp: int
    state: str            # running | ready | blocked
    start: int
    end: int
    info: dict            # running: hart; blocked: chan, call, by; ready: why


class Call(NamedTuple):
    pid: int
    lwp: int
    name: str
    start: int
    end: int


class Wake(NamedTuple):
    pid: int              # the sleeper
    lwp: int
    slept: int
    woke: int
    chan: str
    by: int               # waking lwp, 0 from an interrupt or timeout
    by_pid: int


class Mark(NamedTuple):
    time: int
    hart: int
    pid: int
    lwp: int
    kind: str
    category: str
    detail: dict


class UThread(NamedTuple):
    pid: int
    lwp: int              # the LWP it ran on
    uid: int              # the library's thread id (0 = main)
    state: str            # its LWP's state: running | ready | blocked
    start: int
    end: int
    info: dict            # its LWP's state info (hart; chan, call)


class Model(NamedTuple):
    cpus: int
    end: int
    runs: list
    states: list
    calls: list
    wakes: list
    marks: list
    procs: dict           # pid -> name (last known)
    threads: dict         # lwp -> (pid, name), first appearance order
    uthreads: list = []   # UThread, by (pid, uid, start)


def category(kind: str, detail: dict) -> str:
    """How a mark is shown: fault, pagefault, signal, timer, irq, device (requests), upcall,
    life, aspace, uevent, uthread (a green-thread switch), hidden (a page-fault trap: its
    pagefault event follows) or other."""
    if kind == "trap":
        return "hidden" if detail.get("cause") in PAGE_FAULT_CAUSES else "fault"
    if kind == "pagefault":
        return "pagefault" if detail.get("ok") else "fault"
    if kind.startswith(("upcall", "downcall")) or kind in ("sa_alloc", "vp_taken"):
        return "upcall"
    if kind in ("fork", "exec", "exit", "lwp_create", "lwp_exit"):
        return "life"
    if kind in ("device", "disk"):
        return "device"
    if kind == "uevent" and detail.get("code") == UEV_SWITCH:
        return "uthread"
    if kind in ("signal", "timer", "irq", "aspace", "uevent"):
        return kind
    return "other"


class _Builder:
    def __init__(self, cpus):
        self.cpus = cpus
        self.runs, self.states, self.calls, self.wakes, self.marks = [], [], [], [], []
        self.procs, self.threads = {}, {}
        self.oncpu = {}           # hart -> [start, pid, lwp, name]
        self.cur = {}             # lwp -> [state, start, info]
        self.last = {}            # lwp -> latest time seen for it (clamp)
        self.call = {}            # lwp -> [name, piece start or None]
        self.slept = {}           # lwp -> (time, chan)
        self.born = {}            # ("pid", p) or ("lwp", l) -> birth time
        self.uswitch = {}         # lwp -> [(time, pid, uthread id)], green-thread switches
        self.exec_lwp = {}        # pid -> (lwp, time): its first LWP, or its last exec's; main
                                  # (uthread 0) holds that LWP from then on

    def at(self, lwp, t):
        t = max(t, self.last.get(lwp, t))
        self.last[lwp] = t
        return t

    def know(self, pid, lwp, name=None):
        if lwp not in self.threads:
            self.threads[lwp] = (pid, name or self.procs.get(pid, "?"))
            born = self.born.pop(("lwp", lwp), None)
            if born is None:
                born = self.born.pop(("pid", pid), None)
            if born is not None and lwp not in self.cur:
                self.last[lwp] = born
                self.cur[lwp] = ["ready", born, {"why": "new"}]
            if pid not in self.exec_lwp:
                self.exec_lwp[pid] = (lwp, born if born is not None else 0)
        elif name is not None:
            self.threads[lwp] = (pid, name)
        if name is not None and pid and pid not in self.procs:
            self.procs[pid] = name

    def state(self, pid, lwp, state, t, info):
        """Thread lwp enters state at t (None: it is gone)."""
        t = self.at(lwp, t)
        old = self.cur.pop(lwp, None)
        if old is not None and t > old[1]:
            self.states.append(State(pid, lwp, old[0], old[1], t, old[2]))
        if state is not None:
            self.cur[lwp] = [state, t, info]

    def run_off(self, hart, t, why):
        r = self.oncpu.pop(hart, None)
        if r is not None:
            self.runs.append(Run(hart, r[0], max(t, r[0]), r[1], r[2], r[3], why))

    def call_piece(self, pid, lwp, t):
        c = self.call.get(lwp)
        if c is not None and c[1] is not None:
            if t > c[1]:
                self.calls.append(Call(pid, lwp, c[0], c[1], t))
            c[1] = None

    def feed(self, e):
        t, hart, pid, lwp, kind, d = e
        if kind == "switch":
            self.know(pid, lwp, d.get("name"))
            self.run_off(hart, t, "lost")
            self.oncpu[hart] = [t, pid, lwp, d.get("name", "?")]
            self.state(pid, lwp, "running", t, {"hart": hart})
            c = self.call.get(lwp)
            if c is not None:
                c[1] = self.last[lwp]
        elif kind == "off":
            why = d.get("why", "?")
            if hart < 0:                        # stamped outside the hart: find it by thread
                hart = next((h for h, r in sorted(self.oncpu.items()) if r[2] == lwp), hart)
            self.run_off(hart, t, why)
            self.call_piece(pid, lwp, t)
            if why in ("exit", "kill"):
                self.state(pid, lwp, None, t, None)
                self.call.pop(lwp, None)
            elif why != "sleep":
                self.state(pid, lwp, "ready", t, {"why": why})
        elif kind == "sleep":
            self.know(pid, lwp)
            c = self.call.get(lwp)
            self.slept[lwp] = (self.at(lwp, t), d.get("chan", "?"))
            self.state(pid, lwp, "blocked", t, {"chan": d.get("chan", "?"), "call": c[0] if c else ""})
        elif kind == "wakeup":
            self.know(pid, lwp)
            by = d.get("by", 0) or 0
            t = self.at(lwp, t)
            info = self.cur.get(lwp, [None, 0, {}])[2]
            info["by"] = by
            if "reason" in d:
                info["reason"] = d["reason"]
            slept = self.slept.pop(lwp, None)
            if slept is not None:
                by_pid = self.threads.get(by, (0, ""))[0] if by else 0
                self.wakes.append(Wake(pid, lwp, slept[0], t, slept[1], by, by_pid))
            self.state(pid, lwp, "ready", t, {"why": "woken"})
        elif kind == "syscall":
            self.call[lwp] = [d.get("name", "?"), self.at(lwp, t)]
        elif kind == "sysret":
            self.call_piece(pid, lwp, self.at(lwp, t))
            self.call.pop(lwp, None)
        else:
            self.mark(e)

    def mark(self, e):
        t, hart, pid, lwp, kind, d = e
        self.marks.append(Mark(t, hart, pid, lwp, kind, category(kind, d), d))
        if kind == "uevent" and d.get("code") == UEV_SWITCH and isinstance(d.get("arg"), int):
            uid = d["arg"] - (1 << 64) if d["arg"] >= 1 << 63 else d["arg"]    # a long register
            self.uswitch.setdefault(lwp, []).append((t, pid, uid))
        elif kind == "fork":
            self.born[("pid", d.get("child"))] = t
            if pid in self.procs:
                self.procs.setdefault(d.get("child"), self.procs[pid])
        elif kind == "lwp_create":
            self.born[("lwp", d.get("lwp"))] = t
        elif kind == "exec":
            self.exec_lwp[pid] = (lwp, t)
            name = str(d.get("path", "?")).rsplit("/", 1)[-1][:15] or "?"
            self.procs[pid] = name
            if lwp in self.threads:
                self.threads[lwp] = (pid, name)
        elif kind == "exit":
            for l, (p, _) in self.threads.items():      # LWPs stopped where they were
                if p == pid and l in self.cur and self.cur[l][0] != "running":
                    self.state(p, l, None, t, None)
                    self.call.pop(l, None)
                    self.slept.pop(l, None)

    def finish(self, end):
        for t in self.last.values():
            end = max(end, t)
        for hart in sorted(self.oncpu):
            self.run_off(hart, end, "end")
        for lwp in sorted(self.call):
            pid = self.threads.get(lwp, (0, ""))[0]
            self.call_piece(pid, lwp, end)
        for lwp in sorted(self.cur):
            self.state(self.threads.get(lwp, (0, ""))[0], lwp, None, end, None)
        key = {"runs": lambda r: (r.hart, r.start), "states": lambda s: (s.lwp, s.start),
               "calls": lambda c: (c.lwp, c.start)}
        states = sorted(self.states, key=key["states"])
        return Model(self.cpus, end, sorted(self.runs, key=key["runs"]), states,
                     sorted(self.calls, key=key["calls"]), self.wakes, self.marks, dict(self.procs),
                     dict(self.threads), self.uthreads(states, end))

    def uthreads(self, states, end) -> list:
        """Each user thread holds its LWP from a switch to it until the LWP's next switch
        (idle: id < 0, nobody), and is in the LWP's state meanwhile; main (0) holds the
        process's first LWP (the one that exec'd it) until that LWP's first switch."""
        by_lwp = {}
        for s in states:
            by_lwp.setdefault(s.lwp, []).append(s)
        out = []
        for lwp, sw in sorted(self.uswitch.items()):
            pid = sw[0][1]
            if self.exec_lwp.get(pid, (None,))[0] == lwp and self.exec_lwp[pid][1] <= sw[0][0]:
                sw = [(self.exec_lwp[pid][1], pid, 0)] + sw
            for i, (t, pid, uid) in enumerate(sw):
                stop = sw[i + 1][0] if i + 1 < len(sw) else end
                if uid < 0:
                    continue
                for s in by_lwp.get(lwp, ()):
                    a, b = max(t, s.start), min(stop, s.end)
                    if a < b:
                        out.append(UThread(pid, lwp, uid, s.state, a, b, s.info))
        return sorted(out, key=lambda u: (u.pid, u.uid, u.start))


def build(events, cpus: int, end: int = 0) -> Model:
    """The model of one run; end: the machine's final time (the latest event if later)."""
    b = _Builder(cpus)
    for e in events:
        b.feed(e)
    return b.finish(end)


# ---- Chrome / Perfetto trace-event JSON ----

def us(ns: int) -> float:
    """Virtual ns as trace microseconds (exact to the ns)."""
    return round(ns / 1000, 3)


def trace_pid(pid: int) -> int:
    return pid if pid > 0 else KERNEL_PID


def run_name(pid: int, lwp: int, name: str) -> str:
    return f"pid {pid} lwp {lwp} {name}" if pid else f"kernel thread {lwp} {name}"


def _plain(v):
    if isinstance(v, (int, float, str, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return str(v)


def _jsonable(d: dict) -> dict:
    """Event details as JSON values: numbers, strings, lists of them; anything else as text."""
    return {k: _plain(v) for k, v in d.items()}


def chrome(model: Model, meta: dict) -> dict:
    """The trace-event JSON object of model; meta (program, seed, ...) goes in otherData."""
    evs = []                                    # (ts ns, order, event)

    def add(ns, ev):
        evs.append((ns, len(evs), ev))

    for r in model.runs:
        tid = HARTS_PID + r.hart
        args = {"pid": r.pid, "lwp": r.lwp, "name": r.name}
        add(r.start, {"ph": "B", "name": run_name(r.pid, r.lwp, r.name), "cat": "run", "ts": us(r.start),
                      "pid": HARTS_PID, "tid": tid, "args": args})
        add(r.end, {"ph": "E", "ts": us(r.end), "pid": HARTS_PID, "tid": tid, "args": {"why": r.why}})
    for s in model.states:
        name = s.state if s.state != "blocked" else f"blocked: {s.info.get('chan', '?')}"
        add(s.start, {"ph": "X", "name": name, "cat": "state", "ts": us(s.start), "dur": us(s.end - s.start),
                      "pid": trace_pid(s.pid), "tid": s.lwp, "args": dict(_jsonable(s.info), state=s.state)})
    for u in model.uthreads:
        args = {k: v for k, v in _jsonable(u.info).items() if k in ("hart", "chan", "call")}
        add(u.start, {"ph": "X", "name": f"uthread {u.uid}" + ("" if u.state == "running" else f": lwp {u.state}"),
                      "cat": "state", "ts": us(u.start), "dur": us(u.end - u.start), "pid": trace_pid(u.pid),
                      "tid": UTHREAD_TID + u.uid, "args": dict(args, state=u.state, lwp=u.lwp, uthread=u.uid)})
    for c in model.calls:
        add(c.start, {"ph": "X", "name": c.name, "cat": "syscall", "ts": us(c.start), "dur": us(c.end - c.start),
                      "pid": trace_pid(c.pid), "tid": c.lwp})
    for i, w in enumerate(model.wakes, 1):
        woke = max(w.woke, w.slept)
        add(w.slept, {"ph": "s", "id": i, "name": "wake", "cat": "wake", "ts": us(w.slept),
                      "pid": trace_pid(w.pid), "tid": w.lwp})
        by_pid, by = (w.by_pid, w.by) if w.by else (w.pid, w.lwp)
        add(woke, {"ph": "f", "bp": "e", "id": i, "name": "wake", "cat": "wake", "ts": us(woke),
                   "pid": trace_pid(by_pid), "tid": by, "args": {"chan": w.chan, "woken": w.lwp}})
    for m in model.marks:
        args = dict(_jsonable(m.detail), hart=m.hart)
        if m.lwp:
            add(m.time, {"ph": "i", "s": "t", "name": m.kind, "cat": m.category, "ts": us(m.time),
                         "pid": trace_pid(m.pid), "tid": m.lwp, "args": args})
        elif m.hart >= 0:
            add(m.time, {"ph": "i", "s": "t", "name": m.kind, "cat": m.category, "ts": us(m.time),
                         "pid": HARTS_PID, "tid": HARTS_PID + m.hart, "args": args})
        else:
            add(m.time, {"ph": "i", "s": "g", "name": m.kind, "cat": m.category, "ts": us(m.time),
                         "pid": HARTS_PID, "tid": HARTS_PID, "args": args})
    evs.sort(key=lambda x: (x[0], x[1]))
    return {"traceEvents": _metadata(model) + [ev for _, _, ev in evs], "displayTimeUnit": "ns",
            "otherData": dict(meta, cpus=model.cpus, end_ns=model.end, time_unit="virtual ns (1 instruction = 1 ns)")}


def _metadata(model: Model) -> list:
    out = [{"ph": "M", "name": "process_name", "pid": HARTS_PID, "tid": 0, "args": {"name": "harts"}},
           {"ph": "M", "name": "process_sort_index", "pid": HARTS_PID, "tid": 0, "args": {"sort_index": -2}}]
    for h in range(model.cpus):
        out.append({"ph": "M", "name": "thread_name", "pid": HARTS_PID, "tid": HARTS_PID + h,
                    "args": {"name": f"hart {h}"}})
        out.append({"ph": "M", "name": "thread_sort_index", "pid": HARTS_PID, "tid": HARTS_PID + h,
                    "args": {"sort_index": h}})
    pids = sorted({p for p, _ in model.threads.values()} | set(model.procs))
    for pid in pids:
        name = model.procs.get(pid, "?") if pid else "kernel threads"
        out.append({"ph": "M", "name": "process_name", "pid": trace_pid(pid), "tid": 0, "args": {"name": name}})
        out.append({"ph": "M", "name": "process_sort_index", "pid": trace_pid(pid), "tid": 0,
                    "args": {"sort_index": pid if pid else KERNEL_PID}})
    for lwp, (pid, name) in sorted(model.threads.items()):
        out.append({"ph": "M", "name": "thread_name", "pid": trace_pid(pid), "tid": lwp,
                    "args": {"name": name}})
    lwps = {}
    for u in model.uthreads:
        lwps.setdefault((u.pid, u.uid), set()).add(u.lwp)
    for (pid, uid), on in sorted(lwps.items()):
        where = f" on lwp {min(on)}" if len(on) == 1 else f" on {len(on)} lwps"
        out.append({"ph": "M", "name": "thread_name", "pid": trace_pid(pid), "tid": UTHREAD_TID + uid,
                    "args": {"name": f"uthread {uid}{where}"}})
    return out


def dumps(obj: dict) -> str:
    """Deterministic JSON text, one trace event per line."""
    head = {k: v for k, v in obj.items() if k != "traceEvents"}
    lines = [json.dumps(ev, separators=(",", ":")) for ev in obj["traceEvents"]]
    rest = json.dumps(head, separators=(",", ":"), sort_keys=True)[1:-1]
    return '{"traceEvents":[\n' + ",\n".join(lines) + "\n]," + rest + "}\n"


def check_outputs(*paths) -> None:
    """ValueError for the first output path whose directory does not exist (before a run)."""
    for path in paths:
        if path is not None and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise ValueError(f"cannot write {path}: no such directory")


def save(model: Model, meta: dict, json_path=None, html_path=None) -> None:
    """Write the trace JSON and/or the HTML timeline; the page is drawn from the JSON text,
    so `tools.timeline OUT.json` makes the same page. Raises OSError."""
    from . import timeline
    text = dumps(chrome(model, meta))
    if json_path is not None:
        with open(json_path, "w", encoding="utf-8") as f:
            f.write(text)
    if html_path is not None:
        timeline.write(html_path, json.loads(text))
