"""Statistics of one run derived from its event stream (the model of tools/trace.py).

summarise(model) -> dict; lines(summary) -> the text --stats prints after the machine's
counters. Times are virtual ns; everything is deterministic for a given event stream.
"Harts at once" counts a process's threads in their running state, whose times are kept
monotonic per thread (hart clocks may differ by up to a quantum within a round).
"""
MAX_PROCS = 12           # processes listed by name; the rest are counted


def max_overlap(spans) -> int:
    """The largest number of spans (start, end) in progress at one instant (an end at t
    precedes a start at t)."""
    edges = sorted([(s, 1) for s, e in spans if e > s] + [(e, -1) for s, e in spans if e > s])
    best = cur = 0
    for _, d in edges:
        cur += d
        best = max(best, cur)
    return best


def summarise(model) -> dict:
    end = max(1, model.end)
    harts = []
    for h in range(model.cpus):
        runs = [r for r in model.runs if r.hart == h]
        busy = sum(r.end - r.start for r in runs)
        harts.append({"hart": h, "busy_ns": busy, "util": busy / end, "runs": len(runs)})
    procs = []
    for pid in sorted({r.pid for r in model.runs}, key=lambda p: (p == 0, p)):      # kernel threads last
        runs = [r for r in model.runs if r.pid == pid]
        threads = {lwp for lwp, (p, _) in model.threads.items() if p == pid}
        running = [(s.start, s.end) for s in model.states if s.pid == pid and s.state == "running"]
        procs.append({"pid": pid, "name": model.procs.get(pid, "") if pid else "kernel threads",
                      "cpu_ns": sum(r.end - r.start for r in runs), "max_harts": max_overlap(running),
                      "threads": len(threads)})
    blocked = {}
    for s in model.states:
        if s.state == "blocked" and s.pid:          # daemons wait for work: not a cost
            b = blocked.setdefault(s.info.get("chan", "?"), {"chan": s.info.get("chan", "?"), "ns": 0, "count": 0})
            b["ns"] += s.end - s.start
            b["count"] += 1
    offs = {}
    for r in model.runs:
        offs[r.why] = offs.get(r.why, 0) + 1
    kinds = {}
    for m in model.marks:
        kinds[m.kind] = kinds.get(m.kind, 0) + 1
    procs.sort(key=lambda p: (p["pid"] == 0, -p["cpu_ns"], p["pid"]))              # busiest first
    return {"end_ns": model.end, "harts": harts, "procs": procs,
            "blocked": sorted(blocked.values(), key=lambda b: (-b["ns"], b["chan"])),
            "switches": len(model.runs), "off": dict(sorted(offs.items())),
            "upcalls": kinds.get("upcall", 0), "downcalls": kinds.get("downcall", 0),
            "syscalls": len({(c.lwp, c.start) for c in model.calls}), "marks": dict(sorted(kinds.items()))}


def ms(ns: int) -> str:
    return f"{ns / 1e6:.3f} ms"


def lines(s: dict) -> list:
    out = ["-- from the event stream --"]
    for h in s["harts"]:
        out.append(f"hart {h['hart']} ran        {100 * h['util']:.1f}% of {ms(s['end_ns'])}, {h['runs']} runs")
    for p in s["procs"][:MAX_PROCS]:
        who = f"pid {p['pid']} ({p['name']})" if p["pid"] else "kernel threads"
        out.append(f"cpu time          {who}: {ms(p['cpu_ns'])} on harts, at most {p['max_harts']} "
                   f"hart{'s' if p['max_harts'] != 1 else ''} at once, {p['threads']} "
                   f"thread{'s' if p['threads'] != 1 else ''}")
    if len(s["procs"]) > MAX_PROCS:
        rest = s["procs"][MAX_PROCS:]
        out.append(f"cpu time          {len(rest)} more processes: {ms(sum(p['cpu_ns'] for p in rest))}")
    for b in s["blocked"]:
        out.append(f"blocked           on {b['chan']}: {ms(b['ns'])} in {b['count']} "
                   f"sleep{'s' if b['count'] != 1 else ''} (all user threads)")
    reasons = ", ".join(f"{k} {v}" for k, v in s["off"].items())
    out.append(f"thread switches   {s['switches']} ({reasons})")
    out.append(f"upcalls           {s['upcalls']} upcalls, {s['downcalls']} downcalls")
    return out
