"""A model-based test of address spaces (issue 12): a hypothesis state machine drives
several processes through random mmap, munmap, mprotect, fork, exec, exit, writes and reads,
and compares every process's memory with a plain-Python model of Linux's semantics after
every step; at the end every frame must be back in the allocator.

The level: the kernel of tests/kfixture.py with 3 harts and no machine loop. Processes are
made, forked, exec'd and ended through the kernel's own functions (ProcTable, sys_mmap,
sys_mprotect, sys_munmap, sys_execve, sys_exit_group); user reads, writes and generated
code run as real guest instructions on a chosen hart, through a stub page in each process,
so the harts' TLBs and translated code are exercised (a hart keeps a process's satp until
another process runs there, as the scheduler does). Faults go to the address space's fault
handler, as trap.page_fault does.

The model (Linux riscv64, private anonymous memory): fresh pages read as zero; a fork copies
every page (copy on write is invisible); PROT_WRITE implies readable, PROT_EXEC alone is not;
munmap leaves a hole; mprotect changes the mapped pages from the start up to the first hole
and fails with ENOMEM at a hole. After every step the hardware view of each process (its
page table, walked as the MMU walks it) must agree: a present page holds the model's bytes
and grants no more than the model allows, a writable page's frame belongs to it alone, an
absent page is zero in the model; and every frame's refcount equals the number of page-table
entries that map it.
"""
import collections
import struct

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, precondition, rule,
                                 run_state_machine_as_test)

from emulator import hart as H
from emulator import mmu
from emulator.machine import Machine
from kernel import params, sigframe
from kernel import sysmmap as MM
from kernel import sysproc as P
from kernel.errno import SysError
from kernel.main import Kernel
from kernel.sched import ThreadExit
from kernel.vm import Fault
from tests.asmutil import assemble_many

PAGE = mmu.PAGE_SIZE
WINDOW = 0x20_0000_0000            # the pages the machine maps, unmaps and protects
NPAGES = 4
STUB = WINDOW - 16 * PAGE          # each process's stub page (read-execute)
MAXPROCS = 4
R, W, X = 1, 2, 4                  # PROT_READ, PROT_WRITE, PROT_EXEC
MAP_PRIVATE, MAP_FIXED, MAP_ANON = 0x02, 0x10, 0x20
ENOMEM = 12
_FAULTS = {H.CAUSE_LOAD_PAGE: 2, H.CAUSE_STORE_PAGE: 4, H.CAUSE_INSN_PAGE: 8}   # -> vm.PROT_*

# The stub page: a load, a store, and a call of generated code, each ending in ecall.
_STUB_ASM = ["ld a1, 0(a0)\necall", "sd a1, 0(a0)\necall", "fence.i\njalr a2\necall"]
LOAD_OFF, STORE_OFF, CALL_OFF, PATH_OFF, ARGV_OFF = 0, 16, 32, 256, 320
NCONST = 8                         # generated code: "li a0, N; ret" for N < NCONST


def _code():
    stubs = assemble_many(_STUB_ASM)
    consts = assemble_many([f"addi a0, zero, {n}\nret" for n in range(NCONST)])
    page = bytearray(PAGE)
    for off, code in zip((LOAD_OFF, STORE_OFF, CALL_OFF), stubs):
        page[off:off + len(code)] = code
    page[PATH_OFF:PATH_OFF + 11] = b"/bin/hello\0"
    struct.pack_into("<QQ", page, ARGV_OFF, STUB + PATH_OFF, 0)
    return bytes(page), consts


def readable(prot):
    return bool(prot & (R | W))


class MProc:
    """One process: the kernel's Proc and LWP, and the model of its memory."""

    def __init__(self, kp, t, pages=None, data=None):
        self.kp, self.t = kp, t
        self.pages = dict(pages or {})      # page va -> prot, every mapped page we made
        self.data = {va: bytearray(d) for va, d in (data or {}).items()}   # page va -> bytes written
        self.shared = set()                 # pages mapped at a fork and not remapped since

    def content(self, va):
        return bytes(self.data.get(va, bytes(PAGE)))


class AddressSpaces(RuleBasedStateMachine):
    # Which findings of issue 12 this run may meet (subclasses below turn them on).
    HARTS = 3
    STATS = collections.Counter()   # examples, steps, and outcomes of guest accesses, for the soak

    def __init__(self):
        super().__init__()
        self.STATS["examples"] += 1
        global _STUB_PAGE, _CONSTS
        if _STUB_PAGE is None:
            _STUB_PAGE, _CONSTS = _code()
        machine = Machine(cpus=self.HARTS, mem_mib=16)
        with open(_hello_path(), "rb") as f:
            hello = f.read()
        self.k = k = Kernel(machine, {"/bin/hello": hello}, log_sink=lambda line: None)
        k.sigtramp = k.kalloc.alloc()
        machine.mem.write(k.sigtramp, sigframe.TRAMPOLINE)
        self.free_at_start = k.kalloc.nfree
        init = k.procs.new_proc(None, "init")            # never ends: the reaper of orphans
        k.procs.init = init
        init.cwd = k.fsys.root
        self.procs = []
        self.spawn_one()

    # ---- the kernel's functions ----
    def spawn_one(self):
        """A new process running /bin/hello, through the kernel's exec path, with a stub."""
        k = self.k
        kp = k.procs.new_proc(k.procs.init, "m")
        from kernel import exec as kexec
        kp.aspace, entry, sp, kp.symbols = kexec.load(k, kp, b"/bin/hello", [b"hello"], [])
        regs = [0] * H.NREGS
        regs[2], regs[H.REG_PC] = sp, entry
        t = k.procs.new_lwp(kp, regs)
        mp = MProc(kp, t)
        self.install_stub(mp)
        self.procs.append(mp)
        return mp

    def install_stub(self, mp):
        """Map the stub as a program does: mmap RW, write, mprotect to read-execute."""
        k = self.k
        assert MM.sys_mmap(k, mp.t, STUB, PAGE, R | W, MAP_PRIVATE | MAP_ANON | MAP_FIXED, -1, 0) == STUB
        mp.kp.aspace.copyout(STUB, _STUB_PAGE)
        assert MM.sys_mprotect(k, mp.t, STUB, PAGE, R | X) == 0

    def guest(self, mp, hid, pc, a0=0, a1=0, a2=0):
        """Run the stub at pc on hart hid in mp's address space: ("ok", a0, a1) at its
        ecall, ("segv", addr) when the fault handler refuses, ("trap", cause) otherwise."""
        cpu = self.k.sched.cpus[hid]
        aspace = mp.kp.aspace
        if cpu.aspace is not aspace:                     # as Scheduler._enter_user
            cpu.hart.set_satp(aspace.satp)
            cpu.aspace = aspace
        regs = [0] * H.NREGS
        regs[10], regs[11], regs[12], regs[H.REG_PC] = a0, a1, a2, pc
        cpu.hart.load(regs)
        for _ in range(6):
            trap = cpu.hart.run(1000, 0)
            if trap.cause == H.CAUSE_ECALL_U:
                self.STATS["guest ok"] += 1
                return ("ok", cpu.hart.get_x(10), cpu.hart.get_x(11))
            if trap.cause not in _FAULTS:
                return ("trap", trap.cause)
            self.STATS["page faults"] += 1
            if not aspace.fault(trap.tval, _FAULTS[trap.cause]):
                self.STATS["guest segv"] += 1
                return ("segv", trap.tval)
        raise AssertionError(f"the same access faulted 6 times at {trap.tval:#x}")

    def end(self, mp):
        k = self.k
        cpu = k.sched.cpus[0]
        k.sched.cur, cpu.current = cpu, mp.t
        try:
            P.sys_exit_group(k, mp.t, 0)
        except ThreadExit:
            pass
        finally:
            k.sched.cur, cpu.current = None, None
        self.procs.remove(mp)
        assert mp.kp.state == "zombie" and mp.kp.aspace is None
        for c in list(k.procs.init.children):            # init reaps its zombies (orphans too)
            if c.state == "zombie":
                assert k.procs.wait(k.procs.init, c.pid, 1) == (c.pid, 0)

    # ---- rules ----
    procs_st = st.integers(0, MAXPROCS - 1)
    page_st = st.integers(0, NPAGES - 1)
    prot_st = st.sampled_from([0, R, R | W, W, R | X, X, R | W | X, W | X])
    hart_st = st.integers(0, 2)

    def pick(self, i):
        return self.procs[i % len(self.procs)]

    @initialize(prots=st.lists(prot_st, min_size=NPAGES, max_size=NPAGES), values=st.lists(
        st.integers(0, 2**64 - 1), min_size=NPAGES, max_size=NPAGES))
    def populate(self, prots, values):
        """Start from a window of written pages in random protections (as a program that
        wrote its data, then protected it), so that forks share pages of every kind."""
        mp = self.procs[0]
        for n, (prot, value) in enumerate(zip(prots, values)):
            self.do_mmap(mp, n, 1, R | W, True)
            assert self.guest(mp, n % self.HARTS, STUB + STORE_OFF, a0=WINDOW + n * PAGE, a1=value)[0] == "ok"
            struct.pack_into("<Q", mp.data.setdefault(WINDOW + n * PAGE, bytearray(PAGE)), 0, value)
            self.do_mprotect(mp, WINDOW + n * PAGE, 1, prot)

    # Rules that throw state away (spawn, exec, exit) run only when `rare` is 0, so that
    # sequences long enough to share, protect and write pages are common.
    rare_st = st.integers(0, 3)

    @precondition(lambda self: len(self.procs) < MAXPROCS)
    @rule(rare=rare_st)
    def spawn(self, rare):
        if rare == 0:
            self.spawn_one()

    @rule(i=procs_st, lo=page_st, n=st.integers(1, 4), prot=prot_st, fixed=st.booleans())
    def mmap(self, i, lo, n, prot, fixed):
        self.do_mmap(self.pick(i), lo, n, prot, fixed)

    def do_mmap(self, mp, lo, n, prot, fixed):
        n = min(n, NPAGES - lo) if fixed else n
        flags = MAP_PRIVATE | MAP_ANON | (MAP_FIXED if fixed else 0)
        addr = MM.sys_mmap(self.k, mp.t, WINDOW + lo * PAGE if fixed else 0, n * PAGE, prot, flags, -1, 0)
        if fixed:
            assert addr == WINDOW + lo * PAGE
        else:
            assert not any(addr <= va < addr + n * PAGE for va in mp.pages), "mmap over a mapping"
        for va in range(addr, addr + n * PAGE, PAGE):
            mp.pages[va] = prot
            mp.data.pop(va, None)
            mp.shared.discard(va)

    @rule(i=procs_st, lo=page_st, n=st.integers(1, 4))
    def munmap(self, i, lo, n):
        mp = self.pick(i)
        va0 = self.target(mp, lo)
        assert MM.sys_munmap(self.k, mp.t, va0, n * PAGE) == 0
        for va in range(va0, va0 + n * PAGE, PAGE):
            mp.pages.pop(va, None)
            mp.data.pop(va, None)
            mp.shared.discard(va)

    @rule(i=procs_st, lo=page_st, n=st.integers(1, 4), prot=prot_st)
    def mprotect(self, i, lo, n, prot):
        mp = self.pick(i)
        self.do_mprotect(mp, self.target(mp, lo), n, prot)

    def do_mprotect(self, mp, va0, n, prot):
        vas = range(va0, va0 + n * PAGE, PAGE)
        if prot & W and any(va in mp.shared and not mp.pages[va] & W for va in vas):
            self.STATS["upgrades after fork"] += 1
        try:
            ret = MM.sys_mprotect(self.k, mp.t, va0, n * PAGE, prot)
        except SysError as e:
            ret = -e.errno
        expect = 0
        for va in vas:                      # Linux: up to the first hole, then ENOMEM
            if va not in mp.pages:
                expect = -ENOMEM
                break
            mp.pages[va] = prot
        assert ret == expect

    @precondition(lambda self: len(self.procs) < MAXPROCS)
    @rule(i=procs_st)
    def fork(self, i):
        mp = self.pick(i)
        pid = self.k.procs.fork(mp.t)
        kp = self.k.procs.procs[pid]
        child = MProc(kp, kp.threads[0], mp.pages, mp.data)
        mp.shared |= set(mp.pages)
        child.shared = set(mp.shared)
        self.procs.append(child)

    @rule(i=procs_st, rare=rare_st)
    def exec(self, i, rare):
        if rare:
            return
        mp = self.pick(i)
        assert P.sys_execve(self.k, mp.t, STUB + PATH_OFF, STUB + ARGV_OFF, 0) is None
        mp.pages, mp.data, mp.shared = {}, {}, set()
        self.install_stub(mp)

    @precondition(lambda self: len(self.procs) > 1)
    @rule(i=procs_st, rare=rare_st)
    def exit(self, i, rare):
        if rare == 0:
            self.end(self.pick(i))

    def target(self, mp, lo):
        """A page of the window, or (odd lo) one of mp's mappings anywhere."""
        anywhere = sorted(va for va in mp.pages if not WINDOW <= va < WINDOW + NPAGES * PAGE)
        if lo % 2 and anywhere:
            return anywhere[lo // 2 % len(anywhere)]
        return WINDOW + lo * PAGE

    @rule(i=procs_st, lo=page_st, slot=st.integers(0, PAGE // 8 - 1), value=st.integers(0, 2**64 - 1),
          hid=hart_st)
    def write(self, i, lo, slot, value, hid):
        mp = self.pick(i)
        va = self.target(mp, lo)
        got = self.guest(mp, hid, STUB + STORE_OFF, a0=va + 8 * slot, a1=value)
        if va in mp.pages and mp.pages[va] & W:
            assert got[0] == "ok", got
            struct.pack_into("<Q", mp.data.setdefault(va, bytearray(PAGE)), 8 * slot, value)
        else:
            assert got[0] == "segv", got

    @rule(i=procs_st, lo=page_st, slot=st.integers(0, PAGE // 8 - 1), hid=hart_st)
    def read(self, i, lo, slot, hid):
        mp = self.pick(i)
        va = self.target(mp, lo)
        got = self.guest(mp, hid, STUB + LOAD_OFF, a0=va + 8 * slot)
        if va in mp.pages and readable(mp.pages[va]):
            assert got[0] == "ok", got
            assert got[2] == struct.unpack_from("<Q", mp.content(va), 8 * slot)[0]
        else:
            assert got[0] == "segv", got

    @rule(i=procs_st, lo=page_st, slot=st.integers(0, PAGE // 8 - 1), value=st.integers(0, 2**64 - 1))
    def kernel_write(self, i, lo, slot, value):
        """The kernel writes user memory (read(2) into a buffer): EFAULT where a user
        store would fault."""
        mp = self.pick(i)
        va = self.target(mp, lo)
        try:
            mp.kp.aspace.copyout(va + 8 * slot, struct.pack("<Q", value))
            ok = True
        except Fault:
            ok = False
        assert ok == (va in mp.pages and bool(mp.pages[va] & W))
        if ok:
            struct.pack_into("<Q", mp.data.setdefault(va, bytearray(PAGE)), 8 * slot, value)

    @rule(i=procs_st, lo=page_st, a=st.integers(0, NCONST - 1), b=st.integers(0, NCONST - 1),
          writer=hart_st, runner=hart_st, how=st.sampled_from(["rwx", "rw-then-rx", "kernel"]))
    def generated_code(self, i, lo, a, b, writer, runner, how):
        """Write `li a0, a; ret` into a page, make it executable, run it on `runner`; then
        write `li a0, b; ret` there and run it again: the second run must see b (the
        runner executed fence.i; Linux also flushes what the writer's hart and the kernel
        wrote). The page is mapped fresh, so the model needs no code contents."""
        mp = self.pick(i)
        va = WINDOW + lo * PAGE
        first = R | W | X if how in ("rwx", "kernel") else R | W
        self.do_mmap(mp, lo, 1, first, True)
        for value in (a, b):
            if how == "rw-then-rx" and value == b:
                self.do_mprotect(mp, va, 1, R | W)
            code = _CONSTS[value]
            if how == "kernel":
                mp.kp.aspace.copyout(va, code)
            else:
                for off in range(0, len(code), 8):
                    word = int.from_bytes(code[off:off + 8].ljust(8, b"\0"), "little")
                    assert self.guest(mp, writer, STUB + STORE_OFF, a0=va + off, a1=word)[0] == "ok"
            if how == "rw-then-rx":
                self.do_mprotect(mp, va, 1, R | X)
            got = self.guest(mp, runner, STUB + CALL_OFF, a2=va)
            assert got[0] == "ok" and got[1] == value, (how, value, got)
        mp.data[va] = bytearray(code.ljust(PAGE, b"\0"))

    # ---- the hardware view against the model ----
    @invariant()
    def memory_matches_model(self):
        self.STATS["steps"] += 1
        mem = self.k.machine.mem
        for mp in self.procs:
            satp = mp.kp.aspace.satp
            vas = set(mp.pages) | {WINDOW + n * PAGE for n in range(NPAGES)}
            for va in sorted(vas):
                pte = _pte(mem, satp, va)
                prot = mp.pages.get(va)
                if prot is None:
                    assert not pte & mmu.PTE_V, f"pid {mp.kp.pid}: {va:#x} unmapped but present"
                    continue
                if not pte & mmu.PTE_V:
                    assert va not in mp.data or not any(mp.data[va]), f"pid {mp.kp.pid}: {va:#x} lost its data"
                    continue
                where = f"pid {mp.kp.pid} page {va:#x} (model prot {prot}, pte {pte & 0x3ff:#x})"
                assert not pte & mmu.PTE_R or readable(prot), where + ": readable"
                assert not pte & mmu.PTE_W or prot & W, where + ": writable"
                assert not pte & mmu.PTE_X or prot & X, where + ": executable"
                pa = mmu.pte_pa(pte)
                if pte & mmu.PTE_W:
                    assert self.k.kalloc.refcount(pa) == 1, where + ": writable but shared"
                assert mem.read(pa, PAGE) == mp.content(va), where + ": contents differ from the model"

    @invariant()
    def refcounts_match_page_tables(self):
        mem = self.k.machine.mem
        count = {}
        for mp in self.procs:
            for pa in _leaves(mem, mmu.satp_root(mp.kp.aspace.satp), 2):
                count[pa] = count.get(pa, 0) + 1
        count[self.k.sigtramp] = count.get(self.k.sigtramp, 0) + 1       # the kernel's own reference
        for pa, n in count.items():
            assert self.k.kalloc.refcount(pa) == n, f"frame {pa:#x}: refcount {self.k.kalloc.refcount(pa)}, mapped {n} times"

    def teardown(self):
        try:
            for mp in list(self.procs):
                self.end(mp)
            assert self.k.kalloc.nfree == self.free_at_start, \
                f"{self.free_at_start - self.k.kalloc.nfree} frames leaked"
        finally:
            self.k.sched.shutdown()


def _pte(mem, satp, va):
    """The last-level PTE of va as the MMU reaches it (0 if a table is missing). A valid
    entry with R=W=X=0 there is a page with no access (PROT_NONE): the MMU faults on it."""
    table = mmu.satp_root(satp)
    for level in (2, 1, 0):
        pte = mem.read64(table + 8 * mmu.vpn(va, level))
        if not pte & mmu.PTE_V or level == 0 or pte & (mmu.PTE_R | mmu.PTE_W | mmu.PTE_X):
            return pte
        table = mmu.pte_pa(pte)


def _leaves(mem, table, level):
    """Physical addresses of the leaves under a page table, as the MMU sees them."""
    ptes = struct.unpack("<512Q", mem.read(table, PAGE))
    for pte in ptes:
        if not pte & mmu.PTE_V:
            continue
        if pte & (mmu.PTE_R | mmu.PTE_W | mmu.PTE_X) or level == 0:
            yield mmu.pte_pa(pte)
        else:
            yield from _leaves(mem, mmu.pte_pa(pte), level - 1)


_STUB_PAGE = _CONSTS = None


def _hello_path():
    import os
    from tests.conftest import ROOT
    return os.path.join(ROOT, "build", "bin", "hello")


QUICK = settings(max_examples=12, stateful_step_count=30, deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck), report_multiple_bugs=False)


def test_address_spaces_match_the_model(userland):
    run_state_machine_as_test(AddressSpaces, settings=QUICK)


def replay(cls, steps):
    """Run one recorded example (a failing case the machine found, shrunk) step by step."""
    m = cls()
    try:
        for name, kw in steps:
            getattr(m, name)(**kw)
            m.memory_matches_model()
            m.refcounts_match_page_tables()
    finally:
        m.teardown()


# The shrunk examples the machine found on main before issue 12's fixes (items 1 and 2),
# replayed as regression tests.
FOUND = {
    "fork-upgrade": [("populate", dict(prots=[0] * NPAGES, values=[0] * NPAGES)), ("fork", dict(i=0)),
                     ("mprotect", dict(i=0, lo=0, n=1, prot=R | W))],
    "cross-hart-code": [("populate", dict(prots=[0] * NPAGES, values=[0] * NPAGES)),
                        ("generated_code", dict(a=0, b=1, how="rwx", i=0, lo=0, runner=0, writer=1))],
}


def test_fork_then_mprotect_keeps_processes_apart(userland):
    replay(AddressSpaces, FOUND["fork-upgrade"])


def test_code_written_elsewhere_runs_new(userland):
    replay(AddressSpaces, FOUND["cross-hart-code"])
