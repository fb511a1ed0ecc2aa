"""Sv39 as the RISC-V privileged spec defines it (the format the emulated MMU walks).

The kernel builds page tables in this format; the hardware (unicorn) walks them. `walk` is
the walk itself (the kernel's, the hardware's `translate`, the debugger's); `spans` cuts an
access at page boundaries for whoever copies through page tables.
"""
PAGE_SIZE = 4096
PAGE_SHIFT = 12
LEVELS = 3
PTES_PER_TABLE = 512

PTE_V = 1 << 0
PTE_R = 1 << 1
PTE_W = 1 << 2
PTE_X = 1 << 3
PTE_U = 1 << 4
PTE_G = 1 << 5
PTE_A = 1 << 6
PTE_D = 1 << 7
PTE_RSW0 = 1 << 8          # reserved for software; the hardware ignores it
PTE_PPN_SHIFT = 10

SATP_MODE_SV39 = 8 << 60
SATP_ASID_SHIFT = 44
VA_BITS = 39


def make_satp(root_pa: int, asid: int = 0) -> int:
    return SATP_MODE_SV39 | (asid << SATP_ASID_SHIFT) | (root_pa >> PAGE_SHIFT)


def satp_root(satp: int) -> int:
    return (satp & ((1 << 44) - 1)) << PAGE_SHIFT


def pte_pa(pte: int) -> int:
    return (pte >> PTE_PPN_SHIFT) << PAGE_SHIFT


def pa_to_pte(pa: int, flags: int) -> int:
    return ((pa >> PAGE_SHIFT) << PTE_PPN_SHIFT) | flags


def vpn(va: int, level: int) -> int:
    return (va >> (PAGE_SHIFT + 9 * level)) & 0x1FF


def canonical(va: int) -> bool:
    """Sv39 requires bits 63..39 to equal bit 38."""
    top = va >> (VA_BITS - 1)
    return top == 0 or top == (1 << (64 - VA_BITS + 1)) - 1


def leaf(mem, satp: int, va: int):
    """(level, PTE) of the leaf the hardware walk finds for va (a superpage's too), or None."""
    if not canonical(va):
        return None
    last = None
    for last in walk(mem, satp_root(satp), va):
        pass
    if last is None or not last[2] & PTE_V or not last[2] & (PTE_R | PTE_X):
        return None
    return last[0], last[2]


def leaf_pte(mem, satp: int, va: int) -> int:
    """The leaf PTE the hardware walk finds for va, or 0."""
    found = leaf(mem, satp, va)
    return found[1] if found is not None else 0


def translate(mem, satp: int, va: int):
    """Walk like the hardware does: returns the physical address or None if unmapped.

    Superpages are honoured; permission bits are not checked (callers only read).
    """
    found = leaf(mem, satp, va)
    if found is None:
        return None
    level, pte = found
    span = PAGE_SIZE << (9 * level)
    return (pte_pa(pte) & ~(span - 1)) | (va & (span - 1))


def walk(mem, root: int, va: int, alloc=None):
    """The Sv39 walk from the root table at physical address root, the one copy of it: yields
    (level, PTE address, PTE) for each entry visited, from level 2 down, and stops after a
    leaf (a valid entry with R or X: level 0, or a superpage), an invalid entry, or before an
    entry outside RAM. alloc: fn() -> the physical address of a zeroed frame; an invalid
    entry above level 0 then gets a new table (the walk goes on through it)."""
    table = root
    for level in (2, 1, 0):
        pte_addr = table + 8 * vpn(va, level)
        if not mem.contains(pte_addr, 8):
            return
        pte = mem.read64(pte_addr)
        if level and alloc is not None and not pte & PTE_V:
            pte = pa_to_pte(alloc(), PTE_V)
            mem.write64(pte_addr, pte)
        yield level, pte_addr, pte
        if not pte & PTE_V or pte & (PTE_R | PTE_X):
            return
        table = pte_pa(pte)


def spans(va: int, n: int):
    """[va, va+n) cut at page boundaries, the one copy of that loop: yields (address,
    length) of each piece, in order."""
    end = va + n
    while va < end:
        chunk = min(end - va, PAGE_SIZE - (va & (PAGE_SIZE - 1)))
        yield va, chunk
        va += chunk
