"""python -m tools.exercise list | show N | check N ANSWER | --answers  [--seed S]: exercises
whose answers the machine computes by running the experiment (the list: tools/exercises.py).

Your seed S (a teacher hands them out; default 0) sets each exercise's parameters, so two
students get different numbers. `show N` prints the question and the command that finds the
answer out; `check N ANSWER` runs the experiment (its answer is cached per seed in
build/exercises/) and says whether ANSWER is right, with an explanation when it is. `--answers`
prints every answer for a seed (for teachers). Exit status: 0 right, 1 wrong, 2 bad input,
77 the exercise needs a tools.run option this tree does not have yet.
"""
import argparse
import concurrent.futures
import glob
import hashlib
import json
import os
import random
import shlex
import sys
import textwrap

from tools import run
from tools.exercises import EXERCISES, SECTIONS, ExerciseError, Within
from tools.sweep import run_options, tools_run

CACHE = os.path.join(run.ROOT, "build", "exercises")
SKIPPED = 77


class UsageError(Exception):
    pass


def exercise(n) -> tuple:
    """(number, Exercise) for a number as typed."""
    try:
        i = int(n)
    except ValueError:
        raise UsageError(f"{n!r} is not an exercise number (python -m tools.exercise list)") from None
    if not 1 <= i <= len(EXERCISES):
        raise UsageError(f"no exercise {i}: they are numbered 1-{len(EXERCISES)}")
    return i, EXERCISES[i - 1]


def params(ex, seed: int) -> dict:
    """ex's parameters for seed, with `harts` spelled out for the question ("1 hart", "4 harts")."""
    p = ex.params(random.Random(f"{ex.key}/{seed}"))
    p["harts"] = f"{p['cpus']} hart" + ("s" if p["cpus"] != 1 else "")
    return p


def commands(ex, p: dict) -> list:
    return ex.commands(p)


def shown(argv: list) -> str:
    return ".venv/bin/python -m tools.run " + shlex.join(argv)


def missing(ex):
    """The tools.run option ex needs and this tree lacks, or None."""
    if ex.needs and ex.needs[2:] not in run_options():
        return ex.needs
    return None


def source_digest() -> str:
    """What the answers depend on besides the command lines: every file of the kernel and the
    emulator, tools.run and the exercises' code."""
    h = hashlib.sha256()
    paths = [p for d in ("kernel", "emulator") for p in glob.glob(os.path.join(run.ROOT, d, "**"), recursive=True)
             if os.path.isfile(p) and "__pycache__" not in p]
    for path in sorted(paths) + [os.path.join(run.ROOT, "tools", n) for n in ("run.py", "exercises.py", "sweep.py")]:
        with open(path, "rb") as f:
            h.update(os.path.relpath(path, run.ROOT).encode() + f.read())
    return h.hexdigest()


def fingerprint(argvs: list, digest: str) -> str:
    h = hashlib.sha256((digest + json.dumps(argvs)).encode())
    for argv in argvs:
        name, _ = run.parser().parse_known_args(argv)
        program = os.path.join(run.BIN_DIR, name.program or "")
        if os.path.isfile(program):
            with open(program, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def cache_path(seed: int) -> str:
    return os.path.join(CACHE, f"seed-{seed}.json")


def load_cache(seed: int) -> dict:
    try:
        with open(cache_path(seed)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def save_cache(seed: int, entries: dict) -> None:
    os.makedirs(CACHE, exist_ok=True)
    merged = load_cache(seed)
    merged.update(entries)
    tmp = cache_path(seed) + f".{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(merged, f, indent=1, sort_keys=True)
    os.replace(tmp, cache_path(seed))


def experiment(ex, seed: int, digest: str, cached: dict):
    """(answer, cache entry or None): the answer computed by running ex's commands for seed."""
    p = params(ex, seed)
    argvs = commands(ex, p)
    fp = fingerprint(argvs, digest)
    hit = cached.get(ex.key)
    if hit and hit.get("fingerprint") == fp:
        return hit["answer"], None
    outs = []
    for argv in argvs:
        r = tools_run(argv)
        if r.returncode in (2, 70):
            line = (r.stderr.strip().splitlines() or ["no message"])[-1]
            raise ExerciseError(f"{shown(argv)} failed (status {r.returncode}): {line}")
        outs.append(r)
    answer = ex.answer(outs, p)
    if isinstance(ex.check, Within):
        answer = round(float(answer), 4)
    return answer, {"fingerprint": fp, "answer": answer, "commands": [shown(a) for a in argvs]}


def answer_of(ex, seed: int):
    """The answer to ex for seed, from the cache or by running the experiment."""
    value, entry = experiment(ex, seed, source_digest(), load_cache(seed))
    if entry is not None:
        save_cache(seed, {ex.key: entry})
    return value


def text(ex, p: dict, template: str) -> str:
    return textwrap.fill(template.format(**p), width=96)


def show(n: int, ex, seed: int) -> None:
    p = params(ex, seed)
    title, page = SECTIONS[ex.section]
    print(f"Exercise {n}: {ex.title} ({ex.section}. {title}, {ex.claim}; seed {seed})\n")
    print(text(ex, p, ex.question) + "\n")
    argvs = commands(ex, p)
    print("Run:" if len(argvs) == 1 else "Run these:")
    for argv in argvs[:3]:
        print("    " + shown(argv))
    if len(argvs) > 3:
        print(f"    ... and the same for each of the {len(argvs)} choices")
    print(f"\nAnswer: {ex.check.describe}.  Check it with:")
    print(f"    .venv/bin/python -m tools.exercise check {n} ANSWER --seed {seed}")
    print(f"The tour: {page} ({ex.claim})")
    if missing(ex):
        print(f"\nThis exercise needs tools.run {ex.needs}, which this tree does not have yet.")


def check(n: int, ex, given: str, seed: int) -> int:
    try:
        value = ex.check.parse(given)
    except ValueError as e:
        raise UsageError(f"answer {given!r}: expected {ex.check.describe} ({e})") from None
    need = missing(ex)
    if need:
        print(f"exercise {n} needs tools.run {need}, which this tree does not have yet: not checked")
        return SKIPPED
    right = answer_of(ex, seed)
    if ex.check.accepts(value, right):
        print(f"right: {given.strip()} (the experiment gives {right}).")
        print(text(ex, params(ex, seed), ex.explain))
        print(f"More: {SECTIONS[ex.section][1]} ({ex.claim})")
        return 0
    print(f"not right: run the command of `python -m tools.exercise show {n} --seed {seed}` and read its output again.")
    return 1


def answers(seed: int, jobs: int) -> int:
    """Every answer for seed, computing the missing ones jobs at a time."""
    digest, cached = source_digest(), load_cache(seed)
    todo = [(i, ex) for i, ex in enumerate(EXERCISES, 1) if not missing(ex)]
    results, fresh = {}, {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(experiment, ex, seed, digest, cached): (i, ex) for i, ex in todo}
        for done in concurrent.futures.as_completed(futures):
            i, ex = futures[done]
            results[i], entry = done.result()
            if entry is not None:
                fresh[ex.key] = entry
    if fresh:
        save_cache(seed, fresh)
    print(f"answers for seed {seed}:")
    for i, ex in enumerate(EXERCISES, 1):
        got = f"needs tools.run {ex.needs}: not computed" if i not in results else results[i]
        print(f"{i:3}. {ex.claim:4} {ex.title}: {got}")
    return 0


def list_all() -> None:
    section = None
    for i, ex in enumerate(EXERCISES, 1):
        if ex.section != section:
            section = ex.section
            print(f"{section}. {SECTIONS[section][0]}")
        need = f"  (needs tools.run {ex.needs})" if ex.needs else ""
        print(f"  {i:3}. {ex.claim:4} {ex.title}{need}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.exercise", description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[2:]))
    ap.add_argument("verb", nargs="?", choices=["list", "show", "check"], help="list, show N, check N ANSWER")
    ap.add_argument("n", nargs="?", help="the exercise's number")
    ap.add_argument("answer", nargs="?", help="your answer (check)")
    ap.add_argument("--seed", type=int, default=0, help="your seed: the parameters of every exercise (default 0)")
    ap.add_argument("--answers", action="store_true", help="print every answer for the seed (teachers)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="experiments at once for --answers")

    def error(message):
        print(f"tools.exercise: {message}", file=sys.stderr)
        sys.exit(2)
    ap.error = error
    opts = ap.parse_args(argv)
    try:
        if opts.answers:
            return answers(opts.seed, opts.jobs)
        if opts.verb in (None, "list"):
            list_all()
            return 0
        if opts.n is None:
            raise UsageError(f"{opts.verb} needs an exercise number")
        n, ex = exercise(opts.n)
        if opts.verb == "show":
            show(n, ex, opts.seed)
            return 0
        if opts.answer is None:
            raise UsageError("check needs an answer: check N ANSWER")
        return check(n, ex, opts.answer, opts.seed)
    except UsageError as e:
        print(f"tools.exercise: {e}", file=sys.stderr)
        return 2
    except ExerciseError as e:
        print(f"tools.exercise: the experiment did not give an answer: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
