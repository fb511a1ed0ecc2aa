"""exec: replace a process's image with an ELF program, Linux riscv64 stack layout.

exec reads the ELF header, the program headers and a small symbol table (elf.py), never the
whole file: the PT_LOAD segments become regions backed by the file (FileBacking), and each
page is read from the file system when it is first touched (vm.py), as Linux maps them.
The new address space is built completely before the old one is dropped, so a failed
exec (bad file, ENOEXEC, ENOMEM, EFAULT, EIO, ETXTBSY) leaves the caller running its old
program.
"""
import struct

from . import arch, params, utrace
from .arch import PAGE_SIZE
from .elf import ElfError, read_image
from .errno import E2BIG, EACCES, EFAULT, ELOOP, ENAMETOOLONG, ENOENT, ENOEXEC, ENOMEM, SysError
from .kalloc import OutOfMemory
from .ramfs import FILE
from .vm import PROT_R, PROT_W, PROT_X, AddressSpace, Fault, PageInError
from .vma import page_down, page_up

AT_NULL, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE, AT_FLAGS, AT_ENTRY = 0, 3, 4, 5, 6, 7, 8, 9
AT_UID, AT_EUID, AT_GID, AT_EGID, AT_PLATFORM, AT_HWCAP, AT_CLKTCK = 11, 12, 13, 14, 15, 16, 17
AT_SECURE, AT_RANDOM, AT_EXECFN = 23, 25, 31
HWCAP = sum(1 << (ord(x) - ord("a")) for x in "imafdc")   # RV64GC: a bit per base extension, as Linux
CLKTCK = 100                           # USER_HZ: times() and /proc count ticks of 10 ms


def read_string_array(aspace, va: int, budget: list) -> list:
    """NULL-terminated array of string pointers at va (argv/envp). budget = [bytes left]:
    each string, its NUL and its pointer count against it, as Linux counts its limit
    (params.MAXARGLEN); past it, or for one string longer than params.MAXARGSTRLEN, E2BIG."""
    out = []
    if va == 0:
        return out
    while True:
        ptr = struct.unpack("<Q", aspace.copyin(va + 8 * len(out), 8))[0]
        if ptr == 0:
            return out
        s = aspace.copyinstr(ptr, min(budget[0], params.MAXARGSTRLEN))
        budget[0] -= 8 + len(s or b"") + 1
        if s is None or budget[0] < 0:
            raise SysError(E2BIG)
        out.append(s)


class FileBacking:
    """The executable file behind an image's PT_LOAD pages, shared by the address spaces
    that map them (fork). While any holds it, the file stays open (an unlinked one lives on)
    and cannot be opened for writing (ETXTBSY, fs.deny_write), so every page reads the bytes
    the program started with: what Linux guarantees for a running executable."""

    def __init__(self, k, ino, where=b""):
        self.k = k
        self.ino = ino
        self.where = where             # how it was run: its path, or (directory, name)
        self.segments = ()             # (vaddr, offset, filesz) of the PT_LOADs with file bytes
        self.users = 0                 # address spaces (and a loading exec) holding it

    def path(self) -> bytes:
        """The absolute path the program was run by (/proc/PID/exe, maps), made when asked:
        exec itself never walks up the tree."""
        if isinstance(self.where, bytes):
            return self.where
        d, name = self.where
        try:
            return self.k.fsys.path_of(d).rstrip(b"/") + b"/" + name.encode("utf-8", "surrogateescape")
        except SysError:
            return name.encode("utf-8", "surrogateescape")     # its directory was removed since

    def hold(self) -> None:
        """Raises SysError(ETXTBSY) at the first hold if the file is open for writing."""
        if self.users == 0:
            self.ino.opened()
            try:
                self.k.fsys.deny_write(self.ino)
            except SysError:
                self.ino.closed(False)
                raise
        self.users += 1

    def release(self) -> None:
        self.users -= 1
        if self.users == 0:
            self.k.fsys.allow_write(self.ino)
            self.ino.closed(False)

    shared = False                     # its pages are private copies (vm.py; shm.py's are not)
    image = True                       # the program's file (/proc/PID/exe)

    def read(self, off: int, n: int) -> bytes:
        return self.ino.read(off, n)

    def map_info(self, start: int):
        """/proc/PID/maps of a region starting at start: (file offset, inode, path, shared)."""
        segs = [(v, o) for v, o, _ in self.segments if v <= start + PAGE_SIZE - 1]
        off = max(0, segs[-1][1] + start - segs[-1][0]) & ~(PAGE_SIZE - 1) if segs else 0
        return off, self.ino, self.path(), False

    def valid_end(self, va: int) -> int:
        """Every page of an image's regions may be touched (.bss past the file: zeros)."""
        return params.USER_TOP

    def pages(self, lo: int, hi: int) -> dict:
        """The file's bytes on the pages of [lo, hi): {page: [(offset in the page, bytes)]},
        without the pages of zeros (.bss). Reads each segment's part in one call (one disk
        request per run of blocks), sleeping on a cache miss. PageInError if the file
        cannot give them."""
        out = {}
        for vaddr, offset, filesz in self.segments:
            a, b = max(lo, vaddr), min(hi, vaddr + filesz)
            if a >= b:
                continue
            try:
                data = self.ino.read(offset + a - vaddr, b - a)
            except SysError as e:
                raise PageInError(f"errno {e.errno}") from None
            if len(data) != b - a:
                raise PageInError("the file is shorter than its program headers say")
            for page in range(page_down(a), b, PAGE_SIZE):
                x, y = max(a, page), min(b, page + PAGE_SIZE)
                out.setdefault(page, []).append((x - page, data[x - a:y - a]))
        return out


def _map_image(aspace, img, backing) -> int:
    """A region for each run of pages of one protection (merged where segments share a
    page), backed by the file; no page is read. Returns the initial program break."""
    backing.segments = tuple((seg.vaddr, seg.offset, seg.filesz) for seg in img.segments if seg.filesz)
    prot = {}
    for seg in img.segments:
        p = (PROT_R if seg.readable else 0) | (PROT_W if seg.writable else 0) | (PROT_X if seg.executable else 0)
        for va in range(page_down(seg.vaddr), page_up(seg.vaddr + seg.memsz), PAGE_SIZE):
            prot[va] = prot.get(va, 0) | p
    pages = sorted(prot)
    run_start = pages[0]
    for i, va in enumerate(pages):
        nxt = pages[i + 1] if i + 1 < len(pages) else None
        if nxt != va + PAGE_SIZE or prot[nxt] != prot[va]:
            kind = "text" if prot[va] & PROT_X else "data"
            aspace.add_region(run_start, va + PAGE_SIZE, prot[va], kind, backing)
            run_start = nxt
    return pages[-1] + PAGE_SIZE


def _map_sigtramp(k, aspace) -> None:
    """The signal-return trampoline page: one frame shared (refcounted) by all processes."""
    aspace.add_region(params.SIGTRAMP, params.SIGTRAMP + PAGE_SIZE, PROT_R | PROT_X, "sigtramp")
    k.kalloc.incref(k.sigtramp)
    aspace.map_page(params.SIGTRAMP, k.sigtramp, PROT_R | PROT_X)


def _build_stack(aspace, img, argv, envp, execfn: bytes, random16: bytes) -> int:
    aspace.add_region(params.STACK_TOP - params.STACK_MAX, params.STACK_TOP, PROT_R | PROT_W, "stack")
    sp = params.STACK_TOP

    def push(data: bytes) -> int:
        nonlocal sp
        sp -= len(data)
        aspace.copyout(sp, data)
        return sp

    execfn_ptr = push(execfn + b"\0")
    envp_ptrs = [push(s + b"\0") for s in reversed(envp)][::-1]
    argv_ptrs = [push(s + b"\0") for s in reversed(argv)][::-1]
    sp &= ~15
    rand_ptr = push(random16)
    auxv = [AT_HWCAP, HWCAP, AT_PAGESZ, PAGE_SIZE, AT_CLKTCK, CLKTCK, AT_PHDR, img.phdr_vaddr,
            AT_PHENT, img.phent, AT_PHNUM, img.phnum, AT_BASE, 0, AT_FLAGS, 0, AT_ENTRY, img.entry,
            AT_UID, 0, AT_EUID, 0, AT_GID, 0, AT_EGID, 0, AT_SECURE, 0,   # one user: root, never set-id
            AT_RANDOM, rand_ptr, AT_EXECFN, execfn_ptr, AT_NULL, 0]
    words = [len(argv)] + argv_ptrs + [0] + envp_ptrs + [0] + auxv
    sp = (sp - 8 * len(words)) & ~15
    aspace.copyout(sp, struct.pack(f"<{len(words)}Q", *words))
    return sp


def interpret(k, p, path: bytes, argv: list):
    """(path, argv) to load for an exec of path that is not ELF: a file that starts with
    "#!" names its interpreter, run as Linux's binfmt_script runs it, with argv [interpreter,
    its optional argument, path, argv[1:]...]. A first line of only spaces, or one that runs
    past params.BINPRM_BUF bytes inside the interpreter's name, is ENOEXEC; more than
    params.SCRIPT_DEPTH nested interpreters ELOOP. What is not a script is left to load()."""
    for _ in range(params.SCRIPT_DEPTH + 1):
        ino = k.fsys.resolve(path, p.cwd)[2]
        if ino is None or ino.kind != FILE or not ino.mode & 0o111 or ino.size < 2:
            return path, argv
        buf = ino.read(0, min(ino.size, params.BINPRM_BUF)).ljust(params.BINPRM_BUF, b"\0")   # Linux's buffer
        if not buf.startswith(b"#!"):
            return path, argv
        end = buf.find(b"\n")
        if end < 0:                         # no newline: the name must end inside the buffer
            end = params.BINPRM_BUF - 1
            rest = buf[2:end].lstrip(b" \t")
            if not any(c in b" \t\0" for c in rest):
                raise SysError(ENOEXEC)
        line = buf[2:end].strip(b" \t")
        if not line:
            raise SysError(ENOEXEC)
        sep = min((i for i in (line.find(b" "), line.find(b"\t"), line.find(b"\0")) if i >= 0), default=len(line))
        name = line[:sep]
        arg = [line[sep:].lstrip(b" \t").split(b"\0")[0]] if sep < len(line) and line[sep] else []
        argv = [name] + arg + [path] + argv[1:]
        path = name
    raise SysError(ELOOP)


def load(k, p, path: bytes, argv: list, envp: list):
    """Build a new image for p from path; returns (aspace, entry, sp, symbols) without
    installing it. Raises SysError. May sleep reading the file's headers. As for root on
    Linux, the file needs an x bit (EACCES). The image's FileBacking keeps the file's
    absolute path, as Linux's mm keeps its exe_file (/proc/PID/exe)."""
    d, name, ino = k.fsys.resolve(path, p.cwd)
    if ino is None:
        raise SysError(ENOENT)
    if ino.kind != FILE or not ino.mode & 0o111:
        raise SysError(EACCES)
    where = (d, name)
    if d.fs is k.procfs:                   # /proc/PID/exe: the path that link reads as
        where = k.fsys.resolve(path, p.cwd, follow=False)[2].readlink()
    backing = FileBacking(k, ino, where)
    backing.hold()                         # ETXTBSY; the file stays whole while it is read
    try:
        return _load(k, p, path, argv, envp, backing)
    finally:
        backing.release()


def _load(k, p, path, argv, envp, backing):
    try:
        img = read_image(backing.read, backing.ino.size)
    except ElfError as e:
        if backing.read(0, 2) != b"#!":    # a script is execve's to run (interpret)
            k.log(f"pid {p.pid} ({p.name}): exec {path.decode(errors='replace')}: {e}")
        raise SysError(ENOEXEC) from None
    k.charge(k.cost.EXEC_BASE)
    try:
        aspace = AddressSpace(k)
    except OutOfMemory:
        raise SysError(ENOMEM) from None
    try:
        aspace.brk_start = aspace.brk = _map_image(aspace, img, backing)
        _map_sigtramp(k, aspace)
        sp = _build_stack(aspace, img, argv, envp, path, k.random_bytes(16))
    except OutOfMemory:
        aspace.destroy()
        raise SysError(ENOMEM) from None
    except Fault:
        aspace.destroy()
        raise SysError(EFAULT) from None
    return aspace, img.entry, sp, img.symbols


def execve(k, t, path_va: int, argv_va: int, envp_va: int) -> None:
    p = t.proc
    old = p.aspace
    path = old.copyinstr(path_va, params.MAXPATH)
    if path is None:
        raise SysError(ENAMETOOLONG)
    budget = [params.MAXARGLEN]
    argv = read_string_array(old, argv_va, budget) or [b""]     # as Linux since 5.18: argc >= 1
    envp = read_string_array(old, envp_va, budget)
    try:
        aspace, entry, sp, symbols = load(k, p, path, argv, envp)
    except SysError as e:                # not an ELF file: a script? (ELF programs never pay for the look)
        image, script_argv = interpret(k, p, path, argv) if e.errno == ENOEXEC else (path, argv)
        if image == path:
            raise
        argv = script_argv
        aspace, entry, sp, symbols = load(k, p, image, argv, envp)
    for x in list(p.threads):            # the other LWPs end, as in Linux (de_thread)
        if x is not t:
            k.sched.kill_thread(x)
            p.threads.remove(x)
            p.cputime += x.cputime
            p.utime += x.utime
            p.stime += x.stime
    p.lwp_zombies = {}
    if p.sa is not None:
        k.sa.on_exit(p)
        t.act = None                     # an ordinary LWP again
    p.aspace = aspace
    if not p.borrowed_vm:                # a vfork child's old space is its parent's
        old.destroy()
    k.procs.vfork_done(p)
    p.symbols = symbols
    p.cmdline = argv
    p.name = path.rsplit(b"/", 1)[-1].decode(errors="replace")[:15] or "?"
    t.name = p.name
    if k.events is not None:
        k.event("exec", t, path=path.decode(errors="replace"))
    if k.utrace and k.events is not None:
        utrace.attach(k, p)
    for fd in sorted(p.cloexec):
        if p.files[fd] is not None:
            p.files[fd].close()
            p.files[fd] = None
    p.cloexec.clear()
    k.signals.exec_reset(p)
    k.ptimers.delete_all(p)
    k.sched.set_regs(t, arch.context(pc=entry, sp=sp))
