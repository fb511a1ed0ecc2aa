"""Native instruction budgets (blockcount.c) and the private unicorn state they rely on.

unicorn's own budget, emu_start(count=N), instruments every instruction (a PC store, a call
and an exit check each): about a tenth of the speed of an uninstrumented run. The native
counter charges whole translated blocks from a C UC_HOOK_BLOCK callback and finishes a
budget exactly (blockcount.c says how); a hart using it returns the same Traps as in count
mode, instruction for instruction. What it needs, each found once per process:

- build/libblockcount.so, built by the Makefile with the venv's Zig for the host.
- The CPU object: uc_struct.cpu (a CPUState*, at the start of unicorn's RISCVCPU). Located by
  writing known values into x1..x31 and the PC of a scratch unicorn and finding the pointer
  whose object holds a pointer to them (CPUState.env_ptr -> CPURISCVState.gpr/pc). Memory is
  read only inside the process's own writable mappings (/proc/self/maps).
- CPUState.cflags_next_tb (QEMU: the cflags of the next block translated; its low 15 bits
  bound the block's length): the one int32 near the start of CPUState, reading -1, that when
  set to 2 makes the next block two instructions long and is reset to -1 by the run.
- RISCVCPU.cfg.ext_counters (bool, right after CPURISCVState, whose last field is a pointer
  back to the uc_struct): cleared, the counter CSRs cycle, time and instret raise illegal
  instruction (csr.c, predicate ctr), so the hart emulates them from virtual time. Located
  as the one byte of cfg that, cleared, makes rdcycle trap while other CSRs still read.

Fallbacks, in order, each described by notes() for the boot log: without cflags_next_tb the
exact finish uses an `until` address (slower); without the library the harts use count mode;
without ext_counters rdcycle and rdinstret read the host's cycle counter.
"""
import ctypes
import os

import unicorn
import unicorn.riscv_const as rc
from unicorn.unicorn_py3 import unicorn as _ucmod

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB_PATH = os.path.join(ROOT, "build", "libblockcount.so")

_lib = ctypes.PyDLL(_ucmod.uclib._name)         # the binding's libunicorn (see hart.py)
_CODE = 0x10000
_NOP, _ECALL = 0x00000013, 0x00000073
_CSRR_A0_MSCRATCH = 0x34002573                   # csrrs a0, mscratch, zero
_RDCYCLE_A1 = 0xC00025F3                         # csrrs a1, cycle, zero
_SCAN_UC_WORDS = 128            # uc_struct.cpu is in its first KiB (440 in unicorn 2.1.4)
_SCAN_CPU_WORDS = 128           # CPUState.env_ptr is in its first KiB
_SCAN_CFLAGS = 64               # int32s of CPUState tried for cflags_next_tb (offset 24)
_SCAN_ENV_BYTES = 16 << 10      # CPURISCVState is about 2 KiB
_SCAN_CFG_BYTES = 32            # cfg: 14 bools then pointers; padding before it allowed


class ProbeError(Exception):
    """A private field of unicorn could not be located (another unicorn version?)."""


class _State(ctypes.Structure):
    """The head of struct bc_hart (blockcount.c); the count cache follows it."""
    _fields_ = [("uc", ctypes.c_void_p), ("emu_start", ctypes.c_void_p),
                ("emu_stop", ctypes.c_void_p), ("vmem_read", ctypes.c_void_p),
                ("reg_read", ctypes.c_void_p), ("reg_write", ctypes.c_void_p),
                ("ctl", ctypes.c_void_p), ("cflags_next", ctypes.c_void_p),
                ("count", ctypes.c_void_p), ("gpr", ctypes.c_void_p), ("check_sc", ctypes.c_int32),
                ("ecall_regs", ctypes.c_int32 * 8),
                ("cause", ctypes.c_int32), ("fault", ctypes.c_int32),
                ("err", ctypes.c_int32), ("pad", ctypes.c_int32),
                ("pc", ctypes.c_uint64), ("executed", ctypes.c_uint64),
                ("ecall", ctypes.c_uint64 * 8),
                ("misses", ctypes.c_uint64), ("finishes", ctypes.c_uint64),
                ("sc_checks", ctypes.c_uint64),
                ("left", ctypes.c_int64), ("last", ctypes.c_void_p),
                ("stop_pc", ctypes.c_uint64), ("stop_size", ctypes.c_uint32),
                ("stopped", ctypes.c_uint32), ("gen", ctypes.c_uint32),
                ("running", ctypes.c_uint32), ("split", ctypes.c_uint32)]


_LAYOUT = ("cause", "pc", "executed", "misses", "left", "gen", "ecall", "split", "ecall_regs")
# False: harts created from now on do not check sc alignment (as before the check existed):
# only for make bench's side-by-side baseline and the test that the check changes no run.
check_sc = True
# Pseudo-causes of a count-mode run on a hart with the block counter (blockcount.c): the hook
# lowered unicorn's instruction limit to stop on an sc it must check once the instructions
# before it ran; a misaligned sc starts the block, and the run stopped before it, PC on it.
SC_SPLIT, SC_MISALIGNED = 0x100, 0x101
FAULTS = {1: "the code of a block could not be read", 2: "an exact finish made no progress"}


# ---- locating private state ----
def _writable_ranges():
    ranges = []
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if parts[1].startswith("rw") and (len(parts) < 6 or not parts[5].startswith("[v")):
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                ranges.append((lo, hi))
    return ranges


def _inside(ranges, addr, n):
    return any(lo <= addr and addr + n <= hi for lo, hi in ranges)


def _scratch():
    uc = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV64)
    uc.mem_map(_CODE, 0x1000)
    return uc


def _cpu_of(uc, field):
    return ctypes.c_uint64.from_address(uc._uch.value + field).value


def _locate_cpu():
    """(offset of uc_struct.cpu, offset of CPURISCVState in the CPU object)."""
    uc = _scratch()
    magic = 0x5EED_0000_0000_0000
    for i in range(1, 32):
        uc.reg_write(rc.UC_RISCV_REG_X0 + i, magic | i << 8)
    uc.reg_write(rc.UC_RISCV_REG_PC, magic | 0xC0DE0)
    ranges = _writable_ranges()
    words = (ctypes.c_uint64 * _SCAN_UC_WORDS).from_address(uc._uch.value)
    for i, p in enumerate(words):
        if p % 8 or not _inside(ranges, p, 8 * _SCAN_CPU_WORDS):
            continue
        for e in (ctypes.c_uint64 * _SCAN_CPU_WORDS).from_address(p):
            if e % 8 or not p < e < p + (1 << 20) or not _inside(ranges, e, 8 * 65):
                continue
            env = (ctypes.c_uint64 * 65).from_address(e)        # gpr[32], fpr[32], pc
            if env[64] == magic | 0xC0DE0 and all(env[k] == magic | k << 8 for k in range(1, 32)):
                return 8 * i, e - p
    raise ProbeError("uc_struct.cpu not found")


def _locate_cflags(cpu_field):
    """Offset of CPUState.cflags_next_tb."""
    uc = _scratch()
    uc.mem_write(_CODE, _NOP.to_bytes(4, "little") * 8 + _ECALL.to_bytes(4, "little"))
    sizes = []

    def on_block(u, addr, size, _data):
        sizes.append(size)
        u.emu_stop()
    uc.hook_add(unicorn.UC_HOOK_BLOCK, on_block)
    uc.hook_add(unicorn.UC_HOOK_INTR, lambda u, intno, _data: u.emu_stop())
    ints = (ctypes.c_int32 * _SCAN_CFLAGS).from_address(_cpu_of(uc, cpu_field))
    found = []
    for k in range(_SCAN_CFLAGS):
        if ints[k] != -1:
            continue
        uc.ctl_flush_tb()
        sizes.clear()
        ints[k] = 2
        try:
            uc.emu_start(_CODE, _CODE + 0x100)
        except unicorn.UcError:
            pass
        if ints[k] == -1 and sizes[:1] == [8]:    # consumed, and obeyed: two nops
            found.append(k)
        ints[k] = -1
    if len(found) != 1:
        raise ProbeError(f"CPUState.cflags_next_tb not found ({len(found)} candidates)")
    return 4 * found[0]


def _locate_ext_counters(cpu_field, env_off):
    """Offset of RISCVCPU.cfg.ext_counters in the CPU object."""
    uc = _scratch()
    code = b"".join(w.to_bytes(4, "little") for w in (_CSRR_A0_MSCRATCH, _RDCYCLE_A1, _ECALL))
    uc.mem_write(_CODE, code)
    traps = []

    def on_intr(u, intno, _data):
        traps.append((intno, u.reg_read(rc.UC_RISCV_REG_PC) - 4))
        u.emu_stop()
    uc.hook_add(unicorn.UC_HOOK_INTR, on_intr)
    handle = uc._uch.value
    env = _cpu_of(uc, cpu_field) + env_off
    ranges = _writable_ranges()
    if not _inside(ranges, env, _SCAN_ENV_BYTES):
        raise ProbeError("CPURISCVState not readable")
    words = (ctypes.c_uint64 * (_SCAN_ENV_BYTES // 8)).from_address(env)
    back = next((k for k in range(65, len(words)) if words[k] == handle), None)
    if back is None:
        raise ProbeError("CPURISCVState.uc not found")
    cfg = env + 8 * back + 8

    def trap_of_rdcycle():
        traps.clear()
        uc.emu_start(_CODE, _CODE + 0x100)
        return traps[0] if traps else None
    cfg_bytes = (ctypes.c_uint8 * _SCAN_CFG_BYTES).from_address(cfg)
    found = []
    for k in range(_SCAN_CFG_BYTES):
        if cfg_bytes[k] != 1:
            continue
        cfg_bytes[k] = 0
        off = trap_of_rdcycle()
        cfg_bytes[k] = 1
        if off == (2, _CODE + 4) and trap_of_rdcycle() != off:
            found.append(k)
    if len(found) != 1:
        raise ProbeError(f"RISCVCPU.cfg.ext_counters not found ({len(found)} candidates)")
    return cfg + found[0] - (env - env_off)


MODES = ("block", "until", "count")    # best first


# ---- set-up, once per process ----
class _Native:
    def __init__(self):
        self.lib = None
        self.cpu_field = self.cflags_off = self.counters_off = None
        self.notes = []
        try:
            self.cpu_field, self.env_off = _locate_cpu()
        except ProbeError as e:
            self.env_off = None
            self.notes.append(f"unicorn's CPU state not found ({e})")
        if self.cpu_field is not None:
            try:
                self.counters_off = _locate_ext_counters(self.cpu_field, self.env_off)
            except (ProbeError, unicorn.UcError) as e:
                self.notes.append(f"cannot trap counter CSRs ({e})")
        if self.counters_off is None:
            self.notes.append("rdcycle and rdinstret read the host's cycle counter: "
                              "NOT deterministic")
        try:
            self.lib = _load()
        except (OSError, ProbeError) as e:
            self.notes.append(f"native block counter unavailable ({e}): budgets use "
                              "unicorn's count mode (several times slower), and a misaligned "
                              "sc fails (rd = 1) instead of raising SIGBUS")
            return
        if self.cpu_field is not None:
            try:
                self.cflags_off = _locate_cflags(self.cpu_field)
            except (ProbeError, unicorn.UcError) as e:
                self.notes.append(str(e))
        if self.cflags_off is None:
            self.notes.append("budgets end with an `until` address (slower exact finish)")

    @property
    def mode(self) -> str:
        """"block" (native, exact finish by cflags_next_tb), "until" or "count"."""
        if self.lib is None:
            return "count"
        return "block" if self.cflags_off is not None else "until"


def _load():
    if not os.path.exists(LIB_PATH):
        raise OSError(f"{os.path.relpath(LIB_PATH, ROOT)} not built")
    lib = ctypes.PyDLL(LIB_PATH)
    lib.bc_size.restype = ctypes.c_size_t
    lib.bc_run.restype = ctypes.c_int64
    offsets = (ctypes.c_uint32 * len(_LAYOUT))()
    lib.bc_layout(offsets)
    if lib.bc_size() < ctypes.sizeof(_State) or any(
            offsets[i] != getattr(_State, name).offset for i, name in enumerate(_LAYOUT)):
        raise ProbeError("libblockcount.so does not match blockcount.py (rebuild it)")
    return lib


_native = None


def native() -> _Native:
    global _native
    if _native is None:
        _native = _Native()
    return _native


_forced = None


class forced:
    """with forced("count"): harts created inside use that mode (benchmarks and tests that
    compare the modes side by side). Only modes this process supports."""

    def __init__(self, mode):
        if mode not in MODES[MODES.index(native().mode):]:
            raise ValueError(f"budget mode {mode!r} unavailable here")
        self.mode = mode

    def __enter__(self):
        global _forced
        self.saved, _forced = _forced, self.mode

    def __exit__(self, *exc):
        global _forced
        _forced = self.saved


def default_mode() -> str:
    """The mode a new hart uses: the best this process has, unless forced."""
    return _forced or native().mode


def notes() -> list:
    """One line per fallback in use (none when everything is native), for the boot log."""
    return list(native().notes)


def _fn(name):
    return ctypes.cast(getattr(_lib, name), ctypes.c_void_p).value


def disable_counters(uc) -> bool:
    """Make this unicorn's cycle, time and instret CSRs raise illegal instruction. False if
    ext_counters was not located (they keep reading host values)."""
    n = native()
    if n.counters_off is None:
        return False
    ctypes.c_uint8.from_address(_cpu_of(uc, n.cpu_field) + n.counters_off).value = 0
    return True


def add_empty_hook(uc) -> None:
    """Add blockcount.c's empty block hook (bc_empty) to unicorn uc: the floor any block hook
    costs, which make bench measures. Needs the native library (native().lib)."""
    _add_hook(uc._uch.value, unicorn.UC_HOOK_BLOCK, native().lib.bc_empty, None)


def _add_hook(handle, kind, fn, data) -> None:
    hh = _ucmod.uc_hook_h()
    err = _lib.uc_hook_add(ctypes.c_void_p(handle), ctypes.byref(hh), kind, ctypes.cast(fn, ctypes.c_void_p),
                           data, ctypes.c_uint64(1), ctypes.c_uint64(0))
    if err != unicorn.UC_ERR_OK:
        raise unicorn.UcError(err)


class BlockCounter:
    """The native counter of one hart: its C state and its two hooks (block and trap).
    exact: finish budgets through cflags_next_tb (mode "block"), else with `until`.
    counter: the address of unicorn's count-mode instruction counter (followed by its limit):
    with it, the hook checks sc alignment in count-mode runs too (debugging), else only in
    bc_run.

    Install it before the hart translates any code: a block hook does not reach blocks
    translated before it was added."""

    def __init__(self, uc, exact=True, counter=None):
        n = native()
        lib = n.lib
        self.lib = lib
        self._buf = ctypes.create_string_buffer(lib.bc_size())
        st = self.state = _State.from_buffer(self._buf)
        st.uc = uc._uch.value
        for name in ("emu_start", "emu_stop", "vmem_read", "reg_read", "reg_write", "ctl"):
            setattr(st, name, _fn("uc_" + name))
        if exact:
            st.cflags_next = _cpu_of(uc, n.cpu_field) + n.cflags_off
        st.count = counter
        if n.cpu_field is not None:
            st.gpr = _cpu_of(uc, n.cpu_field) + n.env_off     # CPURISCVState.gpr[32]
        self.ptr = ctypes.c_void_p(ctypes.addressof(st))
        lib.bc_init(self.ptr)
        st.check_sc = int(check_sc)
        self.cause = ctypes.c_int32.from_buffer(self._buf, _State.cause.offset)
        for kind, fn in ((unicorn.UC_HOOK_BLOCK, lib.bc_block), (unicorn.UC_HOOK_INTR, lib.bc_intr)):
            _add_hook(st.uc, kind, fn, self.ptr)
        uc.ctl_flush_tb()
        self.run = lib.bc_run             # run(ptr, c_int64 budget) -> executed, or -1

    def forget(self) -> None:
        """Forget cached block counts: call whenever the TLB or translated code is flushed."""
        self.lib.bc_forget(self.ptr)
