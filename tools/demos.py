"""python -m tools.demos [--costs NAME] [--cost ENTRY=VALUE]... ID [-o OUT.html]: run the demo program of a seed claim
(docs/tour/) and write its timeline; `make demo-S20` calls it.
ID `all` runs every demo, each to build/demo-ID.html.

DEMOS maps a claim id to (tools.run options, program, arguments). Only claims whose demo
program exists in userland/bin are listed. Demos that are not about I/O run with --no-disk,
so the picture is not dominated by loading the program from the disk.
"""
import argparse
import os
import sys

from tools import run

DEMOS = {
    "S1": (["--no-disk"], "s1_procmem", []),
    "S2": (["--no-disk"], "s2_crash", []),
    "S3": (["--no-disk"], "costs", []),
    "S4": (["--no-disk"], "s4_shared", []),
    "S5": (["--no-disk"], "s5_stacks", []),
    "S6": (["--no-disk"], "costs", []),
    "S7": (["--no-disk"], "s7_threadcrash", []),
    "S8": (["--no-disk"], "s8_switch", ["200"]),
    "S9": (["--no-disk"], "s9_onelwp", []),
    "S10": (["--no-disk"], "s10_block", ["m1"]),
    "S11": (["--no-disk"], "s11_parallel", ["m1"]),
    "S12": (["--no-disk"], "s12_preempt", ["preempt"]),
    "S13": (["--no-disk", "--cpus", "2"], "s13_upcalls", []),
    "S14": (["--no-disk", "--cpus", "1", "--sched", "two-level"], "sched_share", ["4", "0.02"]),
    "S15": (["--no-disk"], "s15_threads", []),
    "S16": (["--no-disk"], "s16_kthreads", []),
    "S17": (["--no-disk"], "solaris", []),
    "S18": (["--no-disk"], "solaris", []),
    "S19": (["--no-disk"], "s19_summary", []),
    "S20": (["--no-disk"], "s20_parallel", []),
}


def argv_of(claim: str, out: str, costs=()) -> list:
    """The tools.run command line of a demo (KeyError for an unknown claim); costs: the
    --costs/--cost options to pass on."""
    opts, program, args = DEMOS[claim]
    return opts + list(costs) + ["--timeline", out, program] + args


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.demos", description=__doc__.splitlines()[0])
    ap.add_argument("claim", help="a claim id (" + ", ".join(DEMOS) + ") or all")
    ap.add_argument("-o", "--output", default=None, help="HTML timeline (default build/demo-ID.html)")
    ap.add_argument("--costs", default=None, metavar="NAME", help="cost profile (tools.run --costs)")
    ap.add_argument("--cost", action="append", default=[], metavar="ENTRY=VALUE",
                    help="override one cost entry (tools.run --cost; repeatable)")
    opts = ap.parse_args(argv)
    costs = (["--costs", opts.costs] if opts.costs else []) + [a for c in opts.cost for a in ("--cost", c)]
    claim = opts.claim.upper()
    if claim == "ALL":
        worst = 0
        for c in DEMOS:
            worst = max(worst, demo(c, None, costs))
        return worst
    if claim not in DEMOS:
        print(f"tools.demos: no demo for {opts.claim!r}; demos: {', '.join(DEMOS)}", file=sys.stderr)
        return 2
    return demo(claim, opts.output, costs)


def demo(claim: str, out, costs=()) -> int:
    """Run one demo; its timeline goes to out (default build/demo-ID.html)."""
    out = out or os.path.join(run.ROOT, "build", f"demo-{claim}.html")
    argv = argv_of(claim, out, costs)
    print(f"demo {claim}: python -m tools.run {' '.join(argv)}", file=sys.stderr)
    status = run.main(argv)
    if status == 0:
        print(f"demo {claim}: timeline in {out}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
