/* The user-level context switch of the green-thread library (uthread.c, docs/uthreads.md).

       void __uswitch(struct uthread *from, struct uthread *to, volatile int *lock);

   Saves the caller's context into `from`, releases the library's lock, and resumes `to`
   where it last saved its own. The caller holds the lock (under M:N, the spin lock that
   guards the run queue: another LWP may take `from` off a queue as soon as it is free,
   so it is released only once `from` is completely saved; under M:1 it is unused and
   clearing it changes nothing).

   The timer. A SIGVTALRM handler may interrupt any instruction here, and switches threads
   unless the thread tp points at has its `nopreempt` flag set (uthread.c). `from` has it
   set (it is inside the library) and so has `to` (every thread that is not running
   has). So tp moves to `to` *before* the lock is released, while nobody else can run
   `from`, and `to`'s flag is cleared only after all its registers are loaded: at no
   instruction can the handler mistake one thread for another or save a half-loaded one.

   __uswitch is an ordinary function call, so the RISC-V calling convention has already
   done half of the work: a0-a7, t0-t6, fa0-fa7 and ft0-ft11 are caller-saved, which means
   the C code that called us has put whatever it still needs from them on its own stack.
   Only the callee-saved registers must survive a call, and only they are saved here:
     ra        where `from` resumes (the instruction after its call to __uswitch)
     sp        its stack: everything else it owns (locals, spilled registers) is there
     s0-s11    callee-saved integer registers (s0 is the frame pointer)
     fs0-fs11  callee-saved floating-point registers
   Not switched: gp (one value for the whole program), fcsr (rounding mode and FP flags,
   shared by the threads of an LWP), and tp, which is not saved but *set*: it always points
   at the running thread's control block, which is `to` itself.
   Cost: 26 stores + 1 move + 1 release + 26 loads + 1 store + ret = 56 instructions, and
   no system call (claim S8).

   struct uthread begins { self: 8 bytes, errno: 4, id: 4, then the 26-word context, then
   state: 4, flags: 4, nopreempt: 4 }, so the context starts at offset CTX = 16 and the
   flag is at NOPREEMPT = 232 (uthread/core.c checks both with static asserts). */

#define CTX 16
#define RA  (CTX + 0 * 8)
#define SP  (CTX + 1 * 8)
#define S(n)  (CTX + (2 + (n)) * 8)            /* s0..s11: words 2..13 */
#define FS(n) (CTX + (14 + (n)) * 8)           /* fs0..fs11: words 14..25 */
#define NOPREEMPT 232

	.section .text.__uswitch, "ax"
	.globl __uswitch
	.type __uswitch, @function
	.p2align 2
__uswitch:
	/* ---- 1. save `from` (a0): what its caller expects to find intact ---- */ // LAB uswitch BEGIN
	sd   ra, RA(a0)           /* the return address: from will resume right after its call */
	sd   sp, SP(a0)           /* from's stack pointer: its frames stay on its own stack */
	sd   s0, S(0)(a0)         /* s0 = fp: from's frame pointer */
	sd   s1, S(1)(a0)         /* s1..s11: values from's callers keep in registers ... */
	sd   s2, S(2)(a0)
	sd   s3, S(3)(a0)
	sd   s4, S(4)(a0)
	sd   s5, S(5)(a0)
	sd   s6, S(6)(a0)
	sd   s7, S(7)(a0)
	sd   s8, S(8)(a0)
	sd   s9, S(9)(a0)
	sd   s10, S(10)(a0)
	sd   s11, S(11)(a0)       /* ... across calls, e.g. loop counters and pointers */
	fsd  fs0, FS(0)(a0)       /* fs0..fs11: the same for floating-point values */
	fsd  fs1, FS(1)(a0)
	fsd  fs2, FS(2)(a0)
	fsd  fs3, FS(3)(a0)
	fsd  fs4, FS(4)(a0)
	fsd  fs5, FS(5)(a0)
	fsd  fs6, FS(6)(a0)
	fsd  fs7, FS(7)(a0)
	fsd  fs8, FS(8)(a0)
	fsd  fs9, FS(9)(a0)
	fsd  fs10, FS(10)(a0)
	fsd  fs11, FS(11)(a0)     /* from is now completely described by its context + stack */

	/* ---- 2. become `to`, still not preemptible (to->nopreempt is 1) ---- */
	mv   tp, a1               /* tp = the running thread's control block: errno, identity */

	/* ---- 3. release the lock (a2): from may now be picked up, even by another LWP ---- */
	amoswap.w.rl zero, zero, (a2)   /* *lock = 0, ordered after every store above; nothing
	                                   below touches from's stack or context again */

	/* ---- 4. load `to` (a1): exactly what it saved when it last switched away ---- */
	ld   ra, RA(a1)           /* where to resumes: after its own __uswitch call, or in a
	                             trampoline below if it has never run */
	ld   sp, SP(a1)           /* from this instruction on we are on to's stack */
	ld   s0, S(0)(a1)         /* to's frame pointer */
	ld   s1, S(1)(a1)         /* to's callee-saved registers, as its caller left them */
	ld   s2, S(2)(a1)
	ld   s3, S(3)(a1)
	ld   s4, S(4)(a1)
	ld   s5, S(5)(a1)
	ld   s6, S(6)(a1)
	ld   s7, S(7)(a1)
	ld   s8, S(8)(a1)
	ld   s9, S(9)(a1)
	ld   s10, S(10)(a1)
	ld   s11, S(11)(a1)
	fld  fs0, FS(0)(a1)       /* and its floating-point ones */
	fld  fs1, FS(1)(a1)
	fld  fs2, FS(2)(a1)
	fld  fs3, FS(3)(a1)
	fld  fs4, FS(4)(a1)
	fld  fs5, FS(5)(a1)
	fld  fs6, FS(6)(a1)
	fld  fs7, FS(7)(a1)
	fld  fs8, FS(8)(a1)
	fld  fs9, FS(9)(a1)
	fld  fs10, FS(10)(a1)
	fld  fs11, FS(11)(a1)

	/* ---- 5. run `to` ---- */
	sw   zero, NOPREEMPT(a1)  /* to is whole again: the timer may switch it from here on */
	ret                       /* jump to to's ra: its call to __uswitch returns at last */
	// LAB uswitch SKELETON
	// 	unimp                     /* your code: steps 1-5 (docs/labs.md) */
	// LAB uswitch END
	.size __uswitch, .-__uswitch


/* Where a thread that has never run starts, through the first __uswitch to it. uthread.c
   prepared its context with ra = __uthread_trampoline, sp = the top of its stack,
   s0 = the C function to run and s1 = its argument. */
	.section .text.__uthread_trampoline, "ax"
	.globl __uthread_trampoline
	.type __uthread_trampoline, @function
	.p2align 2
__uthread_trampoline:
	mv   a0, s1               /* first argument: what uthread.c put in s1 */
	jalr s0                   /* call the C entry; it never returns (it ends the thread) */
	unimp                     /* not reached: trap if it ever does */
	.size __uthread_trampoline, .-__uthread_trampoline


/* Where a new LWP of the library starts (the entry given to lwp_create). The kernel starts
   it with a0 = the argument, sp = the stack top and every other register 0 (docs/abi.md).
   The argument is the control block tp must point at; uthread.c stored the C function to
   run in that block's saved-s0 slot, and calls it with the block as its argument. */
	.section .text.__uthread_lwp_start, "ax"
	.globl __uthread_lwp_start
	.type __uthread_lwp_start, @function
	.p2align 2
__uthread_lwp_start:
	.option push
	.option norelax               /* no gp-relative relaxation: gp is not set yet */
	lla  gp, __global_pointer$    /* gp = the program's global pointer (the kernel gave 0) */
	.option pop
	mv   tp, a0               /* tp = the control block of what runs first on this LWP */
	ld   t0, S(0)(a0)         /* t0 = the C entry, stored in the saved-s0 slot */
	jalr t0                   /* entry(control block); it never returns (it calls lwp_exit) */
	unimp                     /* not reached */
	.size __uthread_lwp_start, .-__uthread_lwp_start


/* ---- Scheduler activations (UTHREAD_SA, uthread.c) ----

   struct mctx (uthread.c) is a copy of a kernel ucontext's mcontext: x[0] = pc, x[1..31],
   f[0..31], fcsr (4 bytes), then np, the value the resumed thread's nopreempt flag gets.

       void __usa_load(struct mctx *mc);                       never returns

   Loads every register of mc and jumps to its pc. The jump needs one register holding the
   target: gp. The program never reads gp (the linker makes no gp-relative accesses; the
   upcall entry below sets it again), so gp is the one register whose value at the target
   does not matter. Until the last instruction gp points at mc, so an upcall that
   interrupts the load restarts it from the interrupted context's gp (uthread.c: the range
   __usa_load_body .. __usa_load_jr is a critical section recognised by its pc). */
#define MC_X(n) ((n) * 8)
#define MC_F(n) (256 + (n) * 8)
#define MC_FCSR 512
#define MC_NP   516

	.section .text.__usa_load, "ax"
	.globl __usa_load
	.globl __usa_load_body
	.globl __usa_load_jr
	.globl __usa_load_end
	.type __usa_load, @function
	.p2align 2
__usa_load:
	mv   gp, a0
__usa_load_body:
	ld   tp, MC_X(4)(gp)
	lw   t0, MC_NP(gp)
	sw   t0, NOPREEMPT(tp)
	lw   t0, MC_FCSR(gp)
	fscsr t0
	fld  f0, MC_F(0)(gp)
	fld  f1, MC_F(1)(gp)
	fld  f2, MC_F(2)(gp)
	fld  f3, MC_F(3)(gp)
	fld  f4, MC_F(4)(gp)
	fld  f5, MC_F(5)(gp)
	fld  f6, MC_F(6)(gp)
	fld  f7, MC_F(7)(gp)
	fld  f8, MC_F(8)(gp)
	fld  f9, MC_F(9)(gp)
	fld  f10, MC_F(10)(gp)
	fld  f11, MC_F(11)(gp)
	fld  f12, MC_F(12)(gp)
	fld  f13, MC_F(13)(gp)
	fld  f14, MC_F(14)(gp)
	fld  f15, MC_F(15)(gp)
	fld  f16, MC_F(16)(gp)
	fld  f17, MC_F(17)(gp)
	fld  f18, MC_F(18)(gp)
	fld  f19, MC_F(19)(gp)
	fld  f20, MC_F(20)(gp)
	fld  f21, MC_F(21)(gp)
	fld  f22, MC_F(22)(gp)
	fld  f23, MC_F(23)(gp)
	fld  f24, MC_F(24)(gp)
	fld  f25, MC_F(25)(gp)
	fld  f26, MC_F(26)(gp)
	fld  f27, MC_F(27)(gp)
	fld  f28, MC_F(28)(gp)
	fld  f29, MC_F(29)(gp)
	fld  f30, MC_F(30)(gp)
	fld  f31, MC_F(31)(gp)
	ld   x1, MC_X(1)(gp)
	ld   x2, MC_X(2)(gp)
	ld   x5, MC_X(5)(gp)
	ld   x6, MC_X(6)(gp)
	ld   x7, MC_X(7)(gp)
	ld   x8, MC_X(8)(gp)
	ld   x9, MC_X(9)(gp)
	ld   x10, MC_X(10)(gp)
	ld   x11, MC_X(11)(gp)
	ld   x12, MC_X(12)(gp)
	ld   x13, MC_X(13)(gp)
	ld   x14, MC_X(14)(gp)
	ld   x15, MC_X(15)(gp)
	ld   x16, MC_X(16)(gp)
	ld   x17, MC_X(17)(gp)
	ld   x18, MC_X(18)(gp)
	ld   x19, MC_X(19)(gp)
	ld   x20, MC_X(20)(gp)
	ld   x21, MC_X(21)(gp)
	ld   x22, MC_X(22)(gp)
	ld   x23, MC_X(23)(gp)
	ld   x24, MC_X(24)(gp)
	ld   x25, MC_X(25)(gp)
	ld   x26, MC_X(26)(gp)
	ld   x27, MC_X(27)(gp)
	ld   x28, MC_X(28)(gp)
	ld   x29, MC_X(29)(gp)
	ld   x30, MC_X(30)(gp)
	ld   x31, MC_X(31)(gp)
	ld   gp, MC_X(0)(gp)      /* gp = pc: the last use of mc */
__usa_load_jr:
	jr   gp
__usa_load_end:
	.size __usa_load, .-__usa_load


/* The first half of __uswitch, for the SA variants below: save from's (a0) callee-saved
   registers. (__uswitch spells it out, with a comment for each register.) */
	.macro SAVE_FROM
	sd   ra, RA(a0)
	sd   sp, SP(a0)
	.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
	sd   s\n, S(\n)(a0)
	.endr
	.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
	fsd  fs\n, FS(\n)(a0)
	.endr
	.endm


/*     void __uswitch_mc(struct uthread *from, struct uthread *to, volatile int *lock,
                         struct mctx *mc);

   __uswitch for a `to` whose whole register set is in mc (a thread an upcall handed back):
   saves from's callee-saved registers, sets tp, releases the lock, then __usa_load(mc).
   From the moment tp is `to`'s, a0 holds mc: an upcall handler that finds a context
   stopped in __uswitch_mc_tail .. __uswitch_mc_end (or on __usa_load's first instruction)
   finishes the switch from a0 itself, releasing the lock first if the context had not. */
	.section .text.__uswitch_mc, "ax"
	.globl __uswitch_mc
	.globl __uswitch_mc_tail
	.globl __uswitch_mc_end
	.type __uswitch_mc, @function
	.p2align 2
__uswitch_mc:
	SAVE_FROM
	mv   a0, a3
	mv   tp, a1
__uswitch_mc_tail:
	amoswap.w.rl zero, zero, (a2)
	j    __usa_load
__uswitch_mc_end:
	.size __uswitch_mc, .-__uswitch_mc


/* An upcall starts here (the handler given to sa_register): the kernel sets pc, sp and
   a0-a3 only, so gp is set before any C code runs. */
	.section .text.__usa_upcall, "ax"
	.globl __usa_upcall
	.type __usa_upcall, @function
	.p2align 2
__usa_upcall:
	.option push
	.option norelax
	lla  gp, __global_pointer$
	.option pop
	call __usa_handler        /* never returns */
	unimp
	.size __usa_upcall, .-__usa_upcall


/*     void __uswitch_idle(struct uthread *from, volatile int *lock, struct uthread *idle);

   An activation with nothing to run: saves from like __uswitch, sets tp to the idle
   thread (one for all vps: its nopreempt stays 1, as no __uswitch ever loads it), releases
   the lock and falls into __usa_idle: sa_yield until an upcall replaces its registers. It
   touches no memory there, so the stack it was on may already have been given back, and an
   upcall handler simply drops a context stopped in __usa_idle. Before the release the
   context holds the lock: a handler continues it (critical: tp's nopreempt is set). */
	.section .text.__usa_idle, "ax"
	.globl __uswitch_idle
	.globl __usa_idle
	.globl __usa_idle_end
	.type __uswitch_idle, @function
	.p2align 2
__uswitch_idle:
	SAVE_FROM
	mv   tp, a2
	amoswap.w.rl zero, zero, (a1)
__usa_idle:
	li   a7, 524
	ecall
	j    __usa_idle
__usa_idle_end:
	.size __uswitch_idle, .-__uswitch_idle


/*     void __usa_tick(int sig, siginfo_t *si, ucontext_t *uc);       SIGVTALRM under SA

   A tick that stopped a load of a whole context (__usa_load, or __uswitch_mc from its
   tail), or a tick that did, returns at once, by the rt_sigreturn below, and the load goes
   on; any other tick
   goes to __uthread_on_tick (uthread/api.c says why). From the first instruction to the
   ecall a2 holds uc: an upcall handler that finds a context stopped here takes the load
   that uc holds as the interrupted context and drops the frame (uthread/sa.c). */
#define UC_MCTX 176
	.section .text.__usa_tick, "ax"
	.globl __usa_tick
	.globl __usa_tick_end
	.type __usa_tick, @function
	.p2align 2
__usa_tick:
	ld   t0, UC_MCTX(a2)          /* the interrupted pc: mcontext x[0] */
	lla  t1, __usa_load
	bltu t0, t1, 1f
	lla  t1, __usa_load_end
	bltu t0, t1, 3f
1:	lla  t1, __uswitch_mc_tail
	bltu t0, t1, 2f
	lla  t1, __uswitch_mc_end
	bltu t0, t1, 3f
2:	lla  t1, __usa_tick           /* a tick that stopped this one: the same */
	bltu t0, t1, 4f
	lla  t1, __usa_tick_end
	bltu t0, t1, 3f
4:	tail __uthread_on_tick
3:	li   a7, 139                  /* rt_sigreturn: sp is at the frame, as at entry */
	ecall
__usa_tick_end:
	.size __usa_tick, .-__usa_tick
