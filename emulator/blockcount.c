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
 * - bc_run runs from the PC with a budget: an ordinary run (no per-instruction counting) that
 *   stops before the first block that does not fit, then an exact finish of the r
 *   instructions left: the next block is translated with at most r instructions through
 *   CPUState.cflags_next_tb (a private field located by a probe), or, when that field is
 *   not known, the run is ended at the address r instructions on with `until`. A run
 *   therefore retires exactly `budget` instructions unless it traps first.
 * - A trap in the middle of a block retires the instructions of that block up to and
 *   including the trapping one (the convention of unicorn's count mode, which counts an
 *   instruction before executing it); a fetch fault happens between blocks, so every
 *   block entered ran whole.
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

enum { CAUSE_INSN_ACCESS = 1, CAUSE_ECALL_U = 8, CAUSE_INSN_PAGE = 12 };

enum { FAULT_NONE = 0, FAULT_UNREADABLE = 1, FAULT_NO_PROGRESS = 2 };

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
    uint64_t misses, finishes;
    /* the run in progress */
    int64_t left;                       /* budget not yet charged; IDLE outside bc_run */
    struct slot *last;                  /* the last block entered (its cache slot) */
    uint64_t stop_pc;                   /* the block the hook stopped before, and its size */
    uint32_t stop_size;
    uint32_t stopped;                   /* the hook stopped the run */
    uint32_t gen;                       /* generation of the count cache (16 bits used) */
    struct slot none;                   /* "last" before any block, or an empty block */
    struct slot tab[SLOTS];
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
    out[7] = offsetof(struct bc_hart, ecall_regs);
}

/* A new state (zeroed memory): idle, with an empty cache. */
void bc_init(struct bc_hart *h)
{
    h->left = IDLE;
    h->gen = 1;
    h->last = &h->none;
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
    uint32_t i = 0, n = 0;
    while (i <= upto) {
        n++;
        i += (b[i] & 3) == 3 ? 4 : 2;
    }
    return n;
}

/* Does the block b[0, size) hold a fence.i (MISC-MEM, funct3 1; it has no 16-bit form)? */
static int has_fence_i(const uint8_t *b, uint32_t size)
{
    for (uint32_t i = 0; i + 1 < size; i += (b[i] & 3) == 3 ? 4 : 2)
        if ((b[i] & 3) == 3 && i + 3 < size
                && ((b[i] | b[i + 1] << 8) & 0x707F) == 0x100F)
            return 1;
    return 0;
}

static int read_code(struct bc_hart *h, uint64_t pc, uint8_t *buf, uint32_t len)
{
    return h->vmem_read(h->uc, pc, UC_PROT_EXEC, buf, len) == UC_ERR_OK;
}

/* The hook's slow path: a count not cached yet, or a block that does not fit. */
static __attribute__((noinline)) void block_slow(struct bc_hart *h, struct slot *s, uint64_t pc,
                                                 uint32_t size)
{
    uint8_t buf[MAX_BLOCK + 2];
    if (!(s->pc == pc && s->size == size && s->gen == h->gen)) {
        h->misses++;
        if (size == 0) {                /* a block that is one invalid 16-bit instruction */
            s = &h->none;
            s->pc = pc;
            s->size = 0;
            s->n = 0;
        } else if (size > MAX_BLOCK || !read_code(h, pc, buf, size)) {
            h->fault = FAULT_UNREADABLE;    /* it was just translated from these bytes */
            goto stop;
        } else if (has_fence_i(buf, size)) {
            /* Code written before a fence.i must run after it, and unicorn retranslates code
             * the hart itself rewrote: the cached counts may describe old code. Forget them,
             * and keep this block out of the cache (it forgets again each time it runs). */
            bc_forget(h);
            s = &h->none;
            s->pc = pc;
            s->size = size;
            s->n = (uint16_t)count_upto(buf, size - 1);
        } else {
            s->pc = pc;
            s->size = size;
            s->n = (uint16_t)count_upto(buf, size - 1);
            s->gen = (uint16_t)h->gen;
        }
    }
    if ((int64_t)s->n <= h->left) {
        h->left -= s->n;
        h->last = s;
        return;
    }
stop:
    h->stopped = 1;
    h->stop_pc = pc;
    h->stop_size = size;
    h->emu_stop(h->uc);
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

/* Run the r = h->left instructions of the block at stop_pc with an `until` address (the
 * public-API finish). `until` is seen only by blocks translated while it is set, so the
 * blocks around it are dropped before, and dropped again after: a block translated with
 * an exit in it would end every later run there. */
static uc_err finish_until(struct bc_hart *h)
{
    uint8_t buf[MAX_BLOCK + 2];
    uint64_t b = h->stop_pc;
    if (h->stop_size > MAX_BLOCK || !read_code(h, b, buf, h->stop_size)) {
        h->fault = FAULT_UNREADABLE;
        return UC_ERR_OK;
    }
    uint32_t off = 0;
    for (int64_t k = 0; k < h->left && off < h->stop_size; k++)
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
    h->executed = counted;
    if (fetch)
        return 0;                       /* fetched between blocks: the last one ran whole */
    if (epc >= last->pc && epc < last->pc + last->size) {
        uint8_t buf[MAX_BLOCK + 2];
        uint32_t upto = (uint32_t)(epc - last->pc);
        if (!read_code(h, last->pc, buf, upto + 2)) {
            h->fault = FAULT_UNREADABLE;
            return 0;
        }
        h->executed = counted - last->n + count_upto(buf, upto);
        return 0;
    }
    if (last->pc + last->size == epc) {
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
    h->stopped = 0;
    uc_err err = h->emu_start(h->uc, pc, UNTIL_NEVER, 0, 0);
    while (err == UC_ERR_OK && h->cause < 0 && h->stopped && h->left > 0 && !h->fault) {
        int64_t before = h->left;
        h->stopped = 0;
        h->finishes++;
        if (h->cflags_next != NULL) {
            *h->cflags_next = (int32_t)h->left;   /* the next block: at most left instructions */
            err = h->emu_start(h->uc, h->stop_pc, UNTIL_NEVER, 0, 0);
            *h->cflags_next = -1;
        } else {
            err = finish_until(h);
        }
        if (h->left == before && h->cause < 0 && err == UC_ERR_OK && !h->fault)
            h->fault = FAULT_NO_PROGRESS;
    }
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
    if (settle_trap(h, err, counted, left)) {
        h->pc -= 4;                     /* a budget stop on the invalid instruction */
        h->reg_write(h->uc, UC_RISCV_REG_PC, &h->pc);
        h->cause = -1;
        return h->fault ? -1 : (int64_t)h->executed;
    }
    return -1;
}
