/* Native instruction budgets for one hart: count guest instructions per translated block.
 *
 * Built for the host by the Makefile (build/libblockcount.so) and driven by
 * emulator/blockcount.py; docs/emulator.md explains the design. Contract:
 *
 * - bc_block is the hart's only UC_HOOK_BLOCK callback. unicorn calls it at the start of
 *   every translated block, before the block's exit check, with the block's start PC and
 *   size in bytes; emu_stop() in it ends the run BEFORE the block's first instruction, with
 *   the PC at the block start. It charges the block's instruction count to the budget, or
 *   stops the run when the block does not fit in what is left of it.
 * - A block's instruction count is derived from its bytes (RV64GC: a 16-bit parcel whose
 *   low two bits are 11 starts a 32-bit instruction, any other a 16-bit one) and cached
 *   by (pc, size) in a direct-mapped table. The table is a cache of what the code at a
 *   virtual address is, like the TLB: it is forgotten (bc_forget) whenever the TLB or
 *   translated code is flushed, so a remapped or rewritten page is decoded again, and
 *   whenever a block holding fence.i runs (the hart's own code writes, see block_slow).
 * - bc_run runs from the PC with a budget: an ordinary run (no per-instruction counting)
 *   until the first block that does not fit, then an exact finish of the r instructions
 *   left: that block is translated again with at most r instructions through
 *   CPUState.cflags_next_tb (a private field located by a probe), within the same run
 *   (finish_here) or, failing that, in a second one; when that field is not known, the run
 *   stops before the block and is ended at the address r instructions on with `until`. A
 *   run therefore retires exactly `budget` instructions unless it traps first.
 * - A trap in the middle of a block retires the instructions of that block up to and
 *   including the trapping one (the convention of unicorn's count mode, which counts an
 *   instruction before executing it); a fetch fault happens between blocks, so every
 *   block entered ran whole.
 * - A misaligned sc must trap (cause 6); unicorn's fails (rd = 1). The hook checks each sc a
 *   run reaches before its block runs, with rs1 as at the block's start if no earlier
 *   instruction of the block may write it ("clean"), else after a split (the instructions
 *   before it run, then it starts a block); one at a block's start ends the run as a trap.
 *   Count-mode runs (the debugger) report both cases with pseudo-causes (hartdebug.py).
 * Nothing here allocates: the state is memory owned by the Python side.
 */
#include <stddef.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

/* unicorn's entry points, passed in by the Python side from the library its binding
 * loaded: this library does not link against unicorn, so there is only one copy of it. */
typedef uc_err (*emu_start_fn)(uc_engine *, uint64_t, uint64_t, uint64_t, size_t);
typedef uc_err (*emu_stop_fn)(uc_engine *);
typedef uc_err (*vmem_read_fn)(uc_engine *, uint64_t, uc_prot, void *, size_t);
typedef uc_err (*reg_rw_fn)(uc_engine *, int, void *);
typedef uc_err (*ctl_fn)(uc_engine *, uc_control_type, ...);

#define SLOTS 4096                      /* count cache entries (a power of two) */
#define MAX_BLOCK 4100                  /* bytes: a block never crosses a page by more than 2 */
#define UNTIL_NEVER UINT64_MAX          /* PCs are even: never reached */
#define IDLE INT64_MAX                  /* left outside bc_run: count-mode runs are not stopped */

enum { CAUSE_INSN_ACCESS = 1, CAUSE_STORE_MISALIGNED = 6, CAUSE_ECALL_U = 8, CAUSE_INSN_PAGE = 12 };
/* Count-mode pseudo-causes (as in blockcount.py): unicorn's instruction limit was lowered to
 * stop on an sc to check; a misaligned sc starts the block (the run stopped before it). */
enum { SC_SPLIT = 0x100, SC_MISALIGNED = 0x101, MAX_SC = 8 /* sc kept per block scan */ };

enum { FAULT_NONE = 0, FAULT_UNREADABLE = 1, FAULT_NO_PROGRESS = 2 };

/* A cached block. A block holding an sc is stored with pc | 1, which the hook's fast path
 * never matches (PCs are even), and its sc's descriptor in bc_hart.sc at the same index. */
struct slot {
    uint64_t pc;
    uint32_t size;
    uint16_t n;                         /* instructions: a block has at most 512 */
    uint16_t gen;                       /* valid while equal to the table's generation */
};

/* Keep in step with _State in blockcount.py (checked at load time with bc_layout). */
struct bc_hart {
    /* set once by the Python side */
    uc_engine *uc;
    emu_start_fn emu_start;
    emu_stop_fn emu_stop;
    vmem_read_fn vmem_read;
    reg_rw_fn reg_read;
    reg_rw_fn reg_write;
    ctl_fn ctl;
    int32_t *cflags_next;               /* &CPUState.cflags_next_tb, or NULL: finish with until */
    uint64_t *count;                    /* unicorn's emu_counter, then emu_count (count mode), or NULL */
    const uint64_t *gpr;                /* CPURISCVState.gpr (x0-x31), or NULL: use reg_read */
    int32_t check_sc;                   /* check sc alignment (0 only for make bench's baseline) */
    int32_t ecall_regs[8];              /* read at an ecall into ecall[]: the PC (already past the
                                           ecall), then the system call's registers (Hart) */
    /* results of the last bc_run */
    int32_t cause;                      /* UC_HOOK_INTR cause, -1 if none */
    int32_t fault;                      /* FAULT_*: the counter itself failed */
    int32_t err;                        /* uc_err of the run */
    int32_t pad;
    uint64_t pc;                        /* the PC unicorn left (resume PC of a budget stop) */
    uint64_t executed;                  /* instructions retired, count mode's convention */
    uint64_t ecall[8];                  /* at an ecall: the registers ecall_regs names */
    /* statistics, never reset */
    uint64_t misses, finishes, sc_checks;   /* sc_checks: sc addresses checked */
    /* the run in progress */
    int64_t left;                       /* budget not yet charged; IDLE outside bc_run */
    struct slot *last;                  /* the last block entered (its cache slot) */
    uint64_t stop_pc;                   /* the block the hook stopped before, and its size */
    uint32_t stop_size;
    uint32_t stopped;                   /* the hook stopped the run */
    uint32_t gen;                       /* generation of the count cache (16 bits used) */
    uint32_t running;                   /* inside bc_run (else a count-mode run, or none) */
    uint32_t split;                     /* stopped to run this many instructions, up to an sc */
    uint32_t sc_trap;                   /* the hook stopped on a misaligned sc at stop_pc */
    uint64_t refit;                     /* PC of the last in-run finish (finish_here), odd: none */
    int64_t refit_left;                 /* left when it was made */
    struct slot none;                   /* "last" before any block, or an empty block */
    struct slot tab[SLOTS];
    uint32_t sc[SLOTS];                 /* descriptor of the sc of tab[i], when it has one */
};

size_t bc_size(void) { return sizeof(struct bc_hart); }

/* Offsets of the fields the Python side reads, for its layout check. */
void bc_layout(uint32_t *out)
{
    out[0] = offsetof(struct bc_hart, cause);
    out[1] = offsetof(struct bc_hart, pc);
    out[2] = offsetof(struct bc_hart, executed);
    out[3] = offsetof(struct bc_hart, misses);
    out[4] = offsetof(struct bc_hart, left);
    out[5] = offsetof(struct bc_hart, gen);
    out[6] = offsetof(struct bc_hart, ecall);
    out[7] = offsetof(struct bc_hart, split);
    out[8] = offsetof(struct bc_hart, ecall_regs);
}

/* A new state (zeroed memory): idle, with an empty cache. */
void bc_init(struct bc_hart *h)
{
    h->left = IDLE;
    h->gen = 1;
    h->last = &h->none;
    h->check_sc = 1;
}

/* Forget every cached count (the TLB or translated code was flushed). */
void bc_forget(struct bc_hart *h)
{
    h->gen = (h->gen + 1) & 0xFFFF;
    if (h->gen == 0) {                  /* wrapped: old entries could look valid again */
        for (uint32_t i = 0; i < SLOTS; i++)
            h->tab[i].gen = 0;
        h->gen = 1;
    }
}

/* Instructions that start in [0, upto] of the bytes b (RV64GC lengths are 2 and 4). */
static uint32_t count_upto(const uint8_t *b, uint32_t upto)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i <= upto; i += (b[i] & 3) == 3 ? 4 : 2)
        n++;
    return n;
}

/* An sc descriptor: the instruction's index in its block, rs1, width, and whether no earlier
 * instruction of the block may write rs1 (then rs1 at the block's start is its address). */
#define SC_DESC(k, rs1, dbl, clean) ((k) | (rs1) << 10 | (dbl) << 15 | (clean) << 16)
#define SC_INDEX(d) ((d) & 0x3FF)
#define SC_RS1(d) ((d) >> 10 & 31)
#define SC_MASK(d) ((d) >> 15 & 1 ? 7u : 3u)   /* address bits that must be 0 */
#define SC_CLEAN(d) ((d) >> 16 & 1)

struct scan {
    uint32_t n, fence_i, nsc;           /* instructions, a fence.i in it, sc described in sc[] */
    uint32_t sc[MAX_SC];
};

/* The x registers an instruction may write: rd for every 32-bit instruction but stores and
 * branches (an f register counts as its x namesake); any register a 16-bit one names. A
 * superset is safe: it only makes an sc's check run later, on the sc itself. */
static uint32_t may_write(const uint8_t *b)
{
    uint32_t h = b[0] | b[1] << 8;
    if ((h & 3) == 3) {
        uint32_t op = h & 0x7F;
        return op == 0x23 || op == 0x27 || op == 0x63 ? 0 : 1u << (h >> 7 & 31);
    }
    return 1u << (h >> 7 & 31) | 1u << (8 + (h >> 2 & 7)) | 1u << (8 + (h >> 7 & 7)) | 1u << 1;
}

/* Decode the block b[0, size): its instruction count, whether it holds a fence.i
 * (MISC-MEM, funct3 1), and its sc instructions (AMO, funct5 00011, funct3 2 or 3; neither
 * has a 16-bit form). Past MAX_SC - 1 of them, the next is described as not clean: the run
 * then goes up to it, and the rest of the block is decoded again as a block of its own. */
static void scan_block(const uint8_t *b, uint32_t size, struct scan *out)
{
    uint32_t written = 0;               /* x registers the instructions so far may write */
    out->n = out->fence_i = out->nsc = 0;
    for (uint32_t i = 0; i < size; i += (b[i] & 3) == 3 ? 4 : 2, out->n++) {
        if ((b[i] & 3) == 3 && i + 3 < size) {
            uint32_t w = b[i] | b[i + 1] << 8 | b[i + 2] << 16 | (uint32_t)b[i + 3] << 24;
            if ((w & 0x707F) == 0x100F)
                out->fence_i = 1;
            if ((w & 0xF800607F) == 0x1800202F && out->nsc < MAX_SC) {
                uint32_t rs1 = w >> 15 & 31;
                int clean = !(written >> rs1 & 1) && out->nsc < MAX_SC - 1;
                out->sc[out->nsc++] = SC_DESC(out->n, rs1, w >> 12 & 1, clean);
            }
        }
        if (i + 1 < size)
            written |= may_write(b + i) & ~1u;
    }
}

static int read_code(struct bc_hart *h, uint64_t pc, uint8_t *buf, uint32_t len)
{
    return h->vmem_read(h->uc, pc, UC_PROT_EXEC, buf, len) == UC_ERR_OK;
}

/* End the run before the block at pc (the hook runs before the block's exit check). */
static void stop_before(struct bc_hart *h, uint64_t pc, uint32_t size)
{
    h->stopped = 1;
    h->stop_pc = pc;
    h->stop_size = size;
    h->emu_stop(h->uc);
}

/* Before the block at pc runs: check the sc instructions (sc[0..nsc), in order) this run
 * reaches. 1: the run was stopped before the block (a misaligned sc at its start, or a
 * split), the block not charged; 0: it runs (in count mode, after a split is set up). */
static int check_sc(struct bc_hart *h, uint64_t pc, uint32_t size, const uint32_t *sc, uint32_t nsc)
{
    int counting = !h->running;
    if (counting && h->count == NULL)
        return 0;
    for (uint32_t i = 0; i < nsc; i++) {
        uint32_t k = SC_INDEX(sc[i]);
        if (counting ? h->count[0] + k >= h->count[1] : (int64_t)k >= h->left)
            return 0;                   /* the run ends before this sc */
        if (SC_CLEAN(sc[i])) {
            h->sc_checks++;         /* the registers are in memory: the hook is a helper call */
            uint64_t addr = h->gpr != NULL ? h->gpr[SC_RS1(sc[i])] : 0;
            if (h->gpr == NULL)
                h->reg_read(h->uc, UC_RISCV_REG_X0 + (int)SC_RS1(sc[i]), &addr);
            if (!(addr & SC_MASK(sc[i])))
                continue;
            if (k == 0) {               /* misaligned, and the block starts with it */
                h->cause = counting ? SC_MISALIGNED : CAUSE_STORE_MISALIGNED;
                h->left -= !counting;   /* the trapping instruction counts */
                h->sc_trap = !counting;
                h->stop_pc = pc;
                h->emu_stop(h->uc);
                return 1;
            }
        }
        /* not clean, or misaligned: run up to the sc, which then starts a block */
        if (counting) {
            h->count[1] = h->count[0] + k;
            h->cause = SC_SPLIT;
            return 0;
        }
        h->split = k;
        stop_before(h, pc, size);
        return 1;
    }
    return 0;
}

/* The block at pc does not fit in the h->left > 0 instructions left: finish without leaving
 * the run. Writing the PC from a hook makes unicorn leave the block before its first
 * instruction and go on at the PC in the same emu_start (uc.c: quit_request); with
 * cflags_next_tb set, the block translated there holds at most h->left instructions. A
 * second miss at the same PC with nothing charged since (cflags_next_tb not honoured)
 * stops the run, and bc_run's finish takes over. */
static void finish_here(struct bc_hart *h, uint64_t pc, uint32_t size)
{
    if (h->refit == pc && h->refit_left == h->left) {
        stop_before(h, pc, size);
        return;
    }
    h->refit = pc;
    h->refit_left = h->left;
    h->finishes++;
    *h->cflags_next = (int32_t)h->left;
    h->reg_write(h->uc, UC_RISCV_REG_PC, &pc);
}

/* Charge the block s (at pc) to the budget, or stop the run before it if it does not fit. */
static inline void charge(struct bc_hart *h, struct slot *s, uint64_t pc, uint32_t size)
{
    if ((int64_t)s->n > h->left) {
        if (h->left > 0 && h->running && h->cflags_next != NULL)
            finish_here(h, pc, size);
        else
            stop_before(h, pc, size);
        return;
    }
    h->left -= s->n;
    h->last = s;
}

/* The hook's slow path: a count not cached yet (or a block kept out of the cache), or a
 * block that does not fit. */
static __attribute__((noinline)) void block_slow(struct bc_hart *h, struct slot *s, uint64_t pc,
                                                 uint32_t size)
{
    uint8_t buf[MAX_BLOCK + 2];
    struct scan sc = {0, 0, 0, {0}};
    if (!(s->pc == pc && s->size == size && s->gen == h->gen)) {
        h->misses++;
        if (size == 0) {                /* a block that is one invalid 16-bit instruction */
            s = &h->none;
            s->pc = pc;
            s->size = 0;
            s->n = 0;
        } else if (size > MAX_BLOCK || !read_code(h, pc, buf, size)) {
            h->fault = FAULT_UNREADABLE;    /* it was just translated from these bytes */
            stop_before(h, pc, size);
            return;
        } else {
            scan_block(buf, size, &sc);
            if (!h->check_sc)
                sc.nsc = 0;
            if (sc.fence_i || sc.nsc > 1) {
                /* Code written before a fence.i must run after it, and unicorn retranslates
                 * code the hart itself rewrote: the cached counts may describe old code.
                 * Forget them, and keep this block out of the cache (it forgets again each
                 * time it runs). A block with several sc is not cached either (rare). */
                if (sc.fence_i)
                    bc_forget(h);
                s = &h->none;
            } else {
                s->gen = (uint16_t)h->gen;
                if (sc.nsc)
                    h->sc[s - h->tab] = sc.sc[0];
            }
            s->pc = sc.nsc && s != &h->none ? pc | 1 : pc;
            s->size = size;
            s->n = (uint16_t)sc.n;
        }
    }
    if (sc.nsc && check_sc(h, pc, size, sc.sc, sc.nsc))
        return;
    charge(h, s, pc, size);
}

/* A cached block with one sc (its slot holds pc | 1): check the sc, then charge. The common
 * case first: a clean, aligned sc in a block that fits. */
static __attribute__((noinline)) void block_sc(struct bc_hart *h, struct slot *s, uint64_t pc,
                                               uint32_t size)
{
    uint32_t d = h->sc[s - h->tab];
    if (h->running && h->gpr != NULL && SC_CLEAN(d) && !(h->gpr[SC_RS1(d)] & SC_MASK(d))
            && s->n <= h->left)
        h->sc_checks++;
    else if (check_sc(h, pc, size, &d, 1))
        return;
    charge(h, s, pc, size);
}

void bc_block(uc_engine *uc, uint64_t pc, uint32_t size, void *data)
{
    struct bc_hart *h = data;
    struct slot *s = &h->tab[((pc >> 1) ^ (pc >> 13)) & (SLOTS - 1)];
    (void)uc;
    if (__builtin_expect(s->pc == pc && s->size == size && s->gen == h->gen && s->n <= h->left, 1)) {
        h->left -= s->n;
        h->last = s;
        return;
    }
    if (s->pc == (pc | 1) && s->size == size && s->gen == h->gen)
        block_sc(h, s, pc, size);
    else
        block_slow(h, s, pc, size);
}

/* A block hook that does nothing: make bench measures it as the floor of any block counter. */
void bc_empty(uc_engine *uc, uint64_t pc, uint32_t size, void *data)
{
    (void)uc, (void)pc, (void)size, (void)data;
}

/* UC_HOOK_INTR: record the cause and end the run (the kernel acts after it returns). */
void bc_intr(uc_engine *uc, uint32_t intno, void *data)
{
    struct bc_hart *h = data;
    h->cause = (int32_t)intno;
    h->emu_stop(uc);
}

/* Drop translated blocks overlapping virtual [begin, end), a page at a time (unicorn
 * translates only the start of the range it is given). */
static void remove_cache(struct bc_hart *h, uint64_t begin, uint64_t end)
{
    while (begin < end) {
        uint64_t page_end = (begin | 0xFFF) + 1;
        uint64_t e = end < page_end ? end : page_end;
        h->ctl(h->uc, UC_CTL_WRITE(UC_CTL_TB_REMOVE_CACHE, 2), begin, e);
        begin = e;
    }
}

/* Run the first r instructions of the block at stop_pc with an `until` address (the
 * public-API finish). `until` is seen only by blocks translated while it is set, so the
 * blocks around it are dropped before, and dropped again after: a block translated with
 * an exit in it would end every later run there. */
static uc_err finish_until(struct bc_hart *h, int64_t r)
{
    uint8_t buf[MAX_BLOCK + 2];
    uint64_t b = h->stop_pc;
    if (h->stop_size > MAX_BLOCK || !read_code(h, b, buf, h->stop_size)) {
        h->fault = FAULT_UNREADABLE;
        return UC_ERR_OK;
    }
    uint32_t off = 0;
    for (int64_t k = 0; k < r && off < h->stop_size; k++)
        off += (buf[off] & 3) == 3 ? 4 : 2;
    uint64_t s = b + off;
    remove_cache(h, b, s + 2);
    uc_err err = h->emu_start(h->uc, b, s, 0, 0);
    remove_cache(h, b, s + 2);
    return err;
}

/* Instructions the run retired, given the PC unicorn left after a trap or an error.
 * Returns 0, or 1 when the trap is an invalid 16-bit instruction that the budget does not
 * reach (the caller turns it into a budget stop). */
static int settle_trap(struct bc_hart *h, uc_err err, uint64_t counted, int64_t left)
{
    /* the INTR hook sees the PC already advanced by 4; an error leaves it on the instruction */
    uint64_t epc = err == UC_ERR_OK ? h->pc - 4 : h->pc;
    int fetch = err == UC_ERR_OK ? (h->cause == CAUSE_INSN_PAGE || h->cause == CAUSE_INSN_ACCESS)
                                 : (err == UC_ERR_FETCH_UNMAPPED || err == UC_ERR_FETCH_PROT);
    struct slot *last = h->last;
    uint64_t start = last->size ? last->pc & ~1ull : last->pc;    /* a block with an sc: pc | 1 */
    h->executed = counted;
    if (fetch)
        return 0;                       /* fetched between blocks: the last one ran whole */
    if (epc >= start && epc < start + last->size) {
        uint8_t buf[MAX_BLOCK + 2];
        uint32_t upto = (uint32_t)(epc - start);
        if (!read_code(h, start, buf, upto + 2)) {
            h->fault = FAULT_UNREADABLE;
            return 0;
        }
        h->executed = counted - last->n + count_upto(buf, upto);
        return 0;
    }
    if (start + last->size == epc) {
        /* unicorn leaves an invalid 16-bit instruction out of its block's size (translate.c,
         * decode_opc); count mode counts it, or stops before it when the budget is spent */
        if (left > 0) {
            h->executed = counted + 1;
            return 0;
        }
        return 1;
    }
    return 0;
}

/* Run from the PC for at most budget instructions. Returns the instructions retired when
 * the run ended on its budget (the resume PC in h->pc), else -1: then h->cause (a trap, with
 * h->pc and h->executed), h->err (unicorn failed) or h->fault (the counter failed) says why.
 * A trap that is an ecall also reads the PC and the syscall registers into h->ecall. */
int64_t bc_run(struct bc_hart *h, int64_t budget)
{
    uint64_t pc;
    h->reg_read(h->uc, UC_RISCV_REG_PC, &pc);
    h->cause = -1;
    h->fault = FAULT_NONE;
    h->err = UC_ERR_OK;
    if (budget <= 0) {
        h->pc = pc;
        h->executed = 0;
        return 0;
    }
    h->left = budget;
    h->none.pc = 1;                     /* odd: no trap is reported there */
    h->none.size = h->none.n = 0;
    h->last = &h->none;
    h->stopped = h->split = h->sc_trap = 0;
    h->refit = 1;
    h->running = 1;
    uc_err err = h->emu_start(h->uc, pc, UNTIL_NEVER, 0, 0);
    while (err == UC_ERR_OK && h->cause < 0 && h->stopped && !h->fault && (h->split || h->left > 0)) {
        /* run the first r instructions of the block at stop_pc: the rest of the budget, or
         * those before an sc (a split) */
        int64_t before = h->left, r = h->split ? h->split : h->left;
        int split = h->split != 0;
        h->stopped = h->split = 0;
        h->finishes++;
        if (h->cflags_next != NULL) {
            *h->cflags_next = (int32_t)r;           /* the next block: at most r instructions */
            err = h->emu_start(h->uc, h->stop_pc, UNTIL_NEVER, 0, 0);
            *h->cflags_next = -1;
        } else {
            err = finish_until(h, r);
            if (split && err == UC_ERR_OK && h->cause < 0 && !h->stopped && !h->fault) {
                h->reg_read(h->uc, UC_RISCV_REG_PC, &pc);   /* on the sc: go on from there */
                err = h->emu_start(h->uc, pc, UNTIL_NEVER, 0, 0);
            }
        }
        if (h->left == before && h->cause < 0 && err == UC_ERR_OK && !h->fault)
            h->fault = FAULT_NO_PROGRESS;
    }
    h->running = 0;
    if (h->cflags_next != NULL)
        *h->cflags_next = -1;           /* an in-run finish the run did not reach */
    uint64_t counted = (uint64_t)(budget - h->left);
    int64_t left = h->left;
    h->left = IDLE;
    h->err = err;
    if (h->cause == CAUSE_ECALL_U && err == UC_ERR_OK) {
        for (int i = 0; i < 8; i++)
            h->reg_read(h->uc, h->ecall_regs[i], &h->ecall[i]);
        h->pc = h->ecall[0];
    } else {
        h->reg_read(h->uc, UC_RISCV_REG_PC, &h->pc);
    }
    if (err == UC_ERR_OK && h->cause < 0) {
        h->executed = counted;
        return h->fault ? -1 : (int64_t)counted;
    }
    if (h->sc_trap && err == UC_ERR_OK && h->cause == CAUSE_STORE_MISALIGNED) {
        h->executed = counted;          /* the sc included */
        h->pc = h->stop_pc + 4;         /* as unicorn reports a trap: the PC advanced by 4 */
        return -1;
    }
    if (settle_trap(h, err, counted, left)) {
        h->pc -= 4;                     /* a budget stop on the invalid instruction */
        h->reg_write(h->uc, UC_RISCV_REG_PC, &h->pc);
        h->cause = -1;
        return h->fault ? -1 : (int64_t)h->executed;
    }
    return -1;
}
