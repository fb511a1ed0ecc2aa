"""Labs with graders, xv6-labs style (docs/labs.md).

    python -m tools.lab list                  the labs, their files and points
    python -m tools.lab make NAME [--dir D]   a student tree: this project with NAME's regions
                                              replaced by their skeletons (default build/labs/NAME)
    python -m tools.lab grade [NAME]          run NAME's checks here, print each and the score
                                              (NAME defaults to the tree's .lab file)
    python -m tools.lab check                 every region well formed, every lab has some

The project is the reference solution. A region of lab NAME in a source file is marked by
lines that contain, after the file's comment leader:

    LAB NAME BEGIN: what the region does        the solution follows
    LAB NAME SKELETON                           optional: what replaces it, each line
    LAB NAME END                                behind the SKELETON line's comment leader

In a student tree of NAME, the lines from BEGIN to END become the BEGIN line, the skeleton
(the SKELETON line's leader stripped from each line) and the END line; the regions of
other labs stay solved. The skeleton compiles and fails the lab's checks. The checks and
their points are in tools/labs.py; grade exits 0 once it has printed a score (1 on a usage
error), whatever the score.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TREE = ("Makefile", "requirements.txt", "README.md", "ARCHITECTURE.md", "kernel", "emulator", "tools",
        "userland", "tests", "docs")
BUILT = ("bin", "libc", "zig-cache", "libblockcount.so", "fs.img", ".gensys.stamp")
SCAN = ("kernel", "emulator", "tools", "userland", "Makefile")
TEXT_EXTS = (".py", ".c", ".h", ".S", ".tbl", ".mk", ".ld", "Makefile")
MARK = re.compile(r"^(?P<lead>.*?)LAB (?P<lab>[a-z0-9_]+) (?P<what>BEGIN|SKELETON|END)\b")
LAB_FILE = ".lab"


class LabError(Exception):
    """A malformed region, an unknown lab, or a tree that cannot be made."""


def regions(text: str, path: str = "?"):
    """[(lab, begin, skel, end)]: line indexes of each region's markers (skel None if it has
    no skeleton). Raises LabError on a marker out of order."""
    out, open_ = [], None
    for i, line in enumerate(text.splitlines()):
        m = MARK.match(line)
        if not m:
            continue
        lab, what = m["lab"], m["what"]
        if what == "BEGIN":
            if open_:
                raise LabError(f"{path}:{i + 1}: LAB {lab} BEGIN inside LAB {open_[0]}'s region")
            open_ = [lab, i, None]
        elif not open_ or open_[0] != lab:
            raise LabError(f"{path}:{i + 1}: LAB {lab} {what} outside a LAB {lab} region")
        elif what == "SKELETON":
            if open_[2] is not None:
                raise LabError(f"{path}:{i + 1}: a second SKELETON in LAB {lab}'s region")
            open_[2] = i
        else:
            out.append((lab, open_[1], open_[2], i))
            open_ = None
    if open_:
        raise LabError(f"{path}: LAB {open_[0]} BEGIN at line {open_[1] + 1} has no END")
    return out


def strip(text: str, lab: str, path: str = "?") -> str:
    """text with lab's regions replaced by their skeletons."""
    lines = text.splitlines(keepends=True)
    out, pos = [], 0
    for name, begin, skel, end in regions(text, path):
        if name != lab:
            continue
        out += lines[pos:begin + 1]
        if skel is not None:
            lead = MARK.match(lines[skel])["lead"]
            for i in range(skel + 1, end):
                line = lines[i]
                if line.startswith(lead):
                    out.append(line[len(lead):])
                elif line.strip() == lead.strip():
                    out.append("\n")
                else:
                    raise LabError(f"{path}:{i + 1}: a skeleton line must begin with {lead!r}")
        out.append(lines[end])
        pos = end + 1
    return "".join(out + lines[pos:])


def _source_files(root=ROOT, tops=SCAN):
    for top in tops:
        base = os.path.join(root, top)
        if os.path.isfile(base):
            yield top
            continue
        for d, dirs, files in os.walk(base):
            dirs[:] = sorted(x for x in dirs if x != "__pycache__")
            for f in sorted(files):
                if f.endswith(TEXT_EXTS):
                    yield os.path.relpath(os.path.join(d, f), root)


def marked_files(root=ROOT):
    """{lab: [relative path of each file with a region of it]}. Raises LabError."""
    found = {}
    for rel in _source_files(root):
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            text = f.read()
        if "LAB " not in text:
            continue
        for lab, *_ in regions(text, rel):
            paths = found.setdefault(lab, [])
            if rel not in paths:
                paths.append(rel)
    return found


def make_tree(lab: str, dest: str, root=ROOT) -> dict:
    """Write lab's student tree at dest (replacing one there): the project's files, the lab's
    regions stripped, .venv linked to the project's, the generated system-call files made
    again from the tree's table. Returns {path: number of regions stripped}."""
    from tools.labs import LABS
    if lab not in LABS:
        raise LabError(f"no lab {lab!r} (python -m tools.lab list)")
    files = marked_files(root)
    if set(files.get(lab, ())) == set():
        raise LabError(f"lab {lab} has no region in the sources")
    dest = os.path.abspath(dest)
    if os.path.realpath(dest) == os.path.realpath(root):
        raise LabError("the student tree cannot be the project itself")
    if os.path.lexists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for top in TREE:
        src = os.path.join(root, top)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dest, top), ignore=ignore, copy_function=shutil.copy2)
        elif os.path.exists(src):
            shutil.copy2(src, os.path.join(dest, top))
    stripped = {}
    for rel in files[lab]:
        path = os.path.join(dest, rel)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(strip(text, lab, rel))
        stripped[rel] = sum(1 for r in regions(text, rel) if r[0] == lab)
    for rel in BUILT:                   # what make built here: make in the tree redoes
        src = os.path.join(root, "build", rel)     # only what the stripped regions change
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dest, "build", rel), copy_function=shutil.copy2)
        elif os.path.exists(src):
            os.makedirs(os.path.join(dest, "build"), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, "build", rel))
    venv = os.path.realpath(os.path.join(root, ".venv"))
    if os.path.isdir(venv):
        os.symlink(venv, os.path.join(dest, ".venv"))
    with open(os.path.join(dest, LAB_FILE), "w") as f:
        f.write(lab + "\n")
    p = subprocess.run([sys.executable, "-m", "tools.gensys"], cwd=dest, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise LabError(f"gensys in the student tree: {p.stdout.strip()}")
    return stripped


def tree_lab(root=ROOT):
    try:
        with open(os.path.join(root, LAB_FILE)) as f:
            return f.read().strip() or None
    except FileNotFoundError:
        return None


def grade(lab: str, out=None) -> tuple:
    """Run lab's checks in this tree, printing one line each and the score (on out, default
    stdout). Returns (points, possible)."""
    out = out or sys.stdout
    from tools.labs import LABS, Grader
    if lab not in LABS:
        raise LabError(f"no lab {lab!r} (python -m tools.lab list)")
    spec = LABS[lab]
    g = Grader(ROOT)
    total = possible = 0
    print(f"lab {lab}: {spec.title} (docs/labs.md)", file=out)
    for check in spec.checks:
        possible += check.points
        try:
            note = check.run(g)
            ok = True
        except AssertionError as e:
            ok, note = False, str(e).strip().splitlines()[0] if str(e).strip() else "failed"
        got = check.points if ok else 0
        total += got
        print(f"  {'OK  ' if ok else 'FAIL'} {got:3d}/{check.points:<3d} {check.name}" + (f": {note}" if note else ""),
              file=out)
        out.flush()
    print(f"score: {total}/{possible}", file=out)
    return total, possible


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.lab", description="labs with graders (docs/labs.md)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="the labs, their files and points")
    mk = sub.add_parser("make", help="write a lab's student tree")
    mk.add_argument("lab")
    mk.add_argument("--dir", help="where (default build/labs/LAB)")
    gr = sub.add_parser("grade", help="run a lab's checks in this tree")
    gr.add_argument("lab", nargs="?")
    sub.add_parser("check", help="every region well formed, every lab has one")
    opts = ap.parse_args(argv)
    from tools.labs import LABS
    try:
        if opts.cmd == "list":
            files = marked_files()
            for name, spec in LABS.items():
                pts = sum(c.points for c in spec.checks)
                print(f"{name:10s} {spec.title} ({pts} points)")
                print(f"{'':10s} {', '.join(files.get(name, ['no region!']))}")
            return 0
        if opts.cmd == "check":
            files = marked_files()
            missing = [n for n in LABS if n not in files]
            unknown = [n for n in files if n not in LABS]
            if missing or unknown:
                raise LabError(f"labs without regions: {missing}; regions of no lab: {unknown}")
            for name in LABS:
                for rel in files[name]:
                    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
                        strip(f.read(), name, rel)
            print(f"{len(LABS)} labs, {sum(len(v) for v in files.values())} marked files: OK")
            return 0
        if opts.cmd == "make":
            dest = opts.dir or os.path.join(ROOT, "build", "labs", opts.lab)
            stripped = make_tree(opts.lab, dest)
            for rel, n in stripped.items():
                print(f"  {rel}: {n} region{'s' if n > 1 else ''} to write")
            print(f"lab {opts.lab}: student tree in {dest}; there: make && make grade")
            return 0
        lab = opts.lab or tree_lab()
        if not lab:
            raise LabError("which lab? python -m tools.lab grade NAME (or run it in a student tree)")
        grade(lab)
        return 0
    except LabError as e:
        print(f"lab: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
