"""Debugging support of a hart (tools/debug.py, tools/gdbstub.py): breakpoints, write
watchpoints, instruction steps and address ranges to step in, the fault filter and holding.

A mixin of hart.Hart. Hooks only record why they stopped (a DebugStop in _hit) and end the
run; _run_debug, Hart.run's path while debugging, turns that into the run's Trap and the
debugger acts after Hart.run() returned. While any of this is in use (_dbg), runs go
through _run_debug in unicorn's count mode: the hooks rely on its instruction counter
(_counter, and _limit, the budget it compares with). The block counter's hook stays installed
and checks sc alignment in these runs too (_sc_stop).
"""
from typing import NamedTuple

import unicorn

from . import blockcount
from . import hart as _hart     # the module, not its names: hart.py imports this file first

_UNTIL = (1 << 64) - 1


class DebugStop(NamedTuple):
    """Why a debugging hook stopped a run (see Hart.set_breakpoints and friends)."""
    kind: str           # "break", "watch", "step" (count done), "range" (left the range), "fault"
    pc: int             # resume PC: the instruction not yet executed
    addr: int           # breakpoint address, or the written address for "watch"
    size: int           # bytes written ("watch"), else 0
    value: int          # value written ("watch"), the cause ("fault"), else 0


class DebugHooks:
    def _init_debug(self) -> None:
        self._dbg = False               # any of the below in use: runs go through _run_debug
        self.hold = False               # True: run() returns at once, executing nothing
        self.debug_stop = None          # DebugStop of the last stopped run, until cleared
        self.on_debug_stop = None       # fn(), called after a run that recorded a stop
        self._hit = None
        self._skip = None               # breakpoint not to stop at on the next resume
        self._bp_hooks = {}             # addr -> unicorn hook handle
        self._wp_hooks = {}             # (lo, hi) -> unicorn hook handle
        self._range_hooks = []
        self._inside = None             # the range set_step stops outside of, or None
        self._step_left = None
        self._fault_filter = None

    def _update_dbg(self) -> None:
        dbg = bool(self.hold or self._step_left is not None or self._bp_hooks
                   or self._wp_hooks or self._range_hooks or self._fault_filter)
        if dbg and self._native:
            # Debugging runs use count mode. Blocks translated for count=0 runs lack its
            # per-instruction hook, and adding that hook does not drop them: the budget would
            # be ignored. (Back in block mode, emu_start with count 0 drops count mode's.)
            self.uc.ctl_flush_tb()
        self._dbg = dbg
        self._native = self._bc is not None and not dbg

    def _run_debug(self, budget: int, now: int):
        """Hart.run while debugging: a run in count mode, then the stop its hooks recorded,
        the fault filter's verdict and the step count, as a Trap (hart.py)."""
        H = _hart
        if self.hold:
            return H.Trap(H.CAUSE_BUDGET, self._pc, 0, 0)
        if self._step_left is not None:
            budget = min(budget, self._step_left)
        trap = self._run_once(budget)
        if trap.cause == H.CAUSE_ILLEGAL:
            trap = self._counters(trap, budget, now)
        hit, self._hit, self._skip = self._hit, None, None
        if hit is not None and hit.kind == "watch" and trap.cause != H.CAUSE_BUDGET:
            hit = None                  # the store trapped: it did not happen
        if (hit is None and self._fault_filter is not None and trap.cause != H.CAUSE_BUDGET
                and trap.cause != H.CAUSE_ECALL_U and self._fault_filter(self.hid, trap)):
            # Shown to the debugger before the kernel sees it: the faulting instruction is
            # not counted and runs (and faults) again on resume.
            hit = DebugStop("fault", trap.epc, trap.tval, 0, trap.cause)
            trap = H.Trap(H.CAUSE_BUDGET, trap.epc, 0, max(0, trap.executed - 1))
        if self._step_left is not None:
            self._step_left -= trap.executed
            if hit is None and self._step_left <= 0:
                hit = DebugStop("step", trap.epc if trap.cause == H.CAUSE_BUDGET else self.get_pc(), 0, 0, 0)
        if hit is not None:
            if hit.kind == "break":
                self._skip = hit.pc     # resuming must execute it, not stop again
            self.debug_stop = hit
            if self.on_debug_stop is not None:
                self.on_debug_stop()
        return trap

    @property
    def step_left(self):
        """Instructions left before a "step" stop (set_step count), or None."""
        return self._step_left

    def set_fault_filter(self, fn) -> None:
        """fn(hid, trap) -> bool, asked after a run that ended in a fault or exception
        (not an ecall): True turns it into a "fault" debug stop before the kernel sees it."""
        self._fault_filter = fn
        self._update_dbg()

    def set_hold(self, hold: bool) -> None:
        """While held, run() executes nothing (the machine is pausing)."""
        self.hold = hold
        self._update_dbg()

    def _on_code(self, uc, addr, size, _data):
        if addr == self._skip and self._counter.value == 1:
            return                      # the breakpoint this run resumes from
        if self._hit is None:
            self._hit = DebugStop("break", addr, addr, 0, 0)
        uc.emu_stop()

    def _on_range(self, uc, addr, size, _data):
        if self._hit is None:
            self._hit = DebugStop("range", addr, addr, 0, 0)
        uc.emu_stop()

    def _on_write(self, uc, access, addr, size, value, _data):
        if self._hit is None:
            self._hit = DebugStop("watch", 0, addr, size, value & ((1 << 8 * size) - 1))
        # emu_stop here would leave the store done but the PC on it (a resume would store
        # twice); lowering unicorn's instruction limit stops before the next instruction.
        self._limit.value = self._counter.value

    def _sc_stop(self, cause: int, budget: int):
        """The Trap of a count-mode run that the block counter stopped on an sc (blockcount.c):
        SC_SPLIT, once the instructions before it ran (the run goes on from it, now the start
        of a block, where it is checked); SC_MISALIGNED, before it, misaligned. Its hook runs
        before the debugger's: a breakpoint on the sc, or the sc outside the step range, stops
        the run before the sc traps, as on hardware."""
        pc = self._sync_pc()
        if cause == blockcount.SC_SPLIT:
            done = self._counter.value - 1          # unicorn counted the sc, not run
            if self._hit is None:
                self._skip = None
                trap = self._run_counted(budget - done)
                return trap._replace(executed=trap.executed + done)
            self._hit = self._hit._replace(pc=pc)
            return self._trap(-1, pc, done)
        executed = self._counter.value              # the sc not counted yet
        hit = self._hit or self._code_stop(pc, executed)
        if hit is not None:
            self._hit = hit._replace(pc=pc)
            return self._trap(-1, pc, executed)
        return self._trap(_hart.CAUSE_STORE_MISALIGNED, pc + 4, executed + 1)    # PC as unicorn's traps

    def _code_stop(self, pc: int, executed: int):
        """The DebugStop a breakpoint or the step range makes before the instruction at pc."""
        if pc in self._bp_hooks and not (pc == self._skip and executed == 0):
            return DebugStop("break", pc, pc, 0, 0)
        if self._inside is not None and not self._inside[0] <= pc < self._inside[1]:
            return DebugStop("range", pc, pc, 0, 0)
        return None

    def skip_breakpoint_at(self, pc: int) -> None:
        """The next run, if it starts at pc, executes the instruction there instead of
        stopping at its breakpoint (the debugger already reported that location)."""
        self._skip = pc

    def set_breakpoints(self, addrs) -> None:
        """Stop before executing an instruction at any of these virtual addresses."""
        addrs = set(addrs)
        if addrs == set(self._bp_hooks):
            return
        for a in set(self._bp_hooks) - addrs:
            self.uc.hook_del(self._bp_hooks.pop(a))
        for a in addrs - set(self._bp_hooks):
            self._bp_hooks[a] = self.uc.hook_add(unicorn.UC_HOOK_CODE, self._on_code, begin=a, end=a)
        self._flush_tb()

    def set_watchpoints(self, ranges) -> None:
        """Stop after an instruction that stored into any virtual range [lo, hi)."""
        ranges = set(ranges)
        if ranges == set(self._wp_hooks):
            return
        for r in set(self._wp_hooks) - ranges:
            self.uc.hook_del(self._wp_hooks.pop(r))
        for lo, hi in ranges - set(self._wp_hooks):
            self._wp_hooks[(lo, hi)] = self.uc.hook_add(unicorn.UC_HOOK_MEM_WRITE, self._on_write,
                                                        begin=lo, end=hi - 1)
        self._flush_tb()

    def set_step(self, count=None, inside=None) -> None:
        """Stop after `count` more instructions, and/or before executing an instruction
        outside the virtual range inside=(lo, hi). None clears each."""
        self._step_left = count
        self._inside = inside
        for hk in self._range_hooks:
            self.uc.hook_del(hk)
        self._range_hooks = []
        if inside is not None:
            lo, hi = inside
            if lo > 0:
                self._range_hooks.append(self.uc.hook_add(unicorn.UC_HOOK_CODE, self._on_range, begin=0, end=lo - 1))
            self._range_hooks.append(self.uc.hook_add(unicorn.UC_HOOK_CODE, self._on_range, begin=hi, end=_UNTIL))
        self._flush_tb()

    def _flush_tb(self) -> None:
        # Hooks only reach code translated after they were added, and memory hooks only
        # accesses that miss the TLB.
        self._update_dbg()
        self.uc.ctl_flush_tb()
        self.flush_tlb()
