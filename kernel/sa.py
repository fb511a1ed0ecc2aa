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
activation has been written (Activation state `announced`). Nothing here busy-waits: an
idle vp (sa_yield) sleeps until an event needs it.

Processor allocation (reallocate) is space sharing among the SA processes: each gets one
vp, then the harts left are dealt out one at a time, oldest SA process first, to those
that asked for more (sa_setconcurrency), so shares differ by at most one. Threads of other
processes are time-shared with the vps by the ordinary scheduler. A vp taken back is
stopped at its next kernel entry outside a library critical section (the word the library
named with sa_register, read at tp + offset: deferred SA_DEFER_NS at a time) and its
context goes to another vp as a PREEMPTED event; a vp given is started with NEWPROC.
"""
import struct

from emulator.hart import NREGS, REG_PC

from . import params, sigframe
from .errno import EINVAL, ESRCH, SysError
from .signal import SIGSEGV
from .sysproc import i32
from .vm import PROT_W, PROT_X, Fault

SA_UPCALL_NEWPROC, SA_UPCALL_PREEMPTED, SA_UPCALL_BLOCKED, SA_UPCALL_UNBLOCKED = 0, 1, 2, 3
UPCALL_NAMES = {0: "NEWPROC", 1: "PREEMPTED", 2: "BLOCKED", 3: "UNBLOCKED"}
CTX_SIZE = sigframe.FRAME_SIZE - sigframe.UC_OFF          # one ucontext


class SAState:
    def __init__(self, upcall, crit_off):
        self.upcall = upcall
        self.crit_off = crit_off         # tp + crit_off: the library's "in a critical section" int
        self.stacks = []                 # (sp, size) given by sa_stacks, unused
        self.enabled = False
        self.concurrency = 1             # vps the process asked for
        self.alloc = 1                   # vps the allocation grants it
        self.vps = {}                    # vp number -> activation Thread running it
        self.news = []                   # (type, Thread, regs|None): events any vp may deliver
        self.wake_pending = False        # asked for processors when no vp was idle yet
        self.next_id = 1


def space_share(ncpus: int, wants: dict) -> dict:
    """Harts per claimant: one each, then one at a time in dict order to those wanting more."""
    grant = {k: 1 for k in wants}
    left = ncpus - len(wants)
    while left > 0:
        more = [k for k in wants if grant[k] < wants[k]]
        if not more:
            break
        for k in more[:left]:
            grant[k] += 1
        left -= min(left, len(more))
    return grant


class Activations:
    def __init__(self, kernel):
        self.k = kernel
        self.procs = []                  # SA processes, oldest sa_enable first

    # ---- processor allocation ----
    def reallocate(self) -> None:
        """Divide the harts among the SA processes again (space_share) and give or take
        vps to match. Called when one enables, asks for a new number, exits or execs."""
        grant = space_share(len(self.k.sched.cpus), {p: p.sa.concurrency for p in self.procs})
        for p in self.procs:
            self._resize(p, grant[p])

    def _resize(self, p, n) -> None:
        sa = p.sa
        if n != sa.alloc:
            self._emit("sa_alloc", None, pid=p.pid, vps=n, want=sa.concurrency)
        sa.alloc = n
        for vp in range(n):
            if vp not in sa.vps and sa.stacks:
                try:
                    nt = self._new_activation(p, vp)
                except SysError:                 # p is at its LWP limit: it has fewer vps
                    break
                nt.sa_pending = [(SA_UPCALL_NEWPROC, nt, None)]
                sa.vps[vp] = nt
                self.k.sched.make_runnable(nt)
        for vp in sorted(sa.vps, reverse=True):
            if vp >= n:
                a = sa.vps.pop(vp)
                a.sa_retire = True
                if a.sa_idle:
                    self.k.sched.wakeup(("sa_idle", a))
                else:
                    a.sa_interrupt = True        # run_hart stops it at its next chance

    def on_exit(self, p) -> None:
        """p exits or execs: its harts go back to the other SA processes."""
        if p in self.procs:
            self.procs.remove(p)
            self.reallocate()
        p.sa = None

    def _critical(self, t) -> bool:
        """t's user context may be inside the library's critical section: its word is set,
        or tp does not point at one yet (an upcall starts with tp = 0)."""
        sa = t.proc.sa
        if sa.crit_off is None:
            return False
        try:
            word = t.proc.aspace.copyin((self.k.sched.regs(t)[4] + sa.crit_off) & (2**64 - 1), 4)
        except Fault:
            return True
        return word != bytes(4)

    def _retire(self, t) -> None:
        """t's vp was taken back: its context (and any BLOCKED news it had yet to deliver)
        goes to another vp, and t ends. Deferred while t is in a critical section (at most
        SA_DEFER_MAX times: a process cannot keep a vp by never leaving one), so that no
        upcall carries two contexts the library must continue at once."""
        if t.sa_started and t.sa_deferred < params.SA_DEFER_MAX and self._critical(t):
            t.sa_deferred += 1
            t.sa_interrupt = False
            self.k.sched.machine.clock.at(self.k.sched.now() + params.SA_DEFER_NS,
                                          lambda: setattr(t, "sa_interrupt", True))
            return
        sa = t.proc.sa
        news = [e for e in t.sa_pending if e[0] == SA_UPCALL_BLOCKED]
        if t.sa_started:
            news.append((SA_UPCALL_PREEMPTED, t, self.k.sched.regs(t)))
        t.sa_pending = []
        sa.news += news
        self._emit("vp_taken", t, vp=t.sa_vp, id=t.sa_id)
        if news:
            self._find_vp(t.proc)
        self.k.procs.exit_lwp(t, 0)

    def retire_idle(self, t) -> None:
        """Idle activation t (in sa_yield) lost its vp: it ends; it had no thread to hand
        back, so the library hears nothing."""
        self._emit("vp_taken", t, vp=t.sa_vp, id=t.sa_id)
        self.k.procs.exit_lwp(t, 0)

    # ---- hooks called by the scheduler and the trap path ----
    def on_block(self, t) -> None:
        """Activation t is about to sleep in the kernel: give its vp a new activation that
        starts with a BLOCKED upcall (called from sched.sleep_timed, before t sleeps)."""
        sa = t.proc.sa
        t.sa_blocked = True
        if sa.vps.get(t.sa_vp) is not t:         # its vp was taken back meanwhile
            sa.news.append((SA_UPCALL_BLOCKED, t, None))
            self._find_vp(t.proc)
            return
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
            sa.news.append((SA_UPCALL_UNBLOCKED, t, self.k.sched.regs(t)))
            self._find_vp(t.proc)
            self.k.procs.exit_lwp(t, 0)
        if t.sa_retire:
            self._retire(t)                      # returns only if deferred
            return False
        if t.sa_pending or t.sa_interrupt or t.sa_news:
            t.sa_news = False
            self._upcall(t)
            return True
        return False

    @staticmethod
    def _ready(e) -> bool:
        """News e may go out: an UNBLOCKED only after its BLOCKED upcall was written."""
        return e[0] != SA_UPCALL_UNBLOCKED or e[1].sa_announced

    def deliverable(self, sa) -> bool:
        return any(self._ready(e) for e in sa.news)

    def _find_vp(self, p) -> None:
        """Someone must deliver the news: an idle vp if any, else preempt the activation
        of the lowest-numbered busy vp."""
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
        interrupted = []
        if t.sa_interrupt and t.sa_started:
            interrupted.append((SA_UPCALL_PREEMPTED, t, self.k.sched.regs(t)))
        ready = [e for e in sa.news if self._ready(e)]
        sa.news = [e for e in sa.news if not self._ready(e)]
        for e in ready:
            (interrupted if e[0] == SA_UPCALL_PREEMPTED else events).append(e)
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
                if any(e[1] is who for e in sa.news):
                    self._find_vp(p)             # it completed before its BLOCKED went out
        self._emit("upcall", t, type=UPCALL_NAMES[events[0][0]], events=len(events),
                   interrupted=len(interrupted), ids=[w.sa_id for _, w, _ in allv],
                   kinds=[UPCALL_NAMES[k] for k, _, _ in allv])

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
    t.sa_retire = t.sa_wake = False
    t.sa_deferred = 0
    t.sa_pending = []


# ---- the calls ----
def sys_sa_register(k, t, upcall, flags, crit_off):
    p = t.proc
    r = p.aspace.find(upcall)
    crit_off = None if i32(crit_off) < 0 else i32(crit_off)
    if r is None or not r.prot & PROT_X or i32(flags) or (crit_off or 0) % 4:
        raise SysError(EINVAL)
    if p.sa is None:
        p.sa = SAState(upcall, crit_off)
    p.sa.upcall, p.sa.crit_off = upcall, crit_off
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
    k.sa.procs.append(p)
    k.sa.reallocate()
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
    before = len(sa.vps)
    k.sa.reallocate()
    idle = [a for a in sa.vps.values() if a.sa_idle and not a.sa_wake]
    for a in idle:                           # the library has work: its idle vps come back
        a.sa_wake = True
        k.sched.wakeup(("sa_idle", a))
    sa.wake_pending = not idle and len(sa.vps) <= before   # or the next vp to go idle comes back at once
    return sa.alloc


def sys_sa_yield(k, t):
    sa = t.proc.sa
    if sa is None or not sa.enabled or t.sa_vp is None:
        raise SysError(EINVAL)
    _downcall(k, t, "sa_yield", vp=t.sa_vp)
    t.sa_idle = True
    while not (k.sa.deliverable(sa) or t.sa_retire or t.sa_wake or sa.wake_pending):
        if not k.sched.sleep(("sa_idle", t)):
            break
    t.sa_idle = False
    if t.sa_retire:                          # its vp was taken back: nothing to tell
        k.sa.retire_idle(t)
    if t.sa_wake or sa.wake_pending:         # sa_setconcurrency gave the processor back
        t.sa_wake = sa.wake_pending = False
        t.sa_pending.append((SA_UPCALL_NEWPROC, t, None))
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
