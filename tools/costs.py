"""python -m tools.costs table|validate|profiles: the cost profiles in docs/costs.md.

    table NAME        the profile's entries: value, published figure, machine, source, conversion
    validate NAME     each composite measured here under NAME beside its published figure
    profiles          the lecture's demos (summary, costs, sa_speedup, solaris) under every profile
    --write           (with profiles) rewrite docs/costs.md's generated sections instead of printing

A profile (kernel/costs/NAME.toml) lists its entries and, if calibrated, its composites:
operations this machine measures (MEASURES: program, row, how many of the row make one
operation) with the published figure for the reference machine, in guest ns. A composite
marked `user = true` is pure user code here (the thread library's instructions, counted
exactly), not a prediction of the cost table: it is shown, not held to the 2x bound.
`make costs-profiles` runs `profiles --write`; tests/test_costs.py asserts what the tables show.
"""
import argparse
import os
import re
import sys

from kernel.inspect import COST_ENTRIES, COST_PROFILES, cost_profile
from tools.run import ROOT, simulate

DOC = os.path.join(ROOT, "docs", "costs.md")
BOUND = 2.0                       # a calibrated composite must be within this factor of its figure

# composite -> (program, args, regex whose group 1 is a figure of its output, factor): the
# composite is figure x factor (2: a round trip from a per-switch row)
MEASURES = {
    "thread create + join": ("costs", (), r"^thread create \+ join +(\d+)", 1),
    "fork + exit + wait": ("costs", (), r"^process fork \+ exit \+ wait +(\d+)", 1),
    "futex round trip (kernel threads)": ("costs", (), r"^thread switch \(futex ping-pong\) +(\d+)", 2),
    "pipe round trip (processes)": ("costs", (), r"^process switch \(pipe ping-pong\) +(\d+)", 2),
    "pipe round trip (LWPs of one process)": ("solaris", (), r"T1-T3 (\d+)", 2),
    "Null Fork, M:N uthreads": ("costs", (), r"^Null Fork +virtual ns +(\d+)", 1),
    "Null Fork, SA uthreads": ("costs", (), r"^Null Fork +virtual ns +\d+ +(\d+)", 1),
    "Null Fork, kernel threads": ("costs", (), r"^Null Fork +virtual ns +\d+ +\d+ +(\d+)", 1),
    "Null Fork, processes": ("costs", (), r"^Null Fork +virtual ns +\d+ +\d+ +\d+ +(\d+)", 1),
    "Signal-Wait, M:N uthreads": ("costs", (), r"^Signal-Wait +virtual ns +(\d+)", 1),
    "Signal-Wait, SA uthreads": ("costs", (), r"^Signal-Wait +virtual ns +\d+ +(\d+)", 1),
    "Signal-Wait, kernel threads": ("costs", (), r"^Signal-Wait +virtual ns +\d+ +\d+ +(\d+)", 1),
    "Signal-Wait, processes": ("costs", (), r"^Signal-Wait +virtual ns +\d+ +\d+ +\d+ +(\d+)", 1),
    "summary: processes, create": ("summary", ("proc",), r"create_ns (\d+)", 1),
    "summary: kernel threads, create": ("summary", ("kt",), r"create_ns (\d+)", 1),
    "summary: user threads (M:1), create": ("summary", ("m1",), r"create_ns (\d+)", 1),
    "summary: processes, switch": ("summary", ("proc",), r"switch_ns (\d+)", 1),
    "summary: kernel threads, switch": ("summary", ("kt",), r"switch_ns (\d+)", 1),
    "summary: user threads (M:1), switch": ("summary", ("m1",), r"switch_ns (\d+)", 1),
    "solaris T1-T2 (user-level switch)": ("solaris", (), r"T1-T2 (\d+)", 1),
    "solaris T1-T3 (other LWP)": ("solaris", (), r"T1-T3 (\d+)", 1),
    "solaris T3-T4 (other process)": ("solaris", (), r"T3-T4 (\d+)", 1),
    "solaris K1-K2 (kernel threads)": ("solaris", (), r"K1-K2 (\d+)", 1),
}
# the demos `profiles` runs under every profile: (program, args, lines of its output to keep)
DEMOS = (("summary", (), r"^(The seed's summary|\s+create ns|processes|kernel threads|user threads|M:N|SA, )"),
         ("costs", (), r"^(operation|Null Fork|Signal-Wait|kernel threads /|thread |process |M:)"),
         ("sa_speedup", (), r"^(model|serial|M:1|M:N|1:1|SA)"),
         ("solaris", (), r"^side by side"))


class Runner:
    """Runs programs under one profile, once each (cached), on the default machine."""

    def __init__(self, profile: str, overrides=()):
        self.profile, self.overrides, self.out = profile, tuple(overrides), {}

    def output(self, program: str, args=()) -> str:
        key = (program, tuple(args))
        if key not in self.out:
            r = simulate(program, list(args), costs=self.profile, cost_overrides=self.overrides)
            if r.status != 0:
                raise RuntimeError(f"{program} {' '.join(args)} under {self.profile}: status {r.status}\n{r.output}")
            self.out[key] = r.output
        return self.out[key]

    def measure(self, composite: str) -> float:
        """The composite's virtual ns here."""
        program, args, regex, factor = MEASURES[composite]
        m = re.search(regex, self.output(program, args), re.M)
        if m is None:
            raise RuntimeError(f"{composite}: {regex!r} not in the output of {program}")
        return float(m.group(1)) * factor


def composites(profile: str) -> list:
    """[(name, row)] of the profile's composites, in file order (row: its TOML table)."""
    return list(cost_profile(profile).get("composites", {}).items())


def validation(profile: str, runner=None) -> list:
    """[(name, measured ns, published ns or None, ratio or None, row)] for the profile."""
    runner = runner or Runner(profile)
    out = []
    for name, row in composites(profile):
        here = runner.measure(name)
        pub = row.get("published")
        out.append((name, here, pub, here / pub if pub else None, row))
    return out


def cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table_md(profile: str) -> str:
    d = cost_profile(profile)
    lines = [f"Profile `{profile}`: {d['label']}. Conversion: {d['conversion']}.", "",
             "| entry | value | mark | published figure | machine | source | conversion |",
             "|---|---|---|---|---|---|---|"]
    for e in COST_ENTRIES:
        row = d["entries"][e]
        if "derived" in row:
            lines.append(f"| {e} | {row['value']} | - | {cell(row['derived'])} | | | |")
        else:
            lines.append(f"| {e} | {row['value']} | {row.get('mark', '')} | {cell(row.get('figure', ''))} | "
                         f"{cell(row.get('machine', ''))} | {cell(row.get('source', ''))} | "
                         f"{cell(row.get('conversion', ''))} |")
    return "\n".join(lines)


def validation_md(profile: str, runner=None) -> str:
    lines = [f"Under `{profile}` (seed 0, 4 harts, `python -m tools.costs validate {profile}`):", "",
             "| composite | here (virtual ns) | published (guest ns) | here / published | published figure, machine, source |",
             "|---|---|---|---|---|"]
    for name, here, pub, ratio, row in validation(profile, runner):
        what = "; ".join(cell(row[k]) for k in ("figure", "machine", "source") if row.get(k))
        if row.get("mark"):
            what += f" ({row['mark']})"
        if row.get("user"):
            what = "user code here, not a cost-table prediction (not held to 2x). " + what
        if row.get("note") == "calibration":
            what = "calibration: an entry was derived from this figure, so agreement is by construction. " + what
        if row.get("off"):
            what = f"**off by more than {BOUND:g}x**: {cell(row['off'])}. " + what
        lines.append(f"| {name} | {here:.0f} | {pub if pub else 'none found'} | "
                     f"{f'{ratio:.2f}' if ratio else '-'} | {what} |")
    return "\n".join(lines)


def profiles_md(runners=None) -> str:
    """The four demos under every profile, side by side per demo."""
    parts = []
    runners = runners or {p: Runner(p) for p in COST_PROFILES}
    for program, args, keep in DEMOS:
        parts.append(f"`{' '.join((program,) + tuple(args))}`:\n")
        for p in COST_PROFILES:
            text = runners[p].output(program, args)
            rows = [virtual_only(ln) for ln in text.splitlines()
                    if re.match(keep, ln) and ln.strip() and "host us " not in ln]
            parts.append(f"    --costs {p}\n" + "\n".join("    " + ln for ln in rows) + "\n")
    return "\n".join(parts)


def virtual_only(line: str) -> str:
    """A row of `costs`' first table without its host-time column (noisy: not the model)."""
    if line.startswith("operation ") and line.rstrip().endswith("host us/op"):
        return line.rstrip()[:-len("host us/op")].rstrip()
    if re.match(r"^(thread|process|M:)", line):
        return re.sub(r"\s+[\d.]+$", "", line)
    return line


def replace_section(text: str, name: str, body: str) -> str:
    """text with the lines between <!-- NAME begin --> and <!-- NAME end --> replaced by body."""
    begin, end = f"<!-- {name} begin -->", f"<!-- {name} end -->"
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        raise SystemExit(f"tools.costs: {DOC} has no section {name} ({begin} ... {end})")
    return text[:i + len(begin)] + "\n" + body.rstrip("\n") + "\n" + text[j:]


def doc_text(text: str, runners=None) -> str:
    """docs/costs.md's text with every generated section made afresh."""
    runners = runners or {p: Runner(p) for p in COST_PROFILES}
    for p in COST_PROFILES:
        text = replace_section(text, f"table {p}", table_md(p))
        if composites(p):
            text = replace_section(text, f"validation {p}", validation_md(p, runners[p]))
    return replace_section(text, "profiles", profiles_md(runners))


def write_doc() -> None:
    with open(DOC) as f:
        text = f.read()
    with open(DOC, "w") as f:
        f.write(doc_text(text))
    print(DOC)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.costs", description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("table", "validate", "profiles"))
    ap.add_argument("profile", nargs="?", help=f"one of {', '.join(COST_PROFILES)}")
    ap.add_argument("--write", action="store_true", help="rewrite docs/costs.md's generated sections")
    opts = ap.parse_args(argv)
    if opts.what != "profiles" and opts.profile not in COST_PROFILES:
        print(f"tools.costs: a profile is needed: {', '.join(COST_PROFILES)}", file=sys.stderr)
        return 2
    if opts.what == "table":
        print(table_md(opts.profile))
    elif opts.what == "validate":
        print(validation_md(opts.profile))
    elif opts.write:
        write_doc()
    else:
        print(profiles_md())
    return 0


if __name__ == "__main__":
    sys.exit(main())
