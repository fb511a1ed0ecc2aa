"""Sv39 as the RISC-V privileged spec defines it (the format the emulated MMU walks).

The kernel builds page tables in this format; the hardware (unicorn) walks them.
`translate` is the hardware walk, used by the emulator to fetch a faulting instruction.
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


def leaf_pte(mem, satp: int, va: int) -> int:
    """The leaf PTE the hardware walk finds for va (a superpage's too), or 0."""
    if not canonical(va):
        return 0
    table = satp_root(satp)
    for _level in (2, 1, 0):
        pte_addr = table + 8 * vpn(va, _level)
        if not mem.contains(pte_addr, 8):
            return 0
        pte = mem.read64(pte_addr)
        if not pte & PTE_V:
            return 0
        if pte & (PTE_R | PTE_X):
            return pte
        table = pte_pa(pte)
    return 0


def translate(mem, satp: int, va: int):
    """Walk like the hardware does: returns the physical address or None if unmapped.

    Superpages are honoured; permission bits are not checked (callers only read).
    """
    if not canonical(va):
        return None
    table = satp_root(satp)
    for level in (2, 1, 0):
        pte_addr = table + 8 * vpn(va, level)
        if not mem.contains(pte_addr, 8):
            return None
        pte = mem.read64(pte_addr)
        if not pte & PTE_V:
            return None
        if pte & (PTE_R | PTE_X):
            span = PAGE_SIZE << (9 * level)
            return (pte_pa(pte) & ~(span - 1)) | (va & (span - 1))
        table = pte_pa(pte)
    return None
