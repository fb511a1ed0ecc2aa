"""Build guest programs (static RV64GC ELF) against the project's libc.

    python -m tools.cc [-O2|-O0|-Os] [-g0] [-c] [-I dir] [-D X] -o OUT SRC...
    python -m tools.cc [--libdir DIR] --libc      (just bring the libc up to date)
    python -m tools.cc --musl [-O2|...] [-g0] [-c] [-I dir] [-D X] [-lNAME] -o OUT SRC...

The libc archive and crt0 are (re)built on demand into build/libc/. Errors print one line
on stderr and exit with status 2. From Python: build(sources, out, opts), where opts is a
list of the same flags; it raises CCError.

--musl builds an ordinary Linux program instead: a static riscv64 executable against the
musl libc (and libc++ for .cc/.cpp sources) that zig ships, exactly as
`python -m ziglang cc -target riscv64-linux-musl -O2 -static` would (docs/linux.md). Zig
builds musl and libc++ once into its global cache (a minute or two each), then reuses them.
"""
import fcntl
import glob
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from tools import gensys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE = os.path.join(ROOT, "userland", "include")
LIBC = os.path.join(ROOT, "userland", "libc")
LDSCRIPT = os.path.join(ROOT, "userland", "user.ld")
LIBDIR = os.path.join(ROOT, "build", "libc")
ZIG_CACHE = os.path.join(ROOT, "build", "zig-cache")

TARGET = ["-target", "riscv64-freestanding-none", "-mcpu=baseline_rv64", "-mcmodel=medany"]
CFLAGS = ["-std=gnu17", "-ffreestanding", "-fno-stack-protector", "-fno-sanitize=all",
          "-fno-unwind-tables", "-fno-asynchronous-unwind-tables", "-Wall", "-I", INCLUDE]
LIBC_CFLAGS = ["-O2", "-g", "-fno-builtin", "-fno-strict-aliasing",
               "-ffunction-sections", "-fdata-sections"]
LDFLAGS = ["-static", "-T", LDSCRIPT, "-Wl,--gc-sections"]
SOURCE_EXTS = (".c", ".S", ".s", ".o", ".a")

MUSL_TARGET = ["-target", "riscv64-linux-musl"]
CXX_EXTS = (".cc", ".cpp", ".cxx")


class CCError(Exception):
    pass


def _python():
    venv = os.path.join(ROOT, ".venv", "bin", "python")
    return venv if os.path.exists(venv) else sys.executable


def _zig(args, global_cache=True):
    """Run zig; global_cache False leaves zig's own global cache in the home directory (where
    it keeps the musl and libc++ builds, shared by every checkout) and keeps only the local
    cache in build/."""
    env = dict(os.environ, ZIG_LOCAL_CACHE_DIR=ZIG_CACHE)
    if global_cache or not os.environ.get("HOME"):
        env["ZIG_GLOBAL_CACHE_DIR"] = ZIG_CACHE
    os.makedirs(ZIG_CACHE, exist_ok=True)
    try:
        p = subprocess.run([_python(), "-m", "ziglang"] + args, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as e:
        raise CCError(f"cannot run zig: {e}")
    if p.returncode != 0:
        raise CCError(_first_error(p.stderr + p.stdout) or f"zig exited {p.returncode}")
    if p.stderr:
        sys.stderr.write(p.stderr)


def _first_error(text):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for l in lines:
        if "error:" in l:
            return l
    return lines[0] if lines else ""


def parse_opts(argv):
    """Parse CLI flags into (settings, sources, out)."""
    s = {"opt": "-O2", "debug": True, "compile": False, "includes": [], "defines": [],
         "musl": False, "libs": [], "debug_flag": None}
    sources, out = [], None
    it = iter(argv)
    for a in it:
        def value():
            try:
                return next(it)
            except StopIteration:
                raise CCError(f"missing argument after {a}")
        if a in ("-O0", "-O1", "-O2", "-O3", "-Os", "-Oz"):
            s["opt"] = a
        elif a == "-g0":
            s["debug"], s["debug_flag"] = False, a
        elif a == "-g":
            s["debug"], s["debug_flag"] = True, a
        elif a == "--musl":
            s["musl"] = True
        elif a.startswith("-l"):
            s["libs"].append(a)
        elif a == "-c":
            s["compile"] = True
        elif a == "-o":
            out = value()
        elif a.startswith("-I"):
            s["includes"].append(a[2:] or value())
        elif a.startswith("-D"):
            s["defines"].append(a[2:] or value())
        elif a.startswith("-") and a != "-":
            raise CCError(f"unknown option {a}")
        else:
            sources.append(a)
    if s["libs"] and not s["musl"]:
        raise CCError(f"{s['libs'][0]}: libraries only with --musl")
    return s, sources, out


def _flags(s):
    f = [s["opt"]] + (["-g"] if s["debug"] else ["-g0"])
    for d in s["includes"]:
        f += ["-I", d]
    for d in s["defines"]:
        f += ["-D", d]
    return f


def _libc_deps():
    """(sources, dependencies) of the libc: each userland/libc/*.c and *.S is compiled; the
    files of its subdirectories are parts that one of them includes (uthread.c's)."""
    srcs = sorted(glob.glob(os.path.join(LIBC, "*.c")) + glob.glob(os.path.join(LIBC, "*.S")))
    deps = srcs + glob.glob(os.path.join(INCLUDE, "**", "*.h"), recursive=True)
    deps += glob.glob(os.path.join(LIBC, "*.h")) + glob.glob(os.path.join(LIBC, "*", "*.c"))
    deps += [os.path.abspath(__file__)]
    return srcs, deps


def _stale(targets, deps):
    try:
        oldest = min(os.path.getmtime(t) for t in targets)
    except OSError:
        return True
    return any(os.path.getmtime(d) > oldest for d in deps)


def ensure_libc(libdir=LIBDIR):
    """Return (crt0.o, libc.a) in libdir, rebuilding them if missing or older than a source."""
    for rel, render in gensys.OUTPUTS.items():
        gensys.write_if_changed(os.path.join(ROOT, rel), render(gensys.parse()))
    crt0, archive = os.path.join(libdir, "crt0.o"), os.path.join(libdir, "libc.a")
    srcs, deps = _libc_deps()
    if not _stale([crt0, archive], deps):
        return crt0, archive
    objdir = os.path.join(libdir, "obj")
    os.makedirs(objdir, exist_ok=True)
    with open(os.path.join(libdir, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # concurrent builds (make -j) rebuild it once
        if not _stale([crt0, archive], deps):
            return crt0, archive
        jobs = []
        for src in srcs:
            name = os.path.splitext(os.path.basename(src))[0]
            obj = crt0 if name == "crt0" else os.path.join(objdir, name + ".o")
            jobs.append((src, obj))
        cmd = ["cc"] + TARGET + CFLAGS + LIBC_CFLAGS + ["-I", LIBC, "-c"]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            list(pool.map(lambda j: _zig(cmd + ["-o", j[1], j[0]]), jobs))
        objs = [o for _, o in jobs if o != crt0]
        tmp = archive + ".tmp"
        if os.path.exists(tmp):
            os.remove(tmp)
        _zig(["ar", "rcs", tmp] + objs)
        os.replace(tmp, archive)
        os.utime(crt0)
    return crt0, archive


def _build_musl(s, sources, out):
    """A static Linux executable (or object, with -c) against zig's musl; the flags the
    caller gave, nothing of this project's libc or linker script."""
    driver = "c++" if any(src.endswith(CXX_EXTS) for src in sources) else "cc"
    flags = [s["opt"]] + ([s["debug_flag"]] if s["debug_flag"] else [])
    for d in s["includes"]:
        flags += ["-I", d]
    for d in s["defines"]:
        flags += ["-D", d]
    if s["compile"]:
        if len(sources) != 1:
            raise CCError("-c takes exactly one source")
        _zig([driver] + MUSL_TARGET + flags + ["-c", "-o", out] + sources, global_cache=False)
    else:
        _zig([driver] + MUSL_TARGET + flags + ["-static", "-o", out] + sources + s["libs"],
             global_cache=False)
    return out


def build(sources, out, opts=(), libdir=LIBDIR):
    """Compile (with -c) or compile and link `sources` into `out`; opts are CLI flags."""
    s, extra, opt_out = parse_opts(list(opts))
    sources = list(sources) + extra
    out = out or opt_out
    if not sources:
        raise CCError("no source files")
    if not out:
        raise CCError("no output file (-o)")
    exts = SOURCE_EXTS + CXX_EXTS if s["musl"] else SOURCE_EXTS
    for src in sources:
        if not os.path.isfile(src):
            raise CCError(f"{src}: no such file")
        if not src.endswith(exts):
            raise CCError(f"{src}: unknown file type")
    out_dir = os.path.dirname(os.path.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    if s["musl"]:
        return _build_musl(s, sources, out)
    if s["compile"]:
        if len(sources) != 1:
            raise CCError("-c takes exactly one source")
        _zig(["cc"] + TARGET + CFLAGS + _flags(s) + ["-c", "-o", out] + sources)
        return out
    crt0, archive = ensure_libc(libdir)
    _zig(["cc"] + TARGET + CFLAGS + _flags(s) + ["-o", out, crt0] + sources + [archive] + LDFLAGS)
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    libdir = LIBDIR
    if len(argv) >= 2 and argv[0] == "--libdir":
        libdir, argv = argv[1], argv[2:]
    try:
        if argv == ["--libc"]:
            crt0, archive = ensure_libc(libdir)
            os.utime(archive)   # make asked for it: mark it up to date
            return 0
        build([], None, argv, libdir)
    except (CCError, OSError, ValueError) as e:
        print(f"cc: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
