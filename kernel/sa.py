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
activation has been written (Activation.announced). Nothing here busy-waits: an idle vp
(sa_yield) sleeps until an event needs it.

An activation (Activation, on its thread as t.act) has one state and a few request flags;
the states and the only transitions allowed (Activation.to checks each one, KernelPanic on
any other), also in docs/scheduler-activations.md:

    FRESH   -> RUNNING    its first upcall is written
    FRESH   -> BLOCKED    it slept before that (its upcall could not be written)
    RUNNING -> IDLE       sa_yield: its vp has nothing to run
    IDLE    -> RUNNING    sa_yield returns: news, or sa_setconcurrency wants the vp back
    RUNNING -> BLOCKED    it sleeps in the kernel: a new activation takes its vp
    BLOCKED -> UNBLOCKED  the call completed: its context goes to the library, it ends
    FRESH, RUNNING, IDLE -> ENDED   its vp was taken back: it ends

FRESH: created, its first upcall not written yet (it has no user context of its own).
RUNNING: runs the library on its vp (user code, or a call that has not slept). IDLE: sleeps
in sa_yield, its vp has nothing to run. BLOCKED: slept in the kernel and its vp went on with
a new activation. UNBLOCKED: its call completed and its context went to the library as
news; its LWP ends. ENDED: its vp was taken back; its LWP ends. Requests, set by others and
acted on at its next kernel entry or wake-up: interrupt (stop to deliver news, or to be
retired), retire (its vp was taken back), wake (sa_setconcurrency wants an idle vp back),
news (leaving sa_yield: deliver what woke it). Two sleeps keep the vp (no BLOCKED): one
while the kernel delivers an upcall (user memory that must come from the disk), and a stop
(SIGSTOP freezes the whole process, vps included, until SIGCONT).

Processor allocation (reallocate) is space sharing among the SA processes: each gets one
vp, then the harts left are dealt out one at a time, oldest SA process first, to those
that asked for more (sa_setconcurrency), so shares differ by at most one. Threads of other
processes are time-shared with the vps by the ordinary scheduler. A vp taken back is
stopped at its next kernel entry outside a library critical section (the word the library
named with sa_register, read at tp + offset: deferred SA_DEFER_NS at a time) and its
context goes to another vp as a PREEMPTED event; a vp given is started with NEWPROC.
"""
import enum
import struct

from . import arch, params, sigframe
from .arch import i32
from .errno import EINVAL, ESRCH, SysError
from .panic import KernelPanic
from .signal import SIGSEGV
from .thread import ZOMBIE
from .vm import PROT_W, PROT_X, Fault

SA_UPCALL_NEWPROC, SA_UPCALL_PREEMPTED, SA_UPCALL_BLOCKED, SA_UPCALL_UNBLOCKED = 0, 1, 2, 3
UPCALL_NAMES = {0: "NEWPROC", 1: "PREEMPTED", 2: "BLOCKED", 3: "UNBLOCKED"}
CTX_SIZE = sigframe.FRAME_SIZE - sigframe.UC_OFF          # one ucontext


class ActState(enum.StrEnum):
    FRESH = "fresh"
    RUNNING = "running"
    IDLE = "idle"
    BLOCKED = "blocked"
    UNBLOCKED = "unblocked"
    ENDED = "ended"


FRESH, RUNNING, IDLE, BLOCKED, UNBLOCKED, ENDED = (ActState.FRESH, ActState.RUNNING, ActState.IDLE,
                                                   ActState.BLOCKED, ActState.UNBLOCKED, ActState.ENDED)
TRANSITIONS = {
    FRESH: frozenset({RUNNING, BLOCKED, ENDED}),
    RUNNING: frozenset({IDLE, BLOCKED, ENDED}),
    IDLE: frozenset({RUNNING, ENDED}),
    BLOCKED: frozenset({UNBLOCKED}),
    UNBLOCKED: frozenset(),
    ENDED: frozenset(),
}


class Activation:
    """The scheduler-activation side of an LWP (t.act): see the state machine above."""
    __slots__ = ("id", "vp", "_state", "interrupt", "retire", "wake", "news", "announced", "delivering",
                 "deferred", "pending")

    def __init__(self, sa_id: int, vp: int):
        self.id = sa_id
        self.vp = vp                      # the virtual processor it was made for
        self._state = FRESH
        self.interrupt = False            # request: enter the kernel to deliver news or retire
        self.retire = False               # request: its vp was taken back, end it
        self.wake = False                 # request: sa_setconcurrency wants this idle vp back
        self.news = False                 # request: leaving sa_yield, take the news in an upcall
        self.announced = False            # fact: its BLOCKED upcall was written
        self.delivering = False           # fact: the kernel is delivering its upcall (on_return)
        self.deferred = 0                 # times taking its vp back was put off
        self.pending = []                 # upcall events this activation must deliver

    @property
    def state(self) -> ActState:
        """Read-only: `to` changes it."""
        return self._state

    def to(self, new: ActState) -> None:
        """The one place an activation's state changes; KernelPanic on a change not in TRANSITIONS."""
        if new not in TRANSITIONS[self._state]:
            raise KernelPanic(f"activation {self.id} (vp {self.vp}): illegal state change {self._state} -> {new}")
        self._state = new

    def hands_over(self) -> bool:
        """Does a sleep now give its vp to a new activation (BLOCKED upcall)?"""
        return (self.state is RUNNING or self.state is FRESH) and not self.delivering

    def request_interrupt(self) -> None:
        self.interrupt = True


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
                nt.act.pending = [(SA_UPCALL_NEWPROC, nt, None)]
                sa.vps[vp] = nt
                self.k.sched.make_runnable(nt)
        for vp in sorted(sa.vps, reverse=True):
            if vp >= n:
                a = sa.vps.pop(vp)
                a.act.retire = True
                if a.act.state is IDLE:
                    self.k.sched.wakeup(("sa_idle", a))
                else:
                    a.act.interrupt = True       # run_hart stops it at its next chance

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
            word = t.proc.aspace.copyin((self.k.sched.regs(t)[arch.TP] + sa.crit_off) & arch.WORD_MASK, 4)
        except Fault:
            return True
        return word != bytes(4)

    def _retire(self, t) -> None:
        """t's vp was taken back: its context (and any BLOCKED news it had yet to deliver)
        goes to another vp, and t ends. Deferred while t is in a critical section (at most
        SA_DEFER_MAX times: a process cannot keep a vp by never leaving one), so that no
        upcall carries two contexts the library must continue at once."""
        a = t.act
        if a.state is RUNNING and a.deferred < params.SA_DEFER_MAX and self._critical(t):
            a.deferred += 1
            a.interrupt = False
            self.k.sched.machine.clock.at(self.k.sched.now() + params.SA_DEFER_NS, a.request_interrupt)
            return
        sa = t.proc.sa
        news = [e for e in a.pending if e[0] == SA_UPCALL_BLOCKED]
        if a.state is RUNNING:
            news.append((SA_UPCALL_PREEMPTED, t, self.k.sched.regs(t)))
        a.pending = []
        sa.news += news
        self._emit("vp_taken", t, vp=a.vp, id=a.id)
        if news:
            self._find_vp(t.proc)
        a.to(ENDED)
        self.k.procs.exit_lwp(t, 0)

    def retire_idle(self, t) -> None:
        """Idle activation t (in sa_yield) lost its vp: it ends; it had no thread to hand
        back, so the library hears nothing."""
        self._emit("vp_taken", t, vp=t.act.vp, id=t.act.id)
        t.act.to(ENDED)
        self.k.procs.exit_lwp(t, 0)

    # ---- hooks called by the scheduler and the trap path ----
    def on_block(self, t) -> None:
        """Activation t is about to sleep in the kernel: give its vp a new activation that
        starts with a BLOCKED upcall (called from sched.sleep_timed, before t sleeps)."""
        sa = t.proc.sa
        a = t.act
        a.to(BLOCKED)
        if sa.vps.get(a.vp) is not t:            # its vp was taken back meanwhile
            sa.news.append((SA_UPCALL_BLOCKED, t, None))
            self._find_vp(t.proc)
            return
        nt = self._new_activation(t.proc, a.vp)
        nt.act.pending = [(SA_UPCALL_BLOCKED, t, None)]
        self._emit("upcall_planned", nt, type="BLOCKED", blocked=a.id)
        nt.affinity = t.affinity
        self.k.sched.run_next(nt)        # the vp (this hart) goes on with the new activation
        sa.vps[a.vp] = nt

    def on_return(self, t) -> bool:
        """On the way to user mode: a completed blocked activation hands its context to the
        library and dies; an activation with events takes its upcall. True if t's user
        registers were replaced (or t will never return)."""
        sa = t.proc.sa
        a = t.act
        if a.state is BLOCKED:
            a.to(UNBLOCKED)
            sa.news.append((SA_UPCALL_UNBLOCKED, t, self.k.sched.regs(t)))
            self._find_vp(t.proc)
            self.k.procs.exit_lwp(t, 0)
        a.delivering = True
        try:
            if a.retire:
                self._retire(t)                  # returns only if deferred
                return False
            if a.pending or a.interrupt or a.news:
                a.news = False
                self._upcall(t)
                return True
            return False
        finally:
            a.delivering = False

    @staticmethod
    def _ready(e) -> bool:
        """News e may go out: an UNBLOCKED only after its BLOCKED upcall was written."""
        return e[0] != SA_UPCALL_UNBLOCKED or e[1].act.announced

    def deliverable(self, sa) -> bool:
        return any(self._ready(e) for e in sa.news)

    def _find_vp(self, p) -> None:
        """Someone must deliver the news: an idle vp if any, else preempt the activation
        of the lowest-numbered busy vp."""
        sa = p.sa
        idle = [a for a in sa.vps.values() if a.act.state is IDLE]
        if idle:
            self.k.sched.wakeup(("sa_idle", idle[0]))
            return
        for vp in sorted(sa.vps):
            a = sa.vps[vp]
            if a.act.state not in (BLOCKED, UNBLOCKED) and a.state is not ZOMBIE:
                a.act.interrupt = True
                return

    # ---- building an upcall ----
    def _upcall(self, t) -> None:
        p = t.proc
        sa = p.sa
        act = t.act
        events = list(act.pending)
        act.pending = []
        interrupted = []
        if act.interrupt and act.state is RUNNING:
            interrupted.append((SA_UPCALL_PREEMPTED, t, self.k.sched.regs(t)))
        ready = [e for e in sa.news if self._ready(e)]
        sa.news = [e for e in sa.news if not self._ready(e)]
        for e in ready:
            (interrupted if e[0] == SA_UPCALL_PREEMPTED else events).append(e)
        act.interrupt = False
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
            full = sigframe.build(regs or arch.context(), bytes(sigframe.INFO_SIZE), who.sigmask, (0, 2, 0))
            blob += full[sigframe.UC_OFF:]
        sats = b"".join(struct.pack("<Qii", ctx_base + i * CTX_SIZE if allv[i][2] is not None else 0,
                                    allv[i][1].act.id, allv[i][1].act.vp)
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
        regs = arch.context(pc=sa.upcall, sp=sas_base)
        regs[arch.A0], regs[arch.A1] = events[0][0], sas_base
        regs[arch.A2], regs[arch.A3] = len(events), len(interrupted)
        self.k.sched.set_regs(t, regs)
        if act.state is FRESH:
            act.to(RUNNING)
        for kind, who, _ in events:
            if kind == SA_UPCALL_BLOCKED:
                who.act.announced = True
                if any(e[1] is who for e in sa.news):
                    self._find_vp(p)             # it completed before its BLOCKED went out
        self._emit("upcall", t, type=UPCALL_NAMES[events[0][0]], events=len(events),
                   interrupted=len(interrupted), ids=[w.act.id for _, w, _ in allv],
                   kinds=[UPCALL_NAMES[k] for k, _, _ in allv])

    def _emit(self, kind, t, **detail) -> None:
        if self.k.events is not None:
            self.k.event(kind, t, **detail)

    def _new_activation(self, p, vp):
        nt = self.k.procs.new_lwp(p, arch.context())
        init_activation(nt, p.sa, vp)
        return nt


def init_activation(t, sa, vp) -> None:
    """LWP t becomes a FRESH activation for vp."""
    t.act = Activation(sa.next_id, vp)
    sa.next_id += 1
    t.detached = True                    # activations are never lwp_wait'ed


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
    regs[arch.SYSCALL_RET] = 0               # sa_enable's result, seen when main is resumed
    t.act.pending = [(SA_UPCALL_NEWPROC, t, regs)]
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
    idle = [a for a in sa.vps.values() if a.act.state is IDLE and not a.act.wake]
    for a in idle:                           # the library has work: its idle vps come back
        a.act.wake = True
        k.sched.wakeup(("sa_idle", a))
    sa.wake_pending = not idle and len(sa.vps) <= before   # or the next vp to go idle comes back at once
    return sa.alloc


def sys_sa_yield(k, t):
    sa = t.proc.sa
    a = t.act
    if sa is None or not sa.enabled or a is None:
        raise SysError(EINVAL)
    _downcall(k, t, "sa_yield", vp=a.vp)
    a.to(IDLE)
    while not (k.sa.deliverable(sa) or a.retire or a.wake or sa.wake_pending):
        if not k.sched.sleep(("sa_idle", t)):
            break
    if a.retire:                             # its vp was taken back: nothing to tell
        k.sa.retire_idle(t)
    a.to(RUNNING)
    if a.wake or sa.wake_pending:            # sa_setconcurrency gave the processor back
        a.wake = sa.wake_pending = False
        a.pending.append((SA_UPCALL_NEWPROC, t, None))
    a.news = True                            # deliver what woke it on the way out
    return 0


def sys_sa_preempt(k, t, sa_id):
    sa = t.proc.sa
    if sa is None:
        raise SysError(EINVAL)
    _downcall(k, t, "sa_preempt", id=i32(sa_id))
    for a in sa.vps.values():
        if a.act.id == i32(sa_id) and a.act.state not in (BLOCKED, UNBLOCKED):
            a.act.interrupt = True
            return 0
    raise SysError(ESRCH)
