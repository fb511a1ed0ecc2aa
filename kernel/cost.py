"""The cost table: virtual cycles (1 cycle = 1 ns) charged for kernel work.

User instructions are counted exactly by the hart; kernel work, which runs in Python, is
charged from this one table. The figures are instruction counts of the same paths in
xv6-riscv, rounded (see docs/costs.md for how each was derived).
"""

TRAP_ENTRY = 60           # uservec: save 31 registers + csrs, load kernel satp/sp, jump
TRAP_EXIT = 60            # usertrapret + userret: restore 31 registers, sret
SYSCALL_DISPATCH = 30     # syscall(): table lookup, argument fetch, return value store
KTHREAD_SWITCH = 120      # swtch (14 saves + 14 restores) + scheduler loop and locks
ASPACE_SWITCH = 20        # csrw satp + sfence.vma
TLB_REFILL = 400          # ~10 TLB misses x 3-level walk after a flush, amortised
PAGE_ZERO = 600           # 512 sd + loop
PAGE_COPY = 1100          # 512 ld + 512 sd + loop
PAGE_FAULT = 150          # fault decode, VMA lookup, PTE install (besides zero/copy)
PTE_COPY = 8              # per PTE visited by fork's page-table copy
BYTE_COPY_DIV = 8         # copyin/copyout: one cycle per 8 bytes moved (ld/sd loop)
PROC_CREATE = 400         # allocproc: table scan, init, fd table copy
LWP_CREATE = 250          # allocproc's thread part: control block, kernel stack page, context
EXEC_BASE = 2000          # exec: ELF header checks, stack setup (plus page costs)
CONSOLE_BYTE = 20         # UART register write per output byte
BIO_LOOKUP = 40           # bget: hash lookup of the block + LRU list update
DISK_SUBMIT = 150         # virtio_disk_rw: fill the descriptors, update the ring, MMIO notify
DISK_INTR = 100           # virtio_disk_intr: trap in, claim, walk the used ring, wakeup, trap out
DIRENT_SCAN = 20          # dirlookup: test one entry's inum, compare its name
