"""The trace tools: the model built from the event stream, the Chrome/Perfetto trace-event
JSON (format checked event by event), --stats, the CLI and the demo table."""
import json
import os
import subprocess
import sys

from kernel.trace import Event
from tests.conftest import ROOT
from tools import demos, stats, trace
from tools.run import simulate

PHASES = {"B", "E", "X", "i", "s", "f", "M"}
METADATA = {"process_name": "name", "thread_name": "name", "process_sort_index": "sort_index",
            "thread_sort_index": "sort_index"}


def validate(obj: dict) -> dict:
    """Check obj against the trace-event format (JSON Object Format); returns counts.
    Required fields per phase, B/E matched per track, timestamps monotonic per track,
    complete events nested, flow ids paired s -> f."""
    assert set(obj) >= {"traceEvents", "displayTimeUnit"}
    assert obj["displayTimeUnit"] in ("ms", "ns")
    stacks, last, slices, flows, counts = {}, {}, {}, {}, {}
    for ev in obj["traceEvents"]:
        ph = ev["ph"]
        assert ph in PHASES, ev
        counts[ph] = counts.get(ph, 0) + 1
        assert isinstance(ev["pid"], int) and isinstance(ev["tid"], int), ev
        if ph == "M":
            assert ev["name"] in METADATA and METADATA[ev["name"]] in ev["args"], ev
            continue
        assert isinstance(ev["ts"], (int, float)) and ev["ts"] >= 0, ev
        track = (ev["pid"], ev["tid"])
        assert ev["ts"] >= last.get(track, 0), f"timestamps go back on track {track}: {ev}"
        last[track] = ev["ts"]
        ns = round(ev["ts"] * 1000)
        if ph in ("B", "X", "i", "s", "f"):
            assert isinstance(ev["name"], str) and ev["name"], ev
        if ph == "B":
            stacks.setdefault(track, []).append(ns)
        elif ph == "E":
            assert stacks.get(track), f"E without B on {track}: {ev}"
            assert ns >= stacks[track].pop()
        elif ph == "X":
            assert ev["dur"] >= 0, ev
            end = ns + round(ev["dur"] * 1000)
            open_ = slices.setdefault(track, [])
            while open_ and open_[-1] <= ns:
                open_.pop()
            assert not open_ or end <= open_[-1], f"X slices overlap without nesting on {track}: {ev}"
            open_.append(end)
        elif ph == "i":
            assert ev["s"] in ("t", "p", "g"), ev
        elif ph in ("s", "f"):
            assert ev["cat"] and "id" in ev, ev
            if ph == "f":
                assert ev["bp"] == "e"
            assert ph not in flows.setdefault(ev["id"], {}), f"flow id {ev['id']} used twice"
            flows[ev["id"]][ph] = ns
    assert all(not s for s in stacks.values()), "B without E"
    for fid, pair in flows.items():
        assert set(pair) == {"s", "f"} and pair["f"] >= pair["s"], f"flow {fid}: {pair}"
    counts["flows"] = len(flows)
    return counts


def traced(program, args=(), cpus=4, seed=0):
    r = simulate(program, args, cpus=cpus, seed=seed, trace=True)
    model = trace.build(r.kernel.events, cpus, r.machine.clock.now)
    return r, model


def test_threadcrash_trace_is_valid_and_complete(userland):
    r, model = traced("s7_threadcrash")
    text = trace.dumps(trace.chrome(model, {"program": "s7_threadcrash"}))
    obj = json.loads(text)
    assert json.loads(json.dumps(obj)) == obj
    counts = validate(obj)
    assert counts["B"] == counts["E"] == len(model.runs) > 10
    assert counts["flows"] == len(model.wakes) > 5
    evs = obj["traceEvents"]
    harts = [e for e in evs if e["ph"] == "M" and e["name"] == "thread_name" and e["pid"] == trace.HARTS_PID]
    assert [e["args"]["name"] for e in harts] == [f"hart {h}" for h in range(4)]
    crash = [e for e in evs if e["ph"] == "i" and e["cat"] == "fault"]
    assert crash and crash[0]["args"]["addr"] == 0x10            # thread 3 writes to 0x10
    assert any(e["ph"] == "i" and e["name"] == "signal" and e["args"]["sig"] == 11 for e in evs)
    blocked = [e for e in evs if e["ph"] == "X" and e["name"].startswith("blocked")]
    assert any(e["args"]["chan"] == "pipe" and e["args"]["call"] == "read" for e in blocked)   # the parent's read
    pid = next(p for p, n in model.procs.items() if n == "s7_threadcrash" and
               sum(1 for q, _ in model.threads.values() if q == p) == 5)
    lwps = [l for l, (p, _) in model.threads.items() if p == pid]
    dead_at = max(s.end for s in model.states if s.pid == pid)
    for lwp in lwps:                       # every LWP of the crashed process ends together
        assert max(s.end for s in model.states if s.lwp == lwp) <= dead_at
        assert not [s for s in model.states if s.lwp == lwp and s.start >= dead_at]


def test_model_tracks_are_consistent(userland):
    _, model = traced("s20_parallel", ["100000"])
    for h in range(model.cpus):
        runs = [r for r in model.runs if r.hart == h]
        assert all(a.end <= b.start for a, b in zip(runs, runs[1:])), f"overlapping runs on hart {h}"
    for lwp in model.threads:
        st = [s for s in model.states if s.lwp == lwp]
        assert all(a.end <= b.start for a, b in zip(st, st[1:])), f"overlapping states of lwp {lwp}"
        ran = [r for r in model.runs if r.lwp == lwp]
        running = [s for s in st if s.state == "running"]
        assert len([r for r in ran if r.end > r.start]) == len(running)
    for c in model.calls:                  # syscall pieces lie inside a running interval
        assert any(s.lwp == c.lwp and s.state == "running" and s.start <= c.start and c.end <= s.end
                   for s in model.states), c


def test_same_seed_same_json_bytes(userland):
    a = trace.dumps(trace.chrome(traced("spin", ["20000", "4"], seed=9)[1], {"seed": 9}))
    b = trace.dumps(trace.chrome(traced("spin", ["20000", "4"], seed=9)[1], {"seed": 9}))
    assert a == b and len(a) > 5000


def test_state_machine_on_a_made_up_stream():
    """A thread runs, sleeps in a syscall, is woken, runs again, exits; unknown kinds and
    upcalls become instants; a thread killed on another hart leaves it at its own time."""
    E = Event
    evs = [E(10, 0, 5, 5, "switch", {"name": "p"}),
           E(20, 0, 5, 5, "syscall", {"nr": 63, "name": "read"}),
           E(30, 0, 5, 5, "sleep", {"chan": "disk"}),
           E(30, 0, 5, 5, "off", {"why": "sleep"}),
           E(35, 1, 5, 6, "switch", {"name": "p"}),
           E(40, -1, 5, 6, "upcall", {"type": "blocked"}),
           E(45, -1, 0, 0, "mystery", {"x": 1}),
           E(50, -1, 5, 5, "wakeup", {"chan": "disk", "by": 0}),
           E(60, 0, 5, 5, "switch", {"name": "p"}),
           E(65, 0, 5, 5, "sysret", {"nr": 63, "ret": 1}),
           E(70, 1, 5, 6, "off", {"why": "kill"}),
           E(80, 0, 5, 5, "exit", {"status": 0}),
           E(80, 0, 5, 5, "off", {"why": "exit"})]
    m = trace.build(evs, cpus=2, end=100)
    st = [(s.lwp, s.state, s.start, s.end) for s in m.states]
    assert st == [(5, "running", 10, 30), (5, "blocked", 30, 50), (5, "ready", 50, 60), (5, "running", 60, 80),
                  (6, "running", 35, 70)]
    assert [(r.hart, r.start, r.end, r.why) for r in m.runs] == [(0, 10, 30, "sleep"), (0, 60, 80, "exit"),
                                                                 (1, 35, 70, "kill")]
    assert [(c.start, c.end) for c in m.calls] == [(20, 30), (60, 65)]
    assert [(w.lwp, w.slept, w.woke, w.by) for w in m.wakes] == [(5, 30, 50, 0)]
    assert {mk.kind: mk.category for mk in m.marks} == {"upcall": "upcall", "mystery": "other", "exit": "life"}
    counts = validate(json.loads(trace.dumps(trace.chrome(m, {}))))
    assert counts["i"] == 3 and counts["flows"] == 1


def test_stats_see_parallelism(userland):
    for cpus, most in ((4, 4), (1, 1)):
        _, model = traced("s20_parallel", ["50000"], cpus=cpus)
        s = stats.summarise(model)
        proc = next(p for p in s["procs"] if p["name"] == "s20_parallel")
        assert proc["max_harts"] == most and proc["threads"] == 5
        assert s["switches"] == len(model.runs) and s["upcalls"] == 0
        assert 0 < sum(h["util"] for h in s["harts"]) <= cpus
    assert any(b["chan"] == "lwp_wait" for b in s["blocked"])       # main joins its threads
    text = "\n".join(stats.lines(s))
    assert "s20_parallel" in text and "at most 1 hart at once" in text


def cli(*args):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_cli_writes_trace_timeline_and_stats(userland, tmp_path):
    j, h, h2 = tmp_path / "t.json", tmp_path / "t.html", tmp_path / "t2.html"
    r = cli("-m", "tools.run", "--no-disk", "--stats", "--trace", str(j), "--timeline", str(h), "s1_procmem")
    assert r.returncode == 0, r.stderr
    assert "-- from the event stream --" in r.stderr and "context switches" in r.stderr
    assert "at most 1 hart at once" in r.stderr
    validate(json.loads(j.read_text()))
    r = cli("-m", "tools.timeline", str(j), "-o", str(h2))
    assert r.returncode == 0, r.stderr
    assert h.read_bytes() == h2.read_bytes()                   # one page, whichever way it is made


def test_cli_errors_are_one_line(userland, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    cases = [("-m", "tools.run", "--no-disk", "--trace", "/no/such/dir/t.json", "hello"),
             ("-m", "tools.timeline", str(tmp_path / "missing.json"), "-o", str(tmp_path / "x.html")),
             ("-m", "tools.timeline", str(bad), "-o", str(tmp_path / "x.html")),
             ("-m", "tools.demos", "S99")]
    for args in cases:
        r = cli(*args)
        assert r.returncode == 2 and "Traceback" not in r.stderr, (args, r.stderr)
        assert r.stderr.strip().count("\n") == 0, (args, r.stderr)
    (tmp_path / "empty.json").write_text('{"traceEvents": []}')
    r = cli("-m", "tools.timeline", str(tmp_path / "empty.json"), "-o", str(tmp_path / "x.html"))
    assert r.returncode == 2 and "no hart tracks" in r.stderr


def test_demo_table_names_built_programs(userland):
    assert {"S1", "S2", "S20"} <= set(demos.DEMOS)
    for claim, (opts, program, args) in demos.DEMOS.items():
        assert f"/bin/{program}" in userland, f"{claim}: no program {program}"
        assert os.path.exists(os.path.join(ROOT, "userland", "bin", program + ".c"))


def test_demo_writes_its_timeline(userland, tmp_path):
    out = tmp_path / "demo.html"
    r = cli("-m", "tools.demos", "S2", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "S2 OK" in r.stdout and out.stat().st_size > 5000
