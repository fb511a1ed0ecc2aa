"""python -m tools.timeline TRACE.json -o OUT.html: the trace as one self-contained page.

Harts are rows over virtual time, coloured by process (hue) and thread (shade); below them
one row per thread shows running, ready and blocked, and under a process's LWPs one lane per
user (green) thread shows when it held an LWP, coloured per user thread (UHUES), in that
LWP's state; faults, signals, upcalls and other
instants are marked; wake arrows link waker and woken. Zoom, pan and hover work offline:
the page is tools/timeline.html with the data inlined, no network, no external script.

Contracts:
- Input is trace-event JSON as tools/trace.py writes it (hart tracks under HARTS_PID).
- Same trace in, byte-identical HTML out: colours depend only on the order of pids and lwps.
- After drawing, the page writes a JSON summary into <pre id="summary"> (rows, segments
  drawn per hart, sample pixels, script errors) for tests.
"""
import argparse
import colorsys
import html
import json
import os
import sys

from kernel.inspect import CAUSE_NAMES
from kernel.inspect import signal_name as signame

from .trace import HARTS_PID, KERNEL_PID, UTHREAD_TID

TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "timeline.html")
HUES = (212, 30, 135, 275, 185, 48, 325, 95, 250, 15)        # one per process, in pid order
SHADES = (0.42, 0.60, 0.32, 0.70, 0.50, 0.37, 0.65, 0.28)   # lightness per thread of a process
UHUES = (0, 120, 210, 45, 280, 170, 330, 90, 240, 20, 190, 300)   # one per user thread id (lanes)
STATE_CODES = {"running": 0, "ready": 1, "blocked": 2}
UTHREAD_EV_SWITCH = 1                                       # userland/include/uthread.h


class TimelineError(Exception):
    pass


def hexcolour(hue: int, light: float, sat: float) -> str:
    r, g, b = colorsys.hls_to_rgb(hue / 360, light, sat)
    return "#%02x%02x%02x" % (round(r * 255), round(g * 255), round(b * 255))


def ns(ts) -> int:
    return round(ts * 1000)


def mark_text(name: str, args: dict) -> str:
    """A one-line description of an instant event."""
    a = dict(args)
    a.pop("hart", None)
    if name == "signal" and "sig" in a:
        return f"signal {signame(a['sig'])}"
    if name == "trap" and "cause" in a:
        return f"{CAUSE_NAMES.get(a['cause'], 'trap')} at pc {a.get('epc', 0):#x}, address {a.get('tval', 0):#x}"
    if name == "uevent" and a.get("code") == UTHREAD_EV_SWITCH:
        return f"user-level switch to uthread {a.get('arg', '?')} (uevent)"
    if name == "upcall" and "type" in a:
        ids = ", ".join(str(x) for x in a.get("ids", [])) if isinstance(a.get("ids"), list) else a.get("ids", "")
        return (f"upcall {a['type']}: {a.get('events', '?')} event(s), {a.get('interrupted', 0)} interrupted; "
                f"activations {ids}")
    if name == "pagefault":
        ok = "resolved" if a.get("ok") else "NOT resolved: SIGSEGV"
        return f"page fault ({a.get('access', '?')}) at {a.get('addr', 0):#x}, {ok}"
    parts = []
    for k, v in a.items():
        parts.append(f"{k}={v:#x}" if isinstance(v, int) and not isinstance(v, bool) and k in ("addr", "epc", "tval")
                     else f"{k}={v}")
    return " ".join([name] + parts)


def extract(trace: dict) -> dict:
    """The page's data: threads with colours, runs per hart, states per thread, marks, wakes."""
    if not isinstance(trace, dict) or not isinstance(trace.get("traceEvents"), list):
        raise TimelineError("not a trace-event JSON object (no traceEvents list)")
    other = trace.get("otherData") if isinstance(trace.get("otherData"), dict) else {}
    evs = [e for e in trace["traceEvents"] if isinstance(e, dict) and "ph" in e]
    hart_tids = {e["tid"] for e in evs if e.get("pid") == HARTS_PID and e["ph"] in "BEX" and e.get("tid", 0) >= HARTS_PID}
    cpus = max([int(other.get("cpus", 0))] + [t - HARTS_PID + 1 for t in hart_tids])
    if cpus < 1:
        raise TimelineError("the trace has no hart tracks")
    procs, tnames = {}, {}
    for e in evs:
        if e["ph"] == "M" and e.get("name") == "process_name":
            procs[e["pid"]] = str(e.get("args", {}).get("name", ""))
        elif e["ph"] == "M" and e.get("name") == "thread_name" and e.get("pid") != HARTS_PID:
            tnames[(e["pid"], e["tid"])] = str(e.get("args", {}).get("name", ""))
    keys = sorted({(e["pid"], e["tid"]) for e in evs if e.get("pid") not in (None, HARTS_PID) and e["ph"] != "M"}
                  | set(tnames), key=lambda k: (k[0] == KERNEL_PID, k[0], k[1]))
    index = {k: i for i, k in enumerate(keys)}
    threads = _threads(keys, tnames, procs)
    runs = [[] for _ in range(cpus)]
    states = [[] for _ in keys]
    marks, flows, open_b = [], {}, {}
    for e in evs:
        ph, pid, tid = e["ph"], e.get("pid"), e.get("tid")
        args = e.get("args") if isinstance(e.get("args"), dict) else {}
        if pid == HARTS_PID and ph == "B":
            open_b[tid] = e
        elif pid == HARTS_PID and ph == "E" and tid in open_b:
            b = open_b.pop(tid)
            ba = b.get("args", {})
            tpid = ba.get("pid", 0) if ba.get("pid", 0) > 0 else KERNEL_PID
            runs[tid - HARTS_PID].append([ns(b["ts"]), ns(e["ts"]), index.get((tpid, ba.get("lwp")), -1),
                                          str(args.get("why", ""))])
        elif ph == "X" and e.get("cat") == "state" and (pid, tid) in index:
            states[index[(pid, tid)]].append(_state(e, args, index))
        elif ph in ("s", "f"):
            flows.setdefault(e.get("id"), {})[ph] = e
        elif ph in ("i", "I") and e.get("cat") != "hidden":
            hart = args.get("hart", -1)
            if pid == HARTS_PID and tid >= HARTS_PID and e.get("s") != "g":
                hart = tid - HARTS_PID
            row = index.get((pid, tid), -1) if pid != HARTS_PID else -1
            marks.append([ns(e["ts"]), hart, row, str(e.get("cat", "other")), mark_text(str(e.get("name", "?")), args)])
    wakes = []
    for pair in flows.values():
        s, f = pair.get("s"), pair.get("f")
        if s is None or f is None:
            continue
        sleeper = index.get((s["pid"], s["tid"]), -1)
        waker = index.get((f["pid"], f["tid"]), -1)
        wakes.append([ns(s["ts"]), sleeper, ns(f["ts"]), waker if waker != sleeper else -1,
                      str(f.get("args", {}).get("chan", ""))])
    end = max([int(other.get("end_ns", 0))] + [r[1] for rs in runs for r in rs] + [s[1] for ss in states for s in ss])
    return {"title": _title(other, cpus), "cpus": cpus, "end": max(1, end), "threads": threads,
            "procs": _procs(threads), "harts": runs, "states": states, "marks": marks, "wakes": wakes}


def _state(e, args, index) -> list:
    start = ns(e["ts"])
    end = start + ns(e.get("dur", 0))
    st = str(args.get("state", "running"))
    if "uthread" in args:
        where = {"running": f"running on hart {args.get('hart', '?')}", "ready": "waiting for a hart",
                 "blocked": f"blocked in the kernel{' in ' + args['call'] if args.get('call') else ''}"
                            f" on {args.get('chan', '?')}"}.get(st, st)
        label = f"uthread {args['uthread']} holds lwp {args.get('lwp', '?')}: the lwp is {where}"
    elif st == "running":
        label = f"running on hart {args.get('hart', '?')}"
    elif st == "ready":
        label = f"ready ({args.get('why', '?')}): waiting for a hart"
    else:
        call = args.get("call") or ""
        label = f"blocked{' in ' + call if call else ''} on {args.get('chan', '?')}"
        by = args.get("by")
        if "reason" in args and args["reason"] != "woken":
            label += f"; {args['reason']}"
        elif by:
            label += f"; woken by lwp {by}"
        elif by == 0:
            label += "; woken by an interrupt"
    return [start, end, STATE_CODES.get(st, 0), label]


def _threads(keys, tnames, procs) -> list:
    user_pids = sorted({p for p, _ in keys if p != KERNEL_PID})
    nth = {}
    out = []
    for pid, tid in keys:
        kernel = pid == KERNEL_PID
        if not kernel and tid >= UTHREAD_TID:
            uid = tid - UTHREAD_TID
            light = 0.45
            out.append({"pid": pid, "lwp": tid, "name": tnames.get((pid, tid), f"uthread {uid}"),
                        "proc": procs.get(pid, ""), "color": hexcolour(UHUES[uid % len(UHUES)], light, 0.62),
                        "light": hexcolour(UHUES[uid % len(UHUES)], 0.86, 0.62), "text": "#ffffff",
                        "kernel": False, "uthread": uid})
            continue
        k = nth.get(pid, 0)
        nth[pid] = k + 1
        if kernel:
            hue, sat = 210, 0.08
        else:
            hue, sat = HUES[user_pids.index(pid) % len(HUES)], 0.68
        light = SHADES[k % len(SHADES)]
        name = tnames.get((pid, tid), "?")
        out.append({"pid": 0 if kernel else pid, "lwp": tid, "name": name,
                    "proc": procs.get(pid, ""), "color": hexcolour(hue, light, sat),
                    "light": hexcolour(hue, 0.86, sat), "text": "#ffffff" if light < 0.55 else "#111111",
                    "kernel": kernel, "uthread": None})
    return out


def _procs(threads) -> list:
    seen, out = set(), []
    for t in threads:
        if t["pid"] not in seen:
            seen.add(t["pid"])
            mine = [x for x in threads if x["pid"] == t["pid"]]
            out.append({"pid": t["pid"], "name": t["proc"] or t["name"],
                        "colors": [x["color"] for x in mine if x["uthread"] is None],
                        "ucolors": [x["color"] for x in mine if x["uthread"] is not None]})
    return out


def _title(other: dict, cpus: int) -> str:
    prog = " ".join(str(x) for x in [other.get("program") or "shell"] + list(other.get("args") or []))
    bits = [f"{cpus} hart{'s' if cpus != 1 else ''}"]
    for key, label in (("seed", "seed"), ("sched", "scheduler"), ("costs", "costs")):
        if key in other:
            bits.append(f"{label} {other[key]}")
    return f"{prog} ({', '.join(bits)})"


def render(trace: dict) -> str:
    """The HTML page for trace (a trace-event JSON object)."""
    data = extract(trace)
    with open(TEMPLATE, encoding="utf-8") as f:
        page = f.read()
    blob = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return page.replace("__TITLE__", html.escape(data["title"])).replace("__DATA__", blob)


def write(path: str, trace: dict) -> None:
    text = render(trace)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.timeline", description=__doc__.splitlines()[0])
    ap.add_argument("trace", help="trace-event JSON written by python -m tools.run --trace")
    ap.add_argument("-o", "--output", required=True, help="the HTML file to write")
    opts = ap.parse_args(argv)
    try:
        with open(opts.trace, encoding="utf-8") as f:
            trace = json.load(f)
        write(opts.output, trace)
    except OSError as e:
        print(f"tools.timeline: {e.filename}: {e.strerror}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as e:
        print(f"tools.timeline: {opts.trace}: not JSON: {e}", file=sys.stderr)
        return 2
    except (TimelineError, KeyError, TypeError, ValueError) as e:
        print(f"tools.timeline: {opts.trace}: not a trace this tool can draw: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
