"""python -m tools.sweep PROGRAM [ARGS] --vary NAME=V1,V2 [--vary ...] --metric M [--metric ...]:
run PROGRAM at every point of a grid of run options and plot figures it prints (CSV, PNG, SVG).

--vary NAME=V1,V2,...  NAME is a tools.run option without its dashes (cpus, seed, quantum, sched,
    disk-latency, and whatever tools.run accepts: `python -m tools.run --help`), OPTION.KEY for an
    option that takes KEY=VALUE (cost.TRAP_ENTRY=30,60 runs with --cost TRAP_ENTRY=30, ...), or a
    name written {NAME} in ARGS (sched_share {threads} 0.02 --vary threads=1,2,4). Several --vary
    give their cross product. --set NAME=VALUE (or --set FLAG) fixes one for every point.
--metric M  a name from the program's table below (METRICS), a --stats figure (STATS: the point
    then runs with --stats), or a regular expression on the program's output with one group (a
    named group names the CSV column). Each --metric is one column and one line of the chart.
Points run as `python -m tools.run` processes, --jobs at a time (default: the host's cores); the
CSV lists them in grid order whatever order they finish in. Without a disk option the points run
with --no-disk; with one, each point boots from its own copy of the image (build/fs.img).
--shipped NAME|all|list: the sweeps whose charts are in docs/img (`make sweeps`).
Bad input (an unknown option, an empty value list, a metric that never matches): one line on
stderr and exit status 2. A kernel panic at a point: exit status 1.
"""
import argparse
import concurrent.futures
import csv
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile

from tools import run

ROOT = run.ROOT
NUMBER = r"(-?[\d.]+)"

# Figures the programs print, by program and name: one group each, matched on the output.
METRICS = {
    "summary": {"processes": r"^processes\s.*\s([\d.]+)$",
                "1:1": r"^kernel threads \(1:1\)\s.*\s([\d.]+)$",
                "M:1": r"^user threads \(M:1\)\s.*\s([\d.]+)$",
                "M:N": r"^M:N, \d+ LWPs?\s.*\s([\d.]+)$",
                "SA": r"^SA, \d+ vps?\s.*\s([\d.]+)$"},
    "sa_speedup": {"M:1": r"^M:1\s+\d+\s+([\d.]+)$", "M:N": r"^M:N, \d+ LWPs?\s+\d+\s+([\d.]+)$",
                   "1:1": r"^1:1 kernel threads\s+\d+\s+([\d.]+)$", "SA": r"^SA, \d+ vps?\s+\d+\s+([\d.]+)$"},
    "s20_parallel": {"speedup": r"speedup over running them one after another: ([\d.]+)",
                     "parallel_ns": r"^\d+ threads x \d+ iterations: (\d+) ns virtual",
                     "serial_ns": r"^1 thread  x \d+ iterations: (\d+) ns virtual",
                     "iterations_blocked": r"^while thread 0 was blocked: (\d+) iterations done"},
    "s11_parallel": {"ratio": r"ratio to the serial time: ([\d.]+)",
                     "threads_us": r"as \d+ user threads: (\d+) us"},
    "s10_block": {"during": r"^  chunks of work done by threads 2-4: \d+ before the sleep, (\d+) during it",
                  "added": r"^  pool: \d+ LWPs? at the end, (\d+) added"},
    "sched_share": {"share": r"^share of A: ([\d.]+)"},
    "solaris": {"T1-T2": r"side by side: T1-T2 (\d+)", "T1-T3": r"\| T1-T3 (\d+)",
                "T3-T4": r"\| T3-T4 (\d+)", "K1-K2": r"\| K1-K2 (\d+)"},
    "costs": {"thread_create": r"^thread create \+ join\s+(\d+)",
              "process_create": r"^process fork \+ exit \+ wait\s+(\d+)",
              "thread_switch": r"^thread switch \(futex ping-pong\)\s+(\d+)",
              "process_switch": r"^process switch \(pipe ping-pong\)\s+(\d+)",
              "m1_create": r"^M:1 uthread create \+ join\s+(\d+)",
              "m1_switch": r"^M:1 uthread switch \(yield\)\s+(\d+)",
              "mn_switch": r"^M:N uthread switch \(yield\)\s+(\d+)"},
    "race": {"lost": r"^without a lock: .* lost (\d+) updates", "counter": r"^without a lock:\s+counter = (\d+)"},
    "s12_preempt": {"preemptions": r"timer preemptions: (\d+)"},
    "s8_switch": {"per_switch": r"plain: .* ([\d.]+) per switch", "traced_per_switch": r"traced: .* ([\d.]+) per switch"},
    "upcalls": {"chunks": r"while the reader waited: (\d+) chunks"},
}

# Figures of `tools.run --stats` (its stderr); PROG stands for the program's name.
STATS = {
    "virtual_ms": r"^virtual time\s+([\d.]+) ms",
    "context_switches": r"^context switches\s+(\d+)",
    "syscalls": r"^syscalls\s+(\d+)",
    "page_faults": r"^page faults\s+(\d+)",
    "thread_switches": r"^thread switches\s+(\d+)",
    "upcalls": r"^upcalls\s+(\d+) upcalls",
    "downcalls": r"^upcalls\s+\d+ upcalls, (\d+) downcalls",
    "disk_reads": r"^disk\s+(\d+) reads",
    "cpu_ms": r"^cpu time\s+pid \d+ \(PROG\): ([\d.]+) ms",            # the busiest process of that name
    "max_harts": r"^cpu time\s+pid \d+ \(PROG\): [\d.]+ ms on harts, at most (\d+) harts? at once",
}

def each_metric(*names) -> list:
    return [a for n in names for a in ("--metric", n)]


# The sweeps shipped with their charts in docs/img (make sweeps): name -> (title, command line).
SHIPPED = {
    "speedup": ("Speedup of 4 CPU-bound workers against harts (summary)",
                ["summary", "--vary", "cpus=1,2,3,4,6,8", "--ylabel", "speedup"]
                + each_metric("processes", "1:1", "M:1", "M:N", "SA")),
    "speedup-io": ("Speedup of 8 threads that compute and block against harts (sa_speedup)",
                   ["sa_speedup", "--vary", "cpus=1,2,3,4,6,8", "--ylabel", "speedup"]
                   + each_metric("M:1", "M:N", "1:1", "SA")),
    "share": ("CPU share of a process with N threads against one with 1, on one hart (sched_share)",
              ["sched_share", "{threads}", "0.02", "--set", "cpus=1", "--vary", "threads=1,2,3,4,6,8",
               "--vary", "sched=flat,two-level", "--ylabel", "share of the N-thread process"]
              + each_metric("share")),
    "switch-trap": ("Switch costs against the kernel's trap entry cost (solaris)",
                    ["solaris", "--vary", "cost.TRAP_ENTRY=0,30,60,120,240,480", "--ylabel", "virtual ns"]
                    + each_metric("T1-T2", "T1-T3", "T3-T4", "K1-K2")),
}
NEEDS = {"switch-trap": "--cost"}          # a tools.run option a shipped sweep cannot run without
NOT_VARIED = ("input", "trace", "timeline", "gdb", "help", "stats")      # tools.run options, not settings


class SweepError(Exception):
    """Bad input: one line on stderr, exit status 2."""


class Failed(Exception):
    """A point the kernel could not finish (a panic): exit status 1."""


def run_options() -> dict:
    """tools.run's options: name without dashes -> whether it takes a value."""
    out = {}
    for action in run.parser()._actions:
        for s in action.option_strings:
            if s.startswith("--"):
                out[s[2:]] = action.nargs != 0
    return out


def tools_run(argv: list, timeout=None) -> subprocess.CompletedProcess:
    """One `python -m tools.run ARGV` in a host process (stdout: the program's output;
    stderr: the kernel's log and --stats)."""
    return subprocess.run([sys.executable, "-m", "tools.run", *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def check_argv(argv: list) -> None:
    """Raise SweepError if tools.run's own parser rejects argv (a value of the wrong type, a
    choice it does not offer)."""
    ap = run.parser()

    def error(message):
        raise SweepError(f"tools.run {' '.join(argv)}: {message}")
    ap.error = error
    ap.parse_args(argv)


def split_assignment(text: str, what: str):
    name, eq, value = text.partition("=")
    name = name.strip().lstrip("-")
    if not name:
        raise SweepError(f"{what} {text!r}: expected NAME=VALUE")
    return name, value if eq else None


class Grid:
    """The points of a sweep: PROGRAM ARGS with fixed options and the cross product of varies."""

    def __init__(self, command: list, varies: list, sets: list):
        if not command:
            raise SweepError("no program given")
        self.program, self.args = command[0], list(command[1:])
        self.options = run_options()
        self.placeholders = set(re.findall(r"\{([\w-]+)\}", " ".join(self.args)))
        self.fixed = []
        for text in sets:
            name, value = split_assignment(text, "--set")
            self.fixed.append((self.kind(name, value is not None), name, value))
        self.varied = []
        for text in varies:
            name, value = split_assignment(text, "--vary")
            values = [v.strip() for v in (value or "").split(",")]
            if value is None or not all(values):
                raise SweepError(f"--vary {text!r}: expected NAME=V1,V2,... with no empty value")
            if name in [n for _, n, _ in self.varied + self.fixed]:
                raise SweepError(f"{name} given twice (--vary, --set)")
            self.varied.append((self.kind(name, True), name, values))
        unused = self.placeholders - {n for _, n, _ in self.varied + self.fixed}
        if unused:
            raise SweepError(f"{{{sorted(unused)[0]}}} in the arguments has no --vary or --set")
        names = {n.split(".")[0] for _, n, _ in self.varied + self.fixed}
        self.no_disk = "no-disk" in names
        self.disk = not self.no_disk and bool(names & {"disk", "disk-latency"})

    def kind(self, name: str, has_value: bool) -> str:
        """'arg' for a {NAME} of the arguments, 'opt' for an option, 'keyed' for OPTION.KEY."""
        if name in self.placeholders:
            return "arg"
        base = name.split(".")[0]
        if base not in self.options or base in NOT_VARIED:
            known = ", ".join(sorted(o for o in self.options if o not in NOT_VARIED))
            raise SweepError(f"unknown run option {name!r} (tools.run has: {known}; or write "
                             f"{{{name}}} in the program's arguments)")
        if has_value != self.options[base]:
            raise SweepError(f"--{base} {'takes' if self.options[base] else 'takes no'} value")
        return "keyed" if "." in name else "opt"

    def points(self) -> list:
        """Each point: [(name, value)] in --vary order; the grid's order is the CSV's."""
        names = [n for _, n, _ in self.varied]
        return [list(zip(names, combo)) for combo in itertools.product(*[v for _, _, v in self.varied])]

    def argv(self, point: list, stats: bool, disk=None) -> list:
        """tools.run's command line for one point."""
        kinds = {n: k for k, n, _ in self.varied + self.fixed}
        settings = [(n, v) for _, n, v in self.fixed] + point
        opts, subst = [], {}
        for name, value in settings:
            if kinds[name] == "arg":
                subst[name] = value
            elif kinds[name] == "keyed":
                base, key = name.split(".", 1)
                opts += [f"--{base}", f"{key}={value}"]
            else:
                opts += [f"--{name}"] + ([value] if value is not None else [])
        if not self.disk and not self.no_disk:
            opts.append("--no-disk")
        elif disk is not None:
            opts += ["--disk", disk]
        if stats:
            opts.append("--stats")
        args = [re.sub(r"\{([\w-]+)\}", lambda m: subst[m.group(1)], a) for a in self.args]
        return opts + [self.program] + args


class Metric:
    """One --metric: a label, a compiled pattern, and which stream it reads."""

    def __init__(self, text: str, program: str):
        name = os.path.basename(program)
        if text in METRICS.get(name, {}):
            self.label, pattern, self.stats = text, METRICS[name][text], False
        elif text in STATS:
            self.label, pattern, self.stats = text, STATS[text].replace("PROG", re.escape(name)), True
        else:
            self.label, pattern, self.stats = None, text, False
        try:
            self.regex = re.compile(pattern, re.MULTILINE)
        except re.error as e:
            raise SweepError(f"--metric {text!r}: not a known name nor a regular expression ({e})") from None
        if self.regex.groups != 1:
            known = ", ".join(list(METRICS.get(name, {})) + list(STATS))
            raise SweepError(f"--metric {text!r}: a regular expression needs exactly one group "
                             f"(or a name: {known})")
        if self.label is None:
            self.label = next(iter(self.regex.groupindex), text)

    def value(self, stdout: str, stderr: str):
        """The figure as printed (text), or None where it does not match."""
        m = self.regex.search(stderr if self.stats else stdout)
        return m.group(1) if m else None


def measure(grid: Grid, metrics: list, jobs: int, progress=None) -> list:
    """Run every point; returns [(point, status, {label: text or None})] in grid order."""
    stats = any(m.stats for m in metrics)
    points = grid.points()
    for p in points:
        check_argv(grid.argv(p, stats))
    tmp = tempfile.mkdtemp(prefix="sweep-") if grid.disk else None
    image = dict((n, v) for _, n, v in grid.fixed).get("disk", run.DISK_IMAGE)

    def one(i):
        disk = None
        if tmp is not None:
            source = dict(points[i]).get("disk", image)
            if not os.path.isfile(source):
                raise SweepError(f"disk image {source} does not exist (make builds build/fs.img)")
            disk = os.path.join(tmp, f"point{i}.img")
            shutil.copyfile(source, disk)
        try:
            return tools_run(grid.argv(points[i], stats, disk))
        finally:
            if disk is not None:
                os.unlink(disk)
    results, last = [None] * len(points), [None] * len(points)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        futures = {pool.submit(one, i): i for i in range(len(points))}
        for done in concurrent.futures.as_completed(futures):
            i = futures[done]
            r = done.result()
            where = " ".join(f"{n}={v}" for n, v in points[i]) or "the point"
            if r.returncode == 2 and "tools.run:" in r.stderr:
                line = [ln for ln in r.stderr.splitlines() if ln.startswith("tools.run:")][-1]
                raise SweepError(f"{where}: {line}")
            if r.returncode == 70:
                raise Failed(f"{where}: {next(ln for ln in r.stderr.splitlines() if 'panic' in ln)}")
            results[i] = (points[i], r.returncode, {m.label: m.value(r.stdout, r.stderr) for m in metrics})
            last[i] = (r.stdout.strip().splitlines() or [""])[-1]
            if progress:
                figs = ", ".join(f"{k}={v}" for k, v in results[i][2].items())
                progress(f"sweep: {sum(x is not None for x in results)}/{len(points)} {where}: {figs}")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)      # after an error, points not started never run
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    for m in metrics:
        if all(res[m.label] is None for _, _, res in results):
            status, where = results[0][1], " ".join(f"{n}={v}" for n, v in points[0]) or "the point"
            hint = f" (at {where} the program exited {status}: {last[0]})" if status else ""
            raise SweepError(f"--metric {m.label!r} matched at no point of the sweep{hint}")
        for _, _, res in results:
            if res[m.label] is not None:
                try:
                    float(res[m.label])
                except ValueError:
                    raise SweepError(f"--metric {m.label!r} matched {res[m.label]!r}, not a number") from None
    return results


def write_csv(path: str, grid: Grid, metrics: list, results: list) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([n for _, n, _ in grid.varied] + [m.label for m in metrics] + ["status"])
        for point, status, res in results:
            w.writerow([v for _, v in point] + [res[m.label] if res[m.label] is not None else ""
                                                for m in metrics] + [status])


def numeric(values: list) -> bool:
    try:
        [float(v) for v in values]
        return True
    except ValueError:
        return False


def plot(prefix: str, grid: Grid, metrics: list, results: list, title: str, ylabel=None) -> list:
    """Write PREFIX.png and PREFIX.svg: x is the first varied name with more than one value,
    one line per metric and per combination of the other varied names."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    matplotlib.rcParams["svg.hashsalt"] = "pvtos"        # the same data gives the same file
    multi = [(n, vals) for _, n, vals in grid.varied if len(vals) > 1]
    xname, xvals = multi[0] if multi else (None, [""])
    others = [n for n, _ in multi[1:]]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    is_num = numeric(xvals)
    xpos = {v: float(v) if is_num else i for i, v in enumerate(xvals)}
    series = {}
    for point, _, res in results:
        p = dict(point)
        rest = ", ".join(f"{n}={p[n]}" for n in others)
        for m in metrics:
            label = ", ".join(x for x in (m.label if len(metrics) > 1 or not rest else "", rest) if x)
            if res[m.label] is not None:
                series.setdefault(label or m.label, []).append((xpos[p.get(xname, "")], float(res[m.label])))
    for label, pts in series.items():
        xs, ys = zip(*sorted(pts))
        ax.plot(xs, ys, marker="o", label=label)
    if is_num and xname:
        ax.set_xticks([float(v) for v in xvals], xvals)
    elif xname:
        ax.set_xticks(range(len(xvals)), xvals)
    ax.set_xlabel(xname or "")
    ax.set_ylabel(ylabel or (metrics[0].label if len(metrics) == 1 else "value"))
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    paths = [prefix + ".png", prefix + ".svg"]
    fig.savefig(paths[0], dpi=100, metadata={"Software": None})
    fig.savefig(paths[1], metadata={"Date": None})
    plt.close(fig)
    return paths


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m tools.sweep", description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[2:]))
    ap.add_argument("command", nargs="*", help="PROGRAM [ARGS]: a program in /bin, its arguments")
    ap.add_argument("--vary", action="append", default=[], metavar="NAME=V1,V2", help="vary a run option")
    ap.add_argument("--set", action="append", default=[], metavar="NAME[=VALUE]", help="fix a run option")
    ap.add_argument("--metric", action="append", default=[], help="a figure to collect (name or regex)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="points run at once (default: cores)")
    ap.add_argument("-o", "--output", default=None, metavar="PREFIX",
                    help="writes PREFIX.csv, PREFIX.png, PREFIX.svg (default build/sweeps/PROGRAM)")
    ap.add_argument("--title", default=None, help="the chart's title (default: the command)")
    ap.add_argument("--ylabel", default=None, help="the chart's y axis (default: the metric)")
    ap.add_argument("--shipped", default=None, metavar="NAME", help="a shipped sweep, all, or list")
    return ap


def sweep(opts, title=None, quiet=False) -> list:
    """Run one sweep from parsed options; returns the paths written."""
    if not opts.metric:
        raise SweepError("no --metric given")
    if opts.jobs < 1:
        raise SweepError("--jobs must be at least 1")
    grid = Grid(opts.command, opts.vary, opts.set)
    metrics = [Metric(m, grid.program) for m in opts.metric]
    if len({m.label for m in metrics}) != len(metrics):
        raise SweepError("two --metric have the same name")
    prefix = opts.output or os.path.join(ROOT, "build", "sweeps", os.path.basename(grid.program))
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    progress = (lambda line: print(line, file=sys.stderr)) if sys.stderr.isatty() and not quiet else None
    results = measure(grid, metrics, opts.jobs, progress)
    write_csv(prefix + ".csv", grid, metrics, results)
    title = title or opts.title or " ".join(["sweep"] + opts.command)
    return [prefix + ".csv"] + plot(prefix, grid, metrics, results, title, opts.ylabel)


def shipped(name: str, jobs: int) -> int:
    """Run the shipped sweep NAME (or all) into docs/img/sweep-NAME.*; a sweep whose option
    tools.run lacks is skipped with a message."""
    if name == "list":
        for n, (title, argv) in SHIPPED.items():
            print(f"{n:12} {title}\n{'':12} python -m tools.sweep {' '.join(argv)}")
        return 0
    names = list(SHIPPED) if name == "all" else [name]
    if any(n not in SHIPPED for n in names):
        raise SweepError(f"no shipped sweep {name!r} (have: {', '.join(SHIPPED)}, all, list)")
    options = run_options()
    for n in names:
        title, argv = SHIPPED[n]
        need = NEEDS.get(n)
        if need and need[2:] not in options:
            print(f"tools.sweep: skipping {n}: it needs tools.run {need}, which this tree does not have yet",
                  file=sys.stderr)
            continue
        opts = parser().parse_intermixed_args(argv + ["--jobs", str(jobs), "-o",
                                                      os.path.join(ROOT, "docs", "img", f"sweep-{n}")])
        for path in sweep(opts, title):
            print(os.path.relpath(path, ROOT))
    return 0


def main(argv=None) -> int:
    ap = parser()

    def error(message):                 # one line, not argparse's usage and message
        print(f"tools.sweep: {message}", file=sys.stderr)
        sys.exit(2)
    ap.error = error
    opts = ap.parse_intermixed_args(argv)
    try:
        if opts.shipped:
            return shipped(opts.shipped, opts.jobs)
        for path in sweep(opts):
            print(path)
        return 0
    except SweepError as e:
        print(f"tools.sweep: {e}", file=sys.stderr)
        return 2
    except Failed as e:
        print(f"tools.sweep: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
