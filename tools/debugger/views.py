"""The machine's view, which no gdb has: harts, processes, LWPs, address spaces, virtual
time; plus the lower-level views of the selected thread (registers, memory, disassembly,
source). Each function returns the lines to print."""
import capstone

from emulator import mmu
from emulator.hart import REG_PC
from emulator.machine import SOLO_QUANTA
from kernel.inspect import EXITED, PTE_COW, RUNNABLE, RUNNING, SLEEPING, USER, ZOMBIE

from .evaluate import Evaluator
from .program import REG_NAMES, DebugError
from .types import format_scalar

_CS = capstone.Cs(capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV64 | capstone.CS_MODE_RISCVC)
_STATE = {RUNNING: "running", RUNNABLE: "runnable", SLEEPING: "sleeping", EXITED: "exited"}


def _where(s, t):
    """'func+off' of a user thread's pc, or its kernel state."""
    if not t.pid:
        return "kernel thread"
    pc = s.regs(t)[REG_PC]
    sym = s.prog.symbolize(pc) if t.pid in s.inferiors else s.inspect.symbol(t.pid, pc)
    return f"{pc:#x}" + (f" <{sym}>" if sym else "")


def info_harts(s):
    s.need_running()
    lines = ["  Hart  Mode    Thread                       PC                            Time (ns)   Insns"]
    for h in s.inspect.harts():
        t = s.inspect.thread(h.current) if h.current >= 0 else None
        mark = "*" if h.hid == s.hart else " "
        if t is None:
            mode, who, pc = "idle", "-", "-"
        elif not t.pid:
            mode, who, pc = "kernel", f"{t.name} (kthread {t.tid})", "-"
        else:
            mode = "user" if t.mode == USER else "kernel"
            who = f"LWP {t.tid} pid {t.pid} {t.proc_name}"
            pc = _where(s, t)
        lines.append(f"{mark} {h.hid:<5} {mode:<7} {who:<28} {pc:<29} {h.time:<11} {h.instret}")
    return lines


def select_hart(s, hid):
    s.need_running()
    n = len(s.machine.harts)
    if not 0 <= hid < n:
        raise DebugError(f"Invalid hart {hid}: the machine has harts 0-{n - 1}.")
    s.hart = hid
    t = s.on_hart(hid)
    if t is None:
        return [f"[hart {hid} is idle]"]
    if not t.pid:
        return [f"[hart {hid} runs kernel thread {t.name} (kthread {t.tid}): no user context]"]
    if t.pid not in s.inferiors:
        return [f"[hart {hid} runs LWP {t.tid} of pid {t.pid} ({t.proc_name}), not the debugged program]"]
    s.tid, s.frame_no = t.tid, 0
    return [f"[Switching to hart {hid}: LWP {t.tid} of pid {t.pid} ({t.proc_name})]"]


def info_procs(s):
    s.need_running()
    lines = ["  PID   PPID  STATE     LWPs  NAME"]
    for p in s.inspect.processes():
        mark = "*" if p.pid in s.inferiors else " "
        running = any(t is not None and t.state == RUNNING for t in map(s.inspect.thread, p.threads))
        state = "zombie" if p.state == ZOMBIE else ("running" if running else "sleeping" if p.threads else "exited")
        lines.append(f"{mark} {p.pid:<5} {p.ppid:<5} {state:<9} {len(p.threads):<5} {p.name}")
    lines.append("(* = runs the debugged program)")
    return lines


def info_activations(s):
    """Scheduler activations of every process that enabled them (kernel/sa.py)."""
    s.need_running()
    lines = []
    for p in s.inspect.processes():
        sa = s.inspect.activations(p.pid)
        if sa is None:
            continue
        lines.append(f"pid {p.pid} ({sa.name}): {sa.vps} virtual processor(s) (asked {sa.concurrency}), "
                     f"{sa.free_stacks} upcall stack(s) free, {sa.pending} event(s) pending")
        lines.append("  VP  Activation  LWP   State     Hart  Notes")
        for a in sa.activations:
            notes = [n for n, on in (("blocked in kernel", a.blocked), ("idle (sa_yield)", a.idle),
                                     ("to be preempted", a.preempting), ("upcall pending", a.upcall_pending),
                                     ("vp taken back", a.retiring))
                     if on]
            hart = str(a.hart) if a.hart >= 0 else "-"
            vp = str(a.vp) if a.vp >= 0 else "-"
            lines.append(f"  {vp:<3} {a.id:<11} {a.tid:<5} {_STATE.get(a.state, a.state):<9} {hart:<5} "
                         f"{', '.join(notes)}")
    return lines or ["No scheduler activations: no process called sa_enable."]


LIBRARY = "uthread.c"                 # the green-thread library's source (userland/libc)
LIBC_DIR = "/userland/libc/"


class NotAvailable(DebugError):
    """The program has no user-level threads to list (a one-line answer, not an error)."""


class UThread:
    """One user-level thread as the library records it (a libthread_db answer)."""

    def __init__(self, addr, tid, state, lwp, pc, sp, fp, fn):
        self.addr, self.id, self.state = addr, tid, state    # control block, id, enum name
        self.lwp = lwp                # the LWP whose tp points at it (running), or None
        self.pc, self.sp, self.fp = pc, sp, fp   # live registers if running, else saved ra/sp/s0
        self.fn = fn                  # its start function (0 for main)


def _field(struct, name):
    """(offset, Type) of a member; DebugError if the library's struct lacks it."""
    for fname, off, t in struct.fields:
        if fname == name:
            return off, t
    raise NotAvailable(f"not available: the green-thread library's {struct.name} has no member {name}")


def _int(data, off, size, signed=True):
    return int.from_bytes(data[off:off + size], "little", signed=signed)


def uthreads(s):
    """The user-level threads of the selected thread's process, newest first, read from
    guest memory through the library's statics and DWARF types. NotAvailable if the program
    does not link the library or has not initialised it; DebugError if memory is unreadable."""
    t = s.thread()
    found = s.prog.unit_statics(LIBRARY)
    if found is None or "all_threads" not in found[0] or "model" not in found[0]:
        raise NotAvailable("not available: the program does not use the green-thread library")
    statics, enums = found
    ev = Evaluator(s, t=t)
    if ev.var_value(statics["model"]).int == 0:
        raise NotAvailable("not available: the program has not called uthread_init")
    head = ev.var_value(statics["all_threads"])
    struct = head.type.target
    states = next(({v: k for k, v in e.items()} for e in enums if "RUNNING" in e), {})
    off_id, _ = _field(struct, "id")
    off_state, _ = _field(struct, "state")
    off_next, _ = _field(struct, "all_next")
    off_fn, _ = _field(struct, "fn")
    off_ctx, uctx = _field(struct, "ctx")
    off_ra, off_sp = off_ctx + _field(uctx, "ra")[0], off_ctx + _field(uctx, "sp")[0]
    off_s0 = off_ctx + _field(uctx, "s")[0]
    on_lwp = {}
    for lwp in s.lwps():
        if lwp.pid == t.pid:
            r = s.regs(lwp)
            on_lwp.setdefault(r[4], (lwp, r[REG_PC], r[2], r[8]))
    out, addr, seen = [], head.int, set()
    while addr and addr not in seen:
        seen.add(addr)
        data = s.read(addr, struct.size, t)
        if data is None:
            raise DebugError(f"Cannot access memory at address {addr:#x} (a uthread control block)")
        state = _int(data, off_state, 4)
        saved = (None, _int(data, off_ra, 8, False), _int(data, off_sp, 8, False), _int(data, off_s0, 8, False))
        lwp, pc, sp, fp = on_lwp.get(addr, saved)
        out.append(UThread(addr, _int(data, off_id, 4), states.get(state, str(state)), lwp, pc, sp, fp,
                           _int(data, off_fn, 8, False)))
        addr = _int(data, off_next, 8, False)
    return out


def _user_frame(s, t, u):
    """' in FUNC at file:line' of the innermost frame outside libc of a saved context, or ''."""
    regs = {"pc": u.pc, 1: u.pc, 2: u.sp, 8: u.fp}

    def read64(a):
        b = s.read(a, 8, t)
        return int.from_bytes(b, "little") if b else None

    for _ in range(16):
        row = s.prog.row_at(regs["pc"] - 1)
        fn = s.prog.function_at(regs["pc"] - 1)
        if fn is None:
            return ""
        if row is not None and LIBC_DIR not in row[2]:
            return f" in {fn.name} at {s.short(row[2])}:{row[3]}"
        try:
            regs = s.prog.unwind(dict(regs, pc=regs["pc"] - 1), read64)
        except KeyError:
            return ""
        if regs is None or not regs["pc"]:
            return ""
    return ""


def info_uthreads(s, frame_line):
    """The user-level threads by id: state, the LWP running it (tp points at its control
    block) and its frame there, or its saved pc/sp and the first frame outside libc."""
    try:
        us = uthreads(s)
    except NotAvailable as e:
        return [str(e)]
    t = s.thread()
    tramp = s.prog.lookup("__uthread_trampoline")
    lines = ["  Id  State     LWP   Control block       Where"]
    for u in sorted(us, key=lambda u: u.id):
        sel = u.lwp is not None and u.lwp.tid == s.tid
        if u.lwp is not None:
            try:
                where = frame_line(u.lwp, 0)
            except DebugError as e:
                where = str(e)
            lwp = str(u.lwp.tid)
        elif tramp is not None and u.pc == tramp[0]:
            start = s.prog.symbolize(u.fn) if u.fn else None
            where = f"not started: will run {start or hex(u.fn)}"
            lwp = "-"
        else:
            sym = s.prog.symbolize(u.pc)
            where = f"saved pc {u.pc:#x}" + (f" <{sym}>" if sym else "") + f", sp {u.sp:#x}" + _user_frame(s, t, u)
            lwp = "-"
        lines.append(f"{'*' if sel else ' '} {u.id:<3} {u.state:<9} {lwp:<5} {u.addr:#018x}  {where}")
    return lines


def info_threads(s, frame_line):
    s.need_running()
    ts = s.lwps()
    if not ts:
        return ["No threads."]
    lines = ["  Id   Target Id                           State     Hart  Frame"]
    for t in ts:
        mark = "*" if t.tid == s.tid else " "
        hart = str(t.hart) if t.hart >= 0 else "-"
        target = f"LWP {t.tid} (pid {t.pid}, kthread {t.tid}) \"{t.name}\""
        state = _STATE.get(t.state, t.state) + ("" if t.mode == USER or t.state != RUNNING else "/k")
        try:
            where = frame_line(t, 0)
        except DebugError as e:
            where = str(e)
        lines.append(f"{mark} {t.tid:<4} {target:<35} {state:<9} {hart:<5} {where}")
    return lines


def select_thread(s, tid):
    t = s.thread(tid)
    if t.pid not in s.inferiors:
        raise DebugError(f"Thread ID {tid} is not a thread of the debugged program.")
    s.tid, s.frame_no = tid, 0
    if t.hart >= 0:
        s.hart = t.hart
    return [f"[Switching to thread {tid} (LWP {tid})]"]


def info_vm(s, addr=None):
    t = s.thread()
    a = s.inspect.aspace(t.pid)
    if a is None:
        raise DebugError("The process has no address space.")
    lines = [f"Address space of pid {t.pid} ({t.proc_name}): satp {a.satp:#x}, root table {a.root:#x}",
             "  Start              End                Perm  Kind    Resident"]
    for r in s.inspect.regions(t.pid, resident=True):
        perm = ("r" if r.prot & mmu.PTE_R else "-") + ("w" if r.prot & mmu.PTE_W else "-") + \
               ("x" if r.prot & mmu.PTE_X else "-")
        lines.append(f"  {r.start:#018x} {r.end:#018x} {perm}   {r.kind:<7} {r.resident} of "
                     f"{(r.end - r.start) // mmu.PAGE_SIZE} pages")
    if addr is not None:
        lines += walk(s, t.pid, addr)
    return lines


def _flags(pte):
    names = "VRWXUGAD"
    out = "".join(c if pte >> i & 1 else "-" for i, c in enumerate(names))
    return out + (" COW" if pte & PTE_COW else "")


def walk(s, pid, va):
    w = s.inspect.walk(pid, va)
    lines = [f"Page-table walk of {va:#x} (VPN[2]={mmu.vpn(va, 2)}, VPN[1]={mmu.vpn(va, 1)}, VPN[0]={mmu.vpn(va, 0)}, "
             f"offset {va & 0xFFF:#x}):"]
    for st in w.steps:
        lines.append(f"  level {st.level}: table {st.table:#x} [{st.index:3}] at {st.pte_addr:#x} = {st.pte:#018x} "
                     f"{_flags(st.pte)}")
    if w.pa >= 0:
        lines.append(f"  -> physical address {w.pa:#x}")
    elif w.steps and not w.steps[-1].pte & mmu.PTE_V:
        r = w.region
        why = f"in region {r.start:#x}-{r.end:#x} ({r.kind}): the first access will fault it in" if r else \
            "in no region: an access is a segmentation fault"
        lines.append(f"  not mapped; {why}")
    return lines


def info_clock(s):
    s.need_running()
    m = s.machine
    lines = [f"virtual time {m.clock.now} ns ({m.clock.now / 1e6:.6f} ms) at the last round boundary; "
             f"{m.rounds} rounds of at most {m.quantum} ns ({SOLO_QUANTA * m.quantum} ns when one hart "
             f"alone has work); seed {s.opts['seed']}"]
    for h in s.inspect.harts():
        lines.append(f"  hart {h.hid}: local time {h.time} ns, {h.instret} user instructions, "
                     f"{h.switches} switches")
    nxt = m.clock.next_time()
    lines.append(f"next timed event at {nxt} ns" if nxt is not None else "no timed event pending")
    return lines


def info_registers(s, names=()):
    ev = Evaluator(s)
    f = ev.frame()
    out = []
    want = list(names) or list(REG_NAMES[1:]) + ["pc"]
    for n in want:
        n = n.lstrip("$")
        if n == "pc":
            v = f["pc"]
            sym = s.prog.symbolize(v)
            out.append(f"{'pc':<15}{v:<#19x}{v:#x}" + (f" <{sym}>" if sym else ""))
            continue
        from .evaluate import REGS
        if n not in REGS:
            raise DebugError(f"Invalid register `{n}'")
        i = REGS[n]
        if i != 0 and i not in f:
            out.append(f"{REG_NAMES[i]:<15}<not saved>")
            continue
        v = f.get(i, 0)
        if i in (1,):
            sym = s.prog.symbolize(v)
            nat = f"{v:#x}" + (f" <{sym}>" if sym else "")
        elif i in (2, 3, 4, 8):
            nat = f"{v:#x}"
        else:
            nat = str(v - (1 << 64) if v >> 63 else v)
        out.append(f"{REG_NAMES[i]:<15}{v:<#19x}{nat}")
    if not names:
        t = s.thread()
        out.append(f"{'priv':<15}{0:<#19x}user (LWP {t.tid})")
    return out


_UNIT = {"b": 1, "h": 2, "w": 4, "g": 8}
_PER_LINE = {1: 8, 2: 8, 4: 4, 8: 2}


def examine(s, fmt, count, size, addr):
    """Lines of x/{count}{fmt}{size} at addr; returns (lines, next address). Before `run`,
    memory is the program file's initial data, as in gdb."""
    lines = []
    t = s.thread() if s.running or fmt == "i" else None

    def read(a, n):
        return s.read(a, n, t) if t is not None else s.prog.static_read(a, n)
    if fmt == "i":
        lines, nxt = disasm_lines(s, addr, count=count)
        return lines, nxt
    if fmt == "s":
        from .types import c_string
        for _ in range(count):
            text = c_string(read, addr, 200)
            if text is None:
                raise DebugError(f"Cannot access memory at address {addr:#x}")
            lines.append(f"{_label(s, addr)}:\t{text}")
            raw = read(addr, 201) or b""
            addr += (raw.find(b"\0") + 1) if b"\0" in raw else len(raw)
        return lines, addr
    per = _PER_LINE[size]
    cur = addr
    for i in range(count):
        data = read(cur, size)
        if data is None:
            lines.append(f"Cannot access memory at address {cur:#x}")
            break
        v = int.from_bytes(data, "little")
        if fmt == "a":
            sym = s.prog.symbolize(v)
            text = f"{v:#x}" + (f" <{sym}>" if sym else "")
        elif fmt == "x":
            text = f"0x{v:0{2 * size}x}"
        else:
            text = format_scalar(v, size, fmt, True)
        if i % per == 0:
            lines.append(f"{_label(s, cur)}:")
        lines[-1] += "\t" + text
        cur += size
    return lines, cur


def _label(s, addr):
    sym = s.prog.symbolize(addr)
    return f"{addr:#x}" + (f" <{sym}>" if sym else "")


def _insns(s, start, end=None, count=None):
    t = s.thread()
    out = []
    addr = start
    while (end is None or addr < end) and (count is None or len(out) < count):
        code = s.read(addr, 4, t) or s.read(addr, 2, t)
        if not code:
            break
        ins = next(_CS.disasm(code, addr, 1), None)
        if ins is None:
            out.append((addr, 2, ".insn", f"{int.from_bytes(code[:2], 'little'):#06x}"))
            addr += 2
            continue
        out.append((ins.address, ins.size, ins.mnemonic, ins.op_str))
        addr += ins.size
    return out, addr


def _operands(s, mnem, ops):
    """capstone's operands, with the symbol of a branch or call target."""
    if mnem in ("jal", "j", "c.j", "c.jal", "call", "tail") or mnem.startswith("b") or mnem.startswith("c.b"):
        last = ops.split(",")[-1].strip()
        try:
            target = int(last, 0)
        except ValueError:
            return ops
        sym = s.prog.symbolize(target)
        return ops + (f" <{sym}>" if sym else "")
    return ops


def disasm_lines(s, start, end=None, count=None, pc=None, func=None):
    insns, nxt = _insns(s, start, end, count)
    lines = []
    for addr, size, m, ops in insns:
        mark = "=> " if addr == pc else "   "
        where = f"<+{addr - func.low}>" if func is not None else f"<{s.prog.symbolize(addr) or '??'}>"
        lines.append(f"{mark}{addr:#018x} {where}:\t{m}\t{_operands(s, m, ops)}".rstrip())
    return lines, nxt


def disassemble(s, arg):
    ev = Evaluator(s)
    pc = ev.frame()["pc"]
    if arg:
        if "," in arg:
            lo, hi = arg.split(",", 1)
            start = ev.value(lo).int
            hi = hi.strip()
            end = start + ev.value(hi[1:]).int if hi.startswith("+") else ev.value(hi).int
            lines, _ = disasm_lines(s, start, end, pc=pc)
            return [f"Dump of assembler code from {start:#x} to {end:#x}:"] + lines + ["End of assembler dump."]
        addr = ev.value(arg).int
    else:
        addr = ev.lookup_pc()
    f = s.prog.function_at(addr)
    if f is None:
        raise DebugError("No function contains specified address.")
    lines, _ = disasm_lines(s, f.low, f.high, pc=pc, func=f)
    return [f"Dump of assembler code for function {f.name}:"] + lines + ["End of assembler dump."]
