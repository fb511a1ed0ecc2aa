"""Scheduler activations (Anderson et al. 1991; calls and upcall names after NetBSD).

A process that enables activations gets virtual processors (vps). Each vp is run by one
activation: an LWP whose user code is the library's scheduler. The kernel tells the
library, by an upcall on a fresh activation, every time a vp is added (NEWPROC), its
activation blocks in the kernel (BLOCKED), a blocked activation's call completes
(UNBLOCKED, with that thread's user context) or an activation is stopped to make room for
such news (PREEMPTED, with its context). A blocked activation's context is never resumed
by the kernel: it goes back to the library inside an UNBLOCKED upcall.

Upcall: pc = the registered handler, on a stack taken from those given by sa_stacks, with
a0 = type, a1 = sa_t *sas[], a2 = number of events, a3 = number of interrupted
activations (sas[events..]), a4 = 0, ra = 0 (an upcall never returns);
struct sa_t { ucontext_t *sa_context; int sa_id; int sa_cpu; } and each context is a
ucontext laid out as in a signal frame (kernel/sigframe.py).

Ordering: an UNBLOCKED event is only delivered after the BLOCKED upcall for the same
activation has been written (Activation state `announced`). Processor allocation is
space sharing: a process gets at most as many vps as it asks for and as there are harts.
Nothing here busy-waits: an idle vp (sa_yield) sleeps until an event needs it.
"""
import struct

from emulator.hart import NREGS, REG_PC

from . import sigframe
from .errno import EINVAL, ENOMEM, ESRCH, SysError
from .signal import SIGSEGV
from .sysproc import i32
from .vm import PROT_W, PROT_X, Fault

SA_UPCALL_NEWPROC, SA_UPCALL_PREEMPTED, SA_UPCALL_BLOCKED, SA_UPCALL_UNBLOCKED = 0, 1, 2, 3
UPCALL_NAMES = {0: "NEWPROC", 1: "PREEMPTED", 2: "BLOCKED", 3: "UNBLOCKED"}
CTX_SIZE = sigframe.FRAME_SIZE - sigframe.UC_OFF          # one ucontext


class SAState:
    def __init__(self, upcall):
        self.upcall = upcall
        self.stacks = []                 # (sp, size) given by sa_stacks, unused
        self.enabled = False
        self.concurrency = 1             # vps the process asked for
        self.vps = {}                    # vp number -> activation Thread running it
        self.unblocked = []              # (Thread, regs): completed calls awaiting an upcall
        self.next_id = 1


class Activations:
    def __init__(self, kernel):
        self.k = kernel

    # ---- hooks called by the scheduler and the trap path ----
    def on_block(self, t) -> None:
        """Activation t is about to sleep in the kernel: give its vp a new activation that
        starts with a BLOCKED upcall (called from sched.sleep_timed, before t sleeps)."""
        sa = t.proc.sa
        t.sa_blocked = True
        nt = self._new_activation(t.proc, t.sa_vp)
        nt.sa_pending = [(SA_UPCALL_BLOCKED, t, None)]
        self._emit("upcall_planned", nt, type="BLOCKED", blocked=t.sa_id)
        cpu = self.k.sched.cur
        nt.affinity = t.affinity
        nt.state = "runnable"
        nt.ready_at = self.k.sched.now()
        cpu.runq.appendleft(nt)          # the vp (this hart) goes on with the new activation
        sa.vps[t.sa_vp] = nt

    def on_return(self, t) -> bool:
        """On the way to user mode: a completed blocked activation hands its context to the
        library and dies; an activation with events takes its upcall. True if t's user
        registers were replaced (or t will never return)."""
        sa = t.proc.sa
        if t.sa_blocked:
            sa.unblocked.append((t, self.k.sched.regs(t)))
            self._find_vp(t.proc)
            self.k.procs.exit_lwp(t, 0)
        if t.sa_pending or t.sa_interrupt or t.sa_news:
            t.sa_news = False
            self._upcall(t)
            return True
        return False

    def _deliverable(self, sa) -> bool:
        return any(b.sa_announced for b, _ in sa.unblocked)

    def _find_vp(self, p) -> None:
        """Someone must deliver the UNBLOCKED event: an idle vp if any, else preempt the
        activation of the lowest-numbered busy vp."""
        sa = p.sa
        idle = [a for a in sa.vps.values() if a.sa_idle]
        if idle:
            self.k.sched.wakeup(("sa_idle", idle[0]))
            return
        for vp in sorted(sa.vps):
            a = sa.vps[vp]
            if not a.sa_blocked and a.state != "zombie":
                a.sa_interrupt = True
                return

    # ---- building an upcall ----
    def _upcall(self, t) -> None:
        p = t.proc
        sa = p.sa
        events = list(t.sa_pending)
        t.sa_pending = []
        if t.sa_interrupt or (sa.unblocked and self._deliverable(sa)):
            for b, regs in [u for u in sa.unblocked if u[0].sa_announced]:
                events.append((SA_UPCALL_UNBLOCKED, b, regs))
            sa.unblocked = [u for u in sa.unblocked if not u[0].sa_announced]
        interrupted = []
        if t.sa_interrupt and t.sa_started:
            interrupted.append((SA_UPCALL_PREEMPTED, t, self.k.sched.regs(t)))
        t.sa_interrupt = False
        if not events and interrupted:
            events, interrupted = interrupted, []
        if not events:
            return
        if not sa.stacks:
            self.k.log(f"pid {p.pid} ({p.name}): upcall with no upcall stack left")
            self.k.signals.force(t, SIGSEGV)
            return
        sp, size = sa.stacks.pop(0)
        top = sp + size
        allv = events + interrupted
        ctx_base = (top - CTX_SIZE * len(allv)) & ~15
        sat_base = ctx_base - 16 * len(allv)
        sas_base = (sat_base - 8 * len(allv)) & ~15
        blob = bytearray()
        for _kind, who, regs in allv:
            full = sigframe.build(regs or [0] * NREGS, 0, who.sigmask, (0, 2, 0), 0, 0)
            blob += full[sigframe.UC_OFF:]
        sats = b"".join(struct.pack("<Qii", ctx_base + i * CTX_SIZE if allv[i][2] is not None else 0,
                                    allv[i][1].sa_id, allv[i][1].sa_vp if allv[i][1].sa_vp is not None else -1)
                        for i in range(len(allv)))
        ptrs = b"".join(struct.pack("<Q", sat_base + 16 * i) for i in range(len(allv)))
        a = p.aspace
        try:
            a.copyout(ctx_base, bytes(blob))
            a.copyout(sat_base, sats)
            a.copyout(sas_base, ptrs)
        except Fault:
            self.k.log(f"pid {p.pid} ({p.name}): bad upcall stack {sp:#x}")
            self.k.signals.force(t, SIGSEGV)
            return
        regs = [0] * NREGS
        regs[REG_PC], regs[2] = sa.upcall, sas_base
        regs[10], regs[11], regs[12], regs[13] = events[0][0], sas_base, len(events), len(interrupted)
        self.k.sched.set_regs(t, regs)
        t.sa_started = True
        for kind, who, _ in events:
            if kind == SA_UPCALL_BLOCKED:
                who.sa_announced = True
                if any(b is who for b, _ in sa.unblocked):
                    self._find_vp(p)             # it completed before its BLOCKED went out
        self._emit("upcall", t, type=UPCALL_NAMES[events[0][0]], events=len(events),
                   interrupted=len(interrupted), ids=[w.sa_id for _, w, _ in allv])

    def _emit(self, kind, t, **detail) -> None:
        if self.k.events is not None:
            self.k.event(kind, t, **detail)

    def _new_activation(self, p, vp):
        sa = p.sa
        regs = [0] * NREGS
        nt = self.k.procs.new_lwp(p, regs)
        nt.detached = True
        init_activation(nt, sa, vp)
        return nt


def init_activation(t, sa, vp) -> None:
    t.sa_id = sa.next_id
    sa.next_id += 1
    t.sa_vp = vp
    t.detached = True                    # activations are never lwp_wait'ed
    t.sa_blocked = t.sa_announced = t.sa_idle = t.sa_interrupt = t.sa_started = t.sa_news = False
    t.sa_pending = []


# ---- the calls ----
def sys_sa_register(k, t, upcall, flags):
    p = t.proc
    r = p.aspace.find(upcall)
    if r is None or not r.prot & PROT_X or i32(flags):
        raise SysError(EINVAL)
    if p.sa is None:
        p.sa = SAState(upcall)
    p.sa.upcall = upcall
    return 0


def sys_sa_stacks(k, t, n, stacks):
    p = t.proc
    n = i32(n)
    if p.sa is None or not 0 < n <= 256:
        raise SysError(EINVAL)
    raw = p.aspace.copyin(stacks, 24 * n)
    for i in range(n):
        sp, _flags, _pad, size = struct.unpack_from("<QiiQ", raw, 24 * i)
        if size < 4096 or sp % 16:
            raise SysError(EINVAL)
        p.aspace.check(sp, size, PROT_W)
        p.sa.stacks.append((sp, size))
    return n


def sys_sa_enable(k, t):
    p = t.proc
    sa = p.sa
    if sa is None or sa.enabled or not sa.stacks:
        raise SysError(EINVAL)
    sa.enabled = True
    init_activation(t, sa, 0)
    sa.vps[0] = t
    regs = k.sched.regs(t)
    regs[10] = 0                             # sa_enable's result, seen when main is resumed
    t.sa_pending = [(SA_UPCALL_NEWPROC, t, regs)]
    return None                              # the NEWPROC upcall replaces the registers


def _downcall(k, t, call, **detail) -> None:
    if k.events is not None:
        k.event("downcall", t, call=call, **detail)


def sys_sa_setconcurrency(k, t, n):
    p = t.proc
    sa = p.sa
    n = i32(n)
    _downcall(k, t, "sa_setconcurrency", n=n)
    if sa is None or not sa.enabled or n < 1:
        raise SysError(EINVAL)
    sa.concurrency = min(n, len(k.sched.cpus))
    for vp in range(sa.concurrency):
        if vp not in sa.vps:
            if len(sa.stacks) < 1:
                raise SysError(ENOMEM)
            nt = k.sa._new_activation(p, vp)
            nt.sa_pending = [(SA_UPCALL_NEWPROC, nt, None)]
            sa.vps[vp] = nt
            k.sched.make_runnable(nt)
    return sa.concurrency


def sys_sa_yield(k, t):
    sa = t.proc.sa
    if sa is None or not sa.enabled or t.sa_vp is None:
        raise SysError(EINVAL)
    _downcall(k, t, "sa_yield", vp=t.sa_vp)
    t.sa_idle = True
    while not (sa.unblocked and any(b.sa_announced for b, _ in sa.unblocked)):
        if not k.sched.sleep(("sa_idle", t)):
            break
    t.sa_idle = False
    t.sa_news = True                         # deliver what woke it on the way out
    return 0


def sys_sa_preempt(k, t, sa_id):
    sa = t.proc.sa
    if sa is None:
        raise SysError(EINVAL)
    _downcall(k, t, "sa_preempt", id=i32(sa_id))
    for a in sa.vps.values():
        if a.sa_id == i32(sa_id) and not a.sa_blocked:
            a.sa_interrupt = True
            return 0
    raise SysError(ESRCH)
