"""The boot builder: the one way tools and tests make, boot, run and tear down a machine.

    with System("/bin/hello", cpus=2, files=files) as s:
        status = s.run()
        print(s.inspect.stats().syscalls)

A System owns a Machine (emulator/machine.py) and the Kernel on it, and boots init with
the program: init runs PROGRAM ARGS... and halts the machine with its status, or runs the
shell when no program is given. Its root file system is the disk image `disk` (a path:
the System opens and closes the device) or, without one, an in-memory file system holding
`files` (path -> bytes).

Contracts:
- close() (or leaving the with block) always shuts down cleanly, whether the machine
  halted, paused or never ran: every suspended kernel stack is unwound (a suspended
  greenlet holds its frames, and through them the machine) and the disk is closed.
- run() returns the exit status once the machine halts, or None when a stop was
  requested (Machine.request_stop): calling run() again resumes exactly where it paused.
- The kernel is read through .inspect (kernel/inspect.py). The only writes a tool makes
  into it are this class's debugger section (registers and user memory of a stopped thread).
"""
import gc

from emulator.console import Console
from emulator.disk import Disk
from emulator.machine import Machine

from . import arch, cost
from .elf import ElfError, load_image
from .inspect import Inspector
from .main import Kernel
from .panic import KernelPanic
from .params import USER_TOP
from .vm import Fault

__all__ = ["System", "Run", "BootError", "AccessError", "KernelPanic", "check_program", "check_costs"]


class BootError(Exception):
    """An option, program or disk image that cannot boot: a one-line message for the user."""


class AccessError(Exception):
    """A debugger write to user memory that the address space does not allow."""

    def __init__(self, va):
        super().__init__(f"Cannot access memory at address {va:#x}")
        self.va = va


def check_program(data: bytes, name: str) -> None:
    """BootError unless data is an ELF file the kernel can exec."""
    try:
        load_image(data)
    except ElfError as e:
        raise BootError(f"{name}: not a runnable program: {e}") from None


def check_costs(costs, overrides=()) -> str:
    """BootError (naming the valid choices) unless profile costs (None: the default) with
    overrides ('ENTRY=VALUE') is a cost table; else its label ('linux KTHREAD_SWITCH=0')."""
    try:
        return cost.load(costs or cost.DEFAULT, overrides).label
    except ValueError as e:
        raise BootError(str(e)) from None


class System:
    def __init__(self, program=None, args=(), *, cpus=4, mem=128, seed=0, quantum=10_000, sched="flat",
                 files=None, disk=None, disk_latency_us=100.0, input=None, console_out=None,
                 interactive=False, log=None, trace=False, max_time=None, costs=None, cost_overrides=(),
                 preempt=(), trace_uthreads=False):
        """program: its path inside the machine (None: the shell); args: its arguments.
        input: the console's script (str or bytes); console_out: a binary stream that also
        receives the console's output; interactive: the console reads the host terminal.
        log: fn(line) for the kernel log (None: it goes to the console). trace: record the
        event stream from boot on. max_time: run()'s default limit, in virtual ns.
        costs: the cost profile's name (inspect.COST_PROFILES; None: the default);
        cost_overrides: 'ENTRY=VALUE' strings (--cost).
        preempt: (hart, time) pairs, forced preemption points (Scheduler.preempt_at): the
        schedule a race explorer varies besides the seed. trace_uthreads (with trace):
        green-thread libraries report their switches too (kernel/utrace.py).
        BootError for options the machine or kernel refuses and an unusable disk image."""
        gc.collect()          # earlier machines are cycles holding RAM and unicorn handles
        self.init_argv = ["/bin/init"] + ([program] + list(args) if program else [])
        self.max_time = max_time
        self.booted = False
        check_costs(costs, cost_overrides)
        table = cost.load(costs or cost.DEFAULT, cost_overrides)
        dev = None
        if disk is not None:
            if not 0 <= disk_latency_us <= 1e6:
                raise BootError("--disk-latency must be 0..1000000 us")
            try:
                dev = Disk(disk, latency_ns=int(disk_latency_us * 1000))
            except OSError as e:
                raise BootError(f"cannot open disk image {disk}: {e.strerror}") from None
        script = input.encode() if isinstance(input, str) else input
        try:
            self.machine = Machine(cpus=cpus, mem_mib=mem, seed=seed, quantum=quantum, disk=dev,
                                   console=Console(out=console_out, script=script, interactive=interactive))
            self.kernel = Kernel(self.machine, {} if disk is not None else dict(files or {}), seed=seed,
                                 log_sink=log, sched=sched, costs=table)
        except ValueError as e:
            if dev is not None:
                dev.close()
            raise BootError(str(e)) from None
        if trace:
            self.kernel.trace(uthreads=trace_uthreads)
        if preempt:
            self.kernel.sched.preempt_at(preempt)
        self.inspect = Inspector(self.kernel)
        self._closed = False

    # ---- life ----
    def boot(self) -> None:
        """Start init (and, through it, the program); nothing runs until run()."""
        if not self.booted:
            self.booted = True
            self.kernel.boot(self.init_argv)

    def run(self, max_time=None):
        """Boot if not yet booted, then run: the exit status once halted, None if paused.
        KernelPanic propagates (its message names the broken invariant)."""
        self.boot()
        limit = max_time if max_time is not None else self.max_time
        return self.machine.run(self.kernel, max_time=limit)

    @property
    def halted(self) -> bool:
        return self.machine.halted

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.kernel.sched.shutdown()
        finally:
            if self.machine.disk is not None:
                self.machine.disk.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ---- the debugger's writes (the machine is stopped) ----
    def _lwp(self, tid):
        t = self.kernel.sched.threads.get(tid)
        if t is None or t.proc is None:
            raise KeyError(tid)
        return t

    def set_regs(self, tid: int, regs) -> None:
        """Replace every user register of LWP tid (NREGS values, as Inspector.regs gives)."""
        self.kernel.sched.set_regs(self._lwp(tid), list(regs))

    def set_reg(self, tid: int, n: int, value: int) -> None:
        """Set register n (x1-x31 or REG_PC) of LWP tid."""
        self.kernel.sched.set_reg(self._lwp(tid), n, value)

    def write_user(self, pid: int, va: int, data: bytes) -> None:
        """Write data at user address va of process pid, as a debugger does: a present code
        page (X, not W) is patched in place and its translated code dropped on every hart
        (a software breakpoint, a patched instruction); anything else is written as a kernel
        store would be (COW copied, demand pages faulted in). AccessError where the address
        space allows no write."""
        p = self.kernel.procs.procs.get(pid)
        a = p.aspace if p is not None else None
        mem = self.machine.mem
        for cur, chunk in arch.spans(va, len(data)):
            if a is None or not 0 <= cur < USER_TOP:
                raise AccessError(cur)
            part = data[cur - va:cur - va + chunk]
            pte = a.pte(cur)
            if pte & arch.PTE_V and pte & arch.PTE_X and not pte & arch.PTE_W:
                pa = arch.pte_pa(pte) | cur % arch.PAGE_SIZE
                mem.write(pa, part)
                self.machine.flush_code_all(pa, chunk)
            else:
                try:
                    pa = a.resolve(cur, arch.PTE_W)
                except Fault:
                    raise AccessError(cur) from None
                mem.write(pa, part)


class Run:
    """The outcome of one boot (tools.run.simulate's result): status, console output, kernel
    log, the machine, and the kernel for the tests that check its internals (tools read it
    through .inspect)."""

    def __init__(self, system: System, status, log: str):
        self.machine, self.kernel, self.inspect = system.machine, system.kernel, system.inspect
        self.status, self.log = status, log
        self.output = bytes(self.machine.console.output).decode("utf-8", "replace")

