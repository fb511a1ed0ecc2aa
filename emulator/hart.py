"""One hart: a unicorn RV64GC CPU that runs user code and reports clean traps.

Unicorn facts this class absorbs (see ../shared/unicorn-riscv.md):
- synchronous exceptions call UC_HOOK_INTR with the cause and the PC already advanced by 4,
  whatever the instruction length; sepc/stval are not written;
- the fault address is not reported: it is recovered by decoding the instruction at epc;
- `ebreak` makes emu_start fail with UC_ERR_INSN_INVALID, PC at the ebreak;
- `rdtime` raises illegal instruction, and so do `rdcycle` and `rdinstret` once the counter
  extension is switched off (blockcount.py): all three are emulated here from virtual time;
- emu_start(count=N) instruments every instruction; the native block counter
  (blockcount.py) keeps budgets exact without it, and count mode serves the debugger;
- a misaligned AMO or LR is reported as cause 4 whatever it is; a misaligned SC does not
  trap at all (it fails, rd = 1): the block counter checks each SC before it runs and
  reports cause 6 (blockcount.c); misaligned loads and stores are emulated (legal, as on
  Linux), and one that crosses into a missing page reports its first byte's address;
- an instruction fetch that crosses into a missing page reports the start of its block;
- CSR access through reg_read/reg_write needs PRIV raised (else silently wrong);
- writing satp does not flush the TLB; FP is off until mstatus.FS is set.
The hart never calls into the kernel: it returns a Trap and the kernel acts on it.
"""
import ctypes
from typing import NamedTuple

import unicorn
import unicorn.riscv_const as rc
from unicorn.unicorn_py3 import unicorn as _ucmod

from . import blockcount, decode, mmu
from .hartdebug import DebugHooks

# Trap causes (scause values, RISC-V privileged spec) and the budget pseudo-cause.
CAUSE_BUDGET = -1
CAUSE_INSN_ACCESS = 1
CAUSE_ILLEGAL = 2
CAUSE_BREAKPOINT = 3
CAUSE_LOAD_MISALIGNED = 4
CAUSE_LOAD_ACCESS = 5
CAUSE_STORE_MISALIGNED = 6       # store or AMO
CAUSE_STORE_ACCESS = 7
CAUSE_ECALL_U = 8
CAUSE_INSN_PAGE = 12
CAUSE_LOAD_PAGE = 13
CAUSE_STORE_PAGE = 15
_LOAD_TO_STORE = {CAUSE_LOAD_PAGE: CAUSE_STORE_PAGE, CAUSE_LOAD_ACCESS: CAUSE_STORE_ACCESS}
_FAULTS_WITH_ADDRESS = (CAUSE_LOAD_PAGE, CAUSE_STORE_PAGE, CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS)
_MISALIGNED = (CAUSE_LOAD_MISALIGNED, CAUSE_STORE_MISALIGNED)
_MASK64 = (1 << 64) - 1

NREGS = 66                      # x0..x31, f0..f31, pc, fcsr: one saved user context
REG_PC = 64
REG_FCSR = 65
UNTIL = (1 << 64) - 1           # the `until` of counted runs: no PC reaches it (2-byte aligned)
_MSTATUS_FS_DIRTY = 3 << 13
_PRIV_U, _PRIV_M = 0, 3

# unicorn's C API, called through a PyDLL handle without argtypes: the GIL is kept (the
# machine runs in one host thread: releasing it only costs) and no argument is converted.
# Callers pass ctypes objects, or Python ints that fit a C int.
_lib = ctypes.PyDLL(_ucmod.uclib._name)
_INTR_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p)
_UNTIL_ARG, _ZERO_ARG = ctypes.c_uint64(UNTIL), ctypes.c_uint64(0)
_REG_X0, _REG_PC = rc.UC_RISCV_REG_X0, rc.UC_RISCV_REG_PC
_new_tuple = tuple.__new__      # builds a Trap without NamedTuple's Python-level __new__


class EmulatorError(Exception):
    """The emulator itself failed (not the guest): wraps the unicorn error as its cause."""


class Trap(NamedTuple):
    cause: int          # CAUSE_* value
    epc: int            # address of the trapping instruction (resume address for BUDGET)
    tval: int           # fault address for memory faults, else 0
    executed: int       # instructions retired by this run (a trapping ecall counts)


class _RegBlock:
    """Preallocated ctypes arrays for one raw uc_reg_{read,write}_batch call (the Python
    binding's batch call costs ~40x more)."""

    def __init__(self, ids):
        n = len(ids)
        self.n = n
        self.ids = (ctypes.c_int * n)(*ids)
        self.vals = (ctypes.c_uint64 * n)()
        self.alias(self.vals)

    def alias(self, vals) -> None:
        """Read and write the values in vals (a c_uint64 array of the same length)."""
        self.vals = vals
        base = ctypes.addressof(vals)
        self.ptrs = (ctypes.c_void_p * self.n)(*[base + 8 * i for i in range(self.n)])


_CTX_IDS = ([rc.UC_RISCV_REG_X0 + i for i in range(32)] + [rc.UC_RISCV_REG_F0 + i for i in range(32)]
            + [rc.UC_RISCV_REG_PC, rc.UC_RISCV_REG_FCSR])
# Read when a run ends in an ecall, in one batch with the PC: until set_ecall_regs names the
# kernel's system-call registers, a7 and a0-a5 (Linux's convention: kernel/arch.py).
_ECALL_IDS = [rc.UC_RISCV_REG_PC, rc.UC_RISCV_REG_A7, rc.UC_RISCV_REG_A0, rc.UC_RISCV_REG_A1,
              rc.UC_RISCV_REG_A2, rc.UC_RISCV_REG_A3, rc.UC_RISCV_REG_A4, rc.UC_RISCV_REG_A5]


def _counter_offset() -> int:
    """Find where unicorn keeps its executed-instruction counter inside uc_struct.

    unicorn counts instructions for emu_start(count=N) in a private field (emu_counter,
    followed by emu_count) that no API exposes. Measured once per process: run a known
    number of instructions ending in an ecall and locate the (counter, count) pair.
    """
    uc = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV64)
    uc.mem_map(0x1000, 0x1000)
    nop, ecall = (0x00000013).to_bytes(4, "little"), (0x00000073).to_bytes(4, "little")
    uc.hook_add(unicorn.UC_HOOK_INTR, lambda u, i, d: u.emu_stop())
    words = (ctypes.c_uint64 * 512).from_address(uc._uch.value)
    found = None
    for start, n_nops, budget in ((0x1000, 5, 777), (0x1800, 9, 555)):
        uc.mem_write(start, nop * n_nops + ecall)
        uc.emu_start(start, UNTIL, 0, budget)
        hits = {i for i in range(511) if words[i] == n_nops + 1 and words[i + 1] == budget}
        found = hits if found is None else found & hits
    if not found or len(found) != 1:
        raise EmulatorError("cannot locate unicorn's instruction counter (unicorn version?)")
    return 8 * found.pop()


_COUNTER_OFFSET = None


class Hart(DebugHooks):
    """Hart `hid` of a machine. Not thread-safe: the machine drives all harts from one thread.
    Debugging (breakpoints, watchpoints, stepping): hartdebug.py."""

    def __init__(self, hid: int, mem, mode: str | None = None):
        global _COUNTER_OFFSET
        if _COUNTER_OFFSET is None:
            _COUNTER_OFFSET = _counter_offset()
        self.hid = hid
        self.mem = mem
        self.uc = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV64)
        self.uc.mem_map_ptr(mem.base, mem.size, unicorn.UC_PROT_ALL, mem.ptr)
        self._h = ctypes.c_void_p(self.uc._uch.value)
        self._counter = ctypes.c_uint64.from_address(self._h.value + _COUNTER_OFFSET)
        self._one = ctypes.c_uint64()
        self._one_ref = ctypes.byref(self._one)
        self._start_pc = ctypes.c_uint64()
        self._start_count = ctypes.c_uint64()
        self._ctx = _RegBlock(_CTX_IDS)
        self._ecall = _RegBlock(_ECALL_IDS)     # read when a run ends in an ecall
        self._pc = 0                    # the PC register: set by every write, read after every run
        self.satp = 0
        self._limit = ctypes.c_uint64.from_address(self._h.value + _COUNTER_OFFSET + 8)
        self._init_debug()
        self.instret = 0                # user instructions retired (the instret CSR)
        self.counters_virtual = blockcount.disable_counters(self.uc)   # rdcycle/rdinstret trap
        # Budgets (blockcount.py): "block" or "until", the native block counter (its C hooks
        # record a trap's cause in _cause); "count", unicorn's count mode, which also serves
        # debugging runs. The default is the best this process has (blockcount.default_mode).
        self.mode = mode or blockcount.default_mode()
        if self.mode not in blockcount.MODES[blockcount.MODES.index(blockcount.native().mode):]:
            raise EmulatorError(f"hart {hid}: budget mode {self.mode!r} unavailable here")
        self._bc = None
        if self.mode != "count":
            try:
                self._bc = blockcount.BlockCounter(self.uc, exact=self.mode == "block",
                                                   counter=self._h.value + _COUNTER_OFFSET)
            except unicorn.UcError as e:
                raise EmulatorError(f"hart {hid}: cannot install the block counter") from e
            self._bst = self._bc.state
            self._cause = self._bc.cause
            self._bc_run, self._bcp = self._bc.run, self._bc.ptr
            self._budget_arg = ctypes.c_int64()
            self._ecall.alias(self._bst.ecall)  # bc_run reads the ecall registers there
            self._bst.ecall_regs[:] = list(self._ecall.ids)
        else:
            # The trap hook is registered through the C API: the binding's wrapper around a
            # Python hook costs more than the rest of a null syscall. It only records the cause.
            self._cause = ctypes.c_int32(-1)
            self._intr_cb = _INTR_CB(self._on_intr)
            hh = _ucmod.uc_hook_h()
            err = _lib.uc_hook_add(self._h, ctypes.byref(hh), unicorn.UC_HOOK_INTR,
                                   ctypes.cast(self._intr_cb, ctypes.c_void_p), None,
                                   ctypes.c_uint64(1), ctypes.c_uint64(0))
            if err != unicorn.UC_ERR_OK:
                raise EmulatorError(f"hart {hid}: cannot install the trap hook") from unicorn.UcError(err)
        self._native = self._bc is not None     # a run uses the block counter (not debugging)
        self._csr_write(rc.UC_RISCV_REG_MSTATUS, self._csr_read(rc.UC_RISCV_REG_MSTATUS) | _MSTATUS_FS_DIRTY)
        self._sync_pc()

    @property
    def sc_checks(self) -> int:
        """sc instructions whose address the native counter checked before they ran (0 in
        count mode, which has no counter)."""
        return self._bc.state.sc_checks if self._bc is not None else 0

    # ---- CSRs: only correct with PRIV raised to M ----
    def _csr_read(self, reg):
        self.uc.reg_write(rc.UC_RISCV_REG_PRIV, _PRIV_M)
        v = self.uc.reg_read(reg)
        self.uc.reg_write(rc.UC_RISCV_REG_PRIV, _PRIV_U)
        return v

    def _csr_write(self, reg, value):
        self.uc.reg_write(rc.UC_RISCV_REG_PRIV, _PRIV_M)
        self.uc.reg_write(reg, value)
        self.uc.reg_write(rc.UC_RISCV_REG_PRIV, _PRIV_U)

    # ---- address space and code. The block counter caches each block's instruction count
    # by virtual address, as the TLB caches translations: whatever flushes the TLB or drops
    # translated code must also call self._bc.forget() (as these methods do). ----
    def set_satp(self, satp: int) -> None:
        """Switch address space; the TLB is flushed (unicorn keeps stale entries otherwise)."""
        self.satp = satp
        self._csr_write(rc.UC_RISCV_REG_SATP, satp)
        self.flush_tlb()

    def flush_tlb(self) -> None:
        self.uc.ctl(unicorn.UC_CTL_TLB_FLUSH, unicorn.UC_CTL_IO_WRITE)
        if self._bc is not None:
            self._bc.forget()

    def flush_code(self, pa: int, length: int) -> None:
        """Drop translated code for physical range [pa, pa+length) (unicorn keeps it even
        when RAM is rewritten behind its back). With PRIV=M the MMU is off, so unicorn's
        virtual-to-physical lookup of the range is the identity."""
        self.uc.reg_write(rc.UC_RISCV_REG_PRIV, _PRIV_M)
        self.uc.ctl_remove_cache(pa, pa + length)
        self.uc.reg_write(rc.UC_RISCV_REG_PRIV, _PRIV_U)
        if self._bc is not None:
            self._bc.forget()

    # ---- registers ----
    def save(self) -> list:
        """The running user context as NREGS integers (x0..x31, f0..f31, pc, fcsr)."""
        b = self._ctx
        _lib.uc_reg_read_batch(self._h, b.ids, b.ptrs, b.n)
        return b.vals[:]

    def load(self, regs: list) -> None:
        """Load a user context. PC bit 0 is cleared: with the C extension the PC is
        2-byte aligned, and sepc[0] (where a kernel writes a resume PC) reads as zero."""
        b = self._ctx
        b.vals[:] = regs
        b.vals[REG_PC] &= ~1
        _lib.uc_reg_write_batch(self._h, b.ids, b.ptrs, b.n)
        self._pc = b.vals[REG_PC]

    def set_ecall_regs(self, regs) -> None:
        """The 7 registers (x numbers) a run ending in an ecall reads with the trap, in the
        same call as the PC, for syscall_args: the system call's number and arguments in the
        kernel's convention (kernel/arch.py). Until set: a7, a0-a5."""
        if len(regs) != 7 or not all(0 < n < 32 for n in regs):
            raise ValueError("set_ecall_regs takes 7 register numbers 1..31")
        self._ecall.ids[:] = [rc.UC_RISCV_REG_PC] + [_REG_X0 + n for n in regs]
        if self._bc is not None:
            self._bst.ecall_regs[:] = list(self._ecall.ids)

    def syscall_args(self) -> list:
        """The registers set_ecall_regs named, as the ecall that ended the last run left them."""
        return self._ecall.vals[1:]

    def _read(self, reg: int) -> int:
        _lib.uc_reg_read(self._h, reg, self._one_ref)
        return self._one.value

    def _write(self, reg: int, value: int) -> None:
        self._one.value = value & 0xFFFFFFFFFFFFFFFF
        _lib.uc_reg_write(self._h, reg, self._one_ref)

    def get_x(self, n: int) -> int:
        return self._read(_REG_X0 + n) if n else 0

    def set_x(self, n: int, value: int) -> None:
        if n:
            self._write(_REG_X0 + n, value)

    def get_pc(self) -> int:
        return self._pc

    def set_pc(self, pc: int) -> None:
        """Bit 0 is cleared, as in load()."""
        pc &= _MASK64 & ~1
        self._write(_REG_PC, pc)
        self._pc = pc

    def _sync_pc(self) -> int:
        """Read the PC unicorn left (after a run) into the cached copy."""
        _lib.uc_reg_read(self._h, _REG_PC, self._one_ref)
        pc = self._pc = self._one.value
        return pc

    # ---- running ----
    def _on_intr(self, _handle, intno, _data):
        self._cause.value = intno
        _lib.uc_emu_stop(self._h)

    def fetch(self, va: int, n: int = 4):
        """Bytes at user virtual address va through the current page table, or None."""
        out = b""
        for cur, chunk in mmu.spans(va, n):
            pa = mmu.translate(self.mem, self.satp, cur)
            if pa is None:
                return out or None
            out += self.mem.read(pa, chunk)
        return out

    def run(self, budget: int, now: int) -> Trap:
        """Run user code from the loaded PC for at most `budget` instructions.

        `now` is the virtual time (ns) at the start of the run, for the counter CSRs. Returns
        the first trap, or a CAUSE_BUDGET trap whose epc is the resume PC. A debugging stop
        (breakpoint, watchpoint, step) ends the run early as a CAUSE_BUDGET trap, sets
        debug_stop and calls on_debug_stop().
        """
        if self._native:
            self._budget_arg.value = budget
            executed = self._bc_run(self._bcp, self._budget_arg)
            if executed >= 0:                   # the common case, kept short: a budget stop
                pc = self._pc = self._bst.pc
                self.instret += executed
                return _new_tuple(Trap, (CAUSE_BUDGET, pc, 0, executed))
            trap = self._blocks_trap()
        elif self._dbg:
            trap = self._run_debug(budget, now)
            self.instret += trap.executed
            return trap
        else:
            trap = self._run_counted(budget)
        if trap.cause == CAUSE_ILLEGAL:
            trap = self._counters(trap, budget, now)
        self.instret += trap.executed
        return trap

    def _counters(self, trap: Trap, budget: int, now: int) -> Trap:
        """The run ended in an illegal instruction: if it reads the time, cycle or instret
        CSR, emulate it and go on. time and cycle read the hart's virtual time when the
        instruction ran (one cycle is one ns), instret the user instructions this hart
        retired before it."""
        executed = 0
        while True:
            executed += trap.executed
            if trap.cause == CAUSE_ILLEGAL:
                code = self.fetch(trap.epc, 4)
                read = decode.counter_read(code) if code and len(code) == 4 else None
                if read is not None:
                    csr, rd = read
                    self.set_x(rd, self.instret + executed - 1 if csr == decode.CSR_INSTRET
                               else now + executed)
                    self.set_pc(trap.epc + 4)
                    if executed < budget:
                        trap = self._run_once(budget - executed)
                        continue
                    return Trap(CAUSE_BUDGET, trap.epc + 4, 0, executed)
            return trap._replace(executed=executed)

    def _run_once(self, budget: int) -> Trap:
        """One run from the PC in unicorn (always equal to _pc)."""
        if self._native:
            self._budget_arg.value = budget
            executed = self._bc_run(self._bcp, self._budget_arg)
            if executed >= 0:
                pc = self._pc = self._bst.pc
                return Trap(CAUSE_BUDGET, pc, 0, executed)
            return self._blocks_trap()
        return self._run_counted(budget)

    def _blocks_trap(self) -> Trap:
        """The Trap of a block-counter run that did not end on its budget."""
        st = self._bst
        if st.fault:
            raise EmulatorError(f"hart {self.hid}: block counter failed at pc {st.pc:#x}: "
                                f"{blockcount.FAULTS.get(st.fault, st.fault)}")
        if st.err != unicorn.UC_ERR_OK:
            self._pc = st.pc
            return self._uc_error(unicorn.UcError(st.err), st.executed)
        cause = st.cause
        if cause == CAUSE_ECALL_U:             # bc_run read the PC and the arguments
            pc = self._pc = st.pc
            return Trap(cause, pc - 4, 0, st.executed)
        return self._trap(cause, st.pc, st.executed)

    def _run_counted(self, budget: int) -> Trap:
        """A run in unicorn's count mode (emu_start count=N); debugging hooks rely on it."""
        if budget <= 0:
            return Trap(CAUSE_BUDGET, self._pc, 0, 0)
        self._cause.value = -1
        self._start_pc.value = self._pc
        self._start_count.value = budget
        err = _lib.uc_emu_start(self._h, self._start_pc, _UNTIL_ARG, _ZERO_ARG, self._start_count)
        if err != unicorn.UC_ERR_OK:                # (emu_start zeroes the counter read below)
            self._sync_pc()
            return self._uc_error(unicorn.UcError(err), min(self._counter.value, budget))
        executed = min(self._counter.value, budget)
        cause = self._cause.value
        if cause >= blockcount.SC_SPLIT:            # the block counter stopped on an sc
            return self._sc_stop(cause, budget)
        if cause < 0 and self._hit is not None:    # a hook stopped before an instruction
            pc = self._sync_pc()
            self._hit = self._hit._replace(pc=pc)
            return Trap(CAUSE_BUDGET, pc, 0, min(self._counter.value - 1, budget))
        if cause == CAUSE_ECALL_U:
            b = self._ecall
            _lib.uc_reg_read_batch(self._h, b.ids, b.ptrs, b.n)
            pc = self._pc = b.vals[0]
            return Trap(cause, pc - 4, 0, executed)
        return self._trap(cause, self._sync_pc(), executed)

    def _trap(self, cause: int, pc: int, executed: int) -> Trap:
        """The Trap of a run that ended with PC pc, not in an ecall: a budget stop (cause
        -1), or an exception reported by the trap hook (PC already advanced by 4)."""
        if cause < 0:
            self._pc = pc
            return Trap(CAUSE_BUDGET, pc, 0, executed)
        epc = (pc - 4) & _MASK64            # unicorn advanced PC by 4 whatever the length
        self.set_pc(epc)
        return self._fault_trap(cause, epc, executed)

    def _fault_trap(self, cause: int, epc: int, executed: int) -> Trap:
        """The clean trap for a fault unicorn reported as `cause` at epc: the architectural
        cause, and tval = the address that faulted (the page that is missing, for an access
        or a fetch that crosses into the next page)."""
        if cause == CAUSE_INSN_PAGE or cause == CAUSE_INSN_ACCESS:
            if self._permits(epc, mmu.PTE_X):        # the block's first page is fine:
                return Trap(cause, epc, (epc | (mmu.PAGE_SIZE - 1)) + 1, executed)   # the next one is not
            return Trap(cause, epc, epc, executed)
        if cause not in _FAULTS_WITH_ADDRESS and cause not in _MISALIGNED:
            return Trap(cause, epc, 0, executed)
        code = self.fetch(epc, 4)
        acc = decode.memory_access(code, epc, self.get_x) if code else None
        if acc is None:
            return Trap(cause, epc, 0, executed)
        if cause in _MISALIGNED:                     # only atomics: unicorn says 4 for all
            return Trap(CAUSE_STORE_MISALIGNED if acc.is_store else CAUSE_LOAD_MISALIGNED, epc, acc.addr, executed)
        if acc.is_store and cause in _LOAD_TO_STORE:   # unicorn reports AMOs as loads
            cause = _LOAD_TO_STORE[cause]
        tval = acc.addr
        last = (acc.addr + acc.size - 1) & _MASK64
        if last >> mmu.PAGE_SHIFT != tval >> mmu.PAGE_SHIFT and self._permits(
                tval, mmu.PTE_W if cause in (CAUSE_STORE_PAGE, CAUSE_STORE_ACCESS) else mmu.PTE_R):
            tval = last & ~(mmu.PAGE_SIZE - 1)       # a misaligned access: its second page faulted
        return Trap(cause, epc, tval, executed)

    def _permits(self, va: int, perm: int) -> bool:
        """The current page table maps va for a user access with permission perm."""
        pte = mmu.leaf_pte(self.mem, self.satp, va)
        return bool(pte & mmu.PTE_U and pte & perm)

    def _uc_error(self, e, executed) -> Trap:
        """emu_start failed (PC on the instruction, already read into _pc)."""
        pc = self._pc
        if e.errno == unicorn.UC_ERR_INSN_INVALID:
            if self._is_ebreak(pc):
                return Trap(CAUSE_BREAKPOINT, pc, 0, executed)
            return Trap(CAUSE_ILLEGAL, pc, 0, executed)
        if e.errno in (unicorn.UC_ERR_FETCH_UNMAPPED, unicorn.UC_ERR_FETCH_PROT):
            return Trap(CAUSE_INSN_ACCESS, pc, pc, executed)
        if e.errno in (unicorn.UC_ERR_READ_UNMAPPED, unicorn.UC_ERR_READ_PROT):
            return Trap(CAUSE_LOAD_ACCESS, pc, 0, executed)
        if e.errno in (unicorn.UC_ERR_WRITE_UNMAPPED, unicorn.UC_ERR_WRITE_PROT):
            return Trap(CAUSE_STORE_ACCESS, pc, 0, executed)
        raise EmulatorError(f"hart {self.hid}: unicorn failed at pc {pc:#x}") from e

    def _is_ebreak(self, pc: int) -> bool:
        code = self.fetch(pc, 4) or self.fetch(pc, 2) or b""
        if len(code) >= 2 and int.from_bytes(code[:2], "little") == 0x9002:        # c.ebreak
            return True
        return len(code) >= 4 and int.from_bytes(code[:4], "little") == 0x00100073  # ebreak
