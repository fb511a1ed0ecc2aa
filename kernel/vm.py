"""Address spaces: Sv39 page tables in guest RAM, regions, demand paging, COW, copyin/copyout.

An AddressSpace owns a root page-table frame, the intermediate tables under it and a list
of Regions (sorted, disjoint, page-aligned). A user page is present in the page table only
after it was touched (demand zero) or loaded by exec. Writable private pages shared after
fork are mapped read-only with PTE_COW; the first write copies them (or takes them over
when the refcount is 1).

TLB rule: unicorn refills a TLB entry whose permission is missing, so adding a mapping or
upgrading RO->RW needs no flush; removing or downgrading one does, and so does moving a
page to another frame (a COW copy: the other harts running this address space may hold a
read-only entry for the old frame). shootdown() flushes every hart that runs it; the
others flush when they next load its satp.
"""
import bisect
from dataclasses import dataclass

from emulator import mmu
from emulator.mmu import PAGE_SIZE, PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X

from . import cost, params
from .kalloc import OutOfMemory

PTE_COW = mmu.PTE_RSW0
PROT_R, PROT_W, PROT_X = PTE_R, PTE_W, PTE_X
_LEAF_FLAGS = PTE_V | PTE_U | PTE_A | PTE_D


def page_down(a: int) -> int:
    return a & ~(PAGE_SIZE - 1)


def page_up(a: int) -> int:
    return (a + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)


@dataclass
class Region:
    start: int
    end: int
    prot: int          # PROT_R|PROT_W|PROT_X
    kind: str          # "text", "data", "heap", "stack", "mmap"


class Fault(Exception):
    """A user address the kernel touched is not valid for that access."""

    def __init__(self, va):
        super().__init__(hex(va))
        self.va = va


class AddressSpace:
    def __init__(self, kernel):
        self.k = kernel
        self.kalloc = kernel.kalloc
        self.mem = kernel.machine.mem
        self.root = self.kalloc.alloc()
        self.tables = [self.root]          # every page-table frame, for destroy()
        self.regions = []                  # sorted by start
        self.brk_start = self.brk = 0
        self.satp = mmu.make_satp(self.root)

    # ---- regions ----
    def find(self, va: int):
        i = bisect.bisect_right([r.start for r in self.regions], va) - 1
        if i >= 0 and va < self.regions[i].end:
            return self.regions[i]
        return None

    def add_region(self, start, end, prot, kind) -> Region:
        r = Region(start, end, prot, kind)
        self.regions.append(r)
        self.regions.sort(key=lambda x: x.start)
        return r

    def overlaps(self, start, end) -> bool:
        return any(r.start < end and start < r.end for r in self.regions)

    def free_gap(self, length: int, top: int):
        """Highest page-aligned [a, a+length) below top not overlapping any region."""
        a = page_down(top - length)
        for r in sorted(self.regions, key=lambda x: -x.start):
            if r.start >= a + length:
                continue
            if r.end <= a:
                break
            a = page_down(r.start - length)
        return a if a >= params.USER_MIN else None

    # ---- page table ----
    def walk(self, va: int, alloc: bool):
        """Address of the level-0 PTE for va, creating tables if alloc; None if absent."""
        table = self.root
        for level in (2, 1):
            pte_addr = table + 8 * mmu.vpn(va, level)
            pte = self.mem.read64(pte_addr)
            if pte & PTE_V:
                table = mmu.pte_pa(pte)
            elif not alloc:
                return None
            else:
                table = self.kalloc.alloc()
                self.tables.append(table)
                self.mem.write64(pte_addr, mmu.pa_to_pte(table, PTE_V))
        return table + 8 * mmu.vpn(va, 0)

    def present(self, start: int, end: int):
        """(va, pte_address, pte) of every present leaf in [start, end), skipping absent
        subtrees, so a sparse 1 GiB region costs what its present pages cost."""
        def level(table, lvl, base):
            span = PAGE_SIZE << (9 * lvl)
            lo = max(0, (start - base) // span)
            hi = min(512, -(-(end - base) // span))
            for i in range(lo, hi):
                a = table + 8 * i
                pte = self.mem.read64(a)
                if not pte & PTE_V:
                    continue
                va = base + i * span
                if lvl == 0:
                    yield va, a, pte
                else:
                    yield from level(mmu.pte_pa(pte), lvl - 1, va)
        yield from level(self.root, 2, 0)

    def pte(self, va: int) -> int:
        a = self.walk(va, False)
        return self.mem.read64(a) if a is not None else 0

    def map_page(self, va: int, pa: int, prot: int, cow: bool = False) -> None:
        a = self.walk(va, True)
        flags = _LEAF_FLAGS | (prot & ~PTE_W if cow else prot) | (PTE_COW if cow else 0)
        self.mem.write64(a, mmu.pa_to_pte(pa, flags))
        if prot & PTE_X:
            self.kalloc.mark_code(pa)

    def unmap_range(self, start: int, end: int) -> int:
        """Drop the pages of [start, end); returns how many were present."""
        n = 0
        for _va, a, pte in list(self.present(start, end)):
            self.mem.write64(a, 0)
            self.kalloc.decref(mmu.pte_pa(pte))
            n += 1
        if n:
            self.shootdown()
        return n

    def remove_range(self, start: int, end: int) -> None:
        """Unmap [start, end) and cut it out of the region list."""
        self.unmap_range(start, end)
        out = []
        for r in self.regions:
            if r.end <= start or r.start >= end:
                out.append(r)
                continue
            if r.start < start:
                out.append(Region(r.start, start, r.prot, r.kind))
            if r.end > end:
                out.append(Region(end, r.end, r.prot, r.kind))
        self.regions = sorted(out, key=lambda x: x.start)

    def protect(self, start: int, end: int, prot: int) -> None:
        """Set the protection of [start, end) (whole regions or parts of them)."""
        pieces = []
        for r in self.regions:
            if r.end <= start or r.start >= end:
                pieces.append(r)
                continue
            lo, hi = max(r.start, start), min(r.end, end)
            if r.start < lo:
                pieces.append(Region(r.start, lo, r.prot, r.kind))
            pieces.append(Region(lo, hi, prot, r.kind))
            if hi < r.end:
                pieces.append(Region(hi, r.end, r.prot, r.kind))
            for va, _a, pte in list(self.present(lo, hi)):
                cow = bool(pte & PTE_COW) and bool(prot & PTE_W)
                self.map_page(va, mmu.pte_pa(pte), prot, cow=cow)
        self.regions = sorted(pieces, key=lambda x: x.start)
        self.shootdown()

    # ---- faults ----
    def fault(self, va: int, access: int) -> bool:
        """Resolve a page fault for `access` (PROT_R/W/X); False means the access is invalid.
        Raises OutOfMemory when a frame is needed and none is left."""
        if not 0 <= va < params.USER_TOP:
            return False
        r = self.find(va)
        if r is None or not r.prot & access:
            return False
        va = page_down(va)
        self.k.charge(cost.PAGE_FAULT)
        a = self.walk(va, True)
        pte = self.mem.read64(a)
        if not pte & PTE_V:
            self.map_page(va, self.kalloc.alloc(), r.prot)
            return True
        if access == PROT_W and pte & PTE_COW:
            old = mmu.pte_pa(pte)
            if self.kalloc.refcount(old) == 1:
                self.map_page(va, old, r.prot)
            else:
                new = self.kalloc.alloc()
                self.mem.copy(new, old, PAGE_SIZE)
                self.k.charge(cost.PAGE_COPY)
                self.map_page(va, new, r.prot)
                self.kalloc.decref(old)
                self.shootdown()
            return True
        return False               # present, and the region forbids it: a real violation

    def shootdown(self) -> None:
        """A mapping of this address space was removed, downgraded or moved to another
        frame: flush the TLB of every hart that runs it now."""
        for c in self.k.sched.cpus:
            if c.aspace is self:
                c.hart.flush_tlb()

    def resolve(self, va: int, access: int) -> int:
        """Physical address of user va for a kernel access, faulting the page in."""
        pte = self.pte(va)
        ok = pte & PTE_V and pte & PTE_U and (pte & access) and not (access == PROT_W and pte & PTE_COW)
        if not ok:
            try:
                if not self.fault(va, access):
                    raise Fault(va)
            except OutOfMemory:
                raise Fault(va) from None
            pte = self.pte(va)
        return mmu.pte_pa(pte) | (va & (PAGE_SIZE - 1))

    def resolve_present(self, va: int) -> int:
        """Physical address of va in a page the kernel itself mapped (exec)."""
        return mmu.pte_pa(self.pte(va)) | (va & (PAGE_SIZE - 1))

    def check(self, va: int, n: int, access: int) -> None:
        """Raise Fault unless [va, va+n) lies in regions allowing access (no paging in)."""
        if n < 0 or va < 0 or va + n > params.USER_TOP:
            raise Fault(va)
        cur = va
        while cur < va + n:
            r = self.find(cur)
            if r is None or not r.prot & access:
                raise Fault(cur)
            cur = r.end

    # ---- copyin/copyout: the only way the kernel touches user memory ----
    def copyin(self, va: int, n: int) -> bytes:
        if n < 0 or va < 0 or va + n > params.USER_TOP:
            raise Fault(va)
        out = bytearray()
        while len(out) < n:
            cur = va + len(out)
            pa = self.resolve(cur, PROT_R)
            chunk = min(n - len(out), PAGE_SIZE - (cur & (PAGE_SIZE - 1)))
            out += self.mem.read(pa, chunk)
        self.k.charge(n // cost.BYTE_COPY_DIV)
        return bytes(out)

    def copyout(self, va: int, data) -> None:
        n = len(data)
        if va < 0 or va + n > params.USER_TOP:
            raise Fault(va)
        done = 0
        while done < n:
            cur = va + done
            pa = self.resolve(cur, PROT_W)
            chunk = min(n - done, PAGE_SIZE - (cur & (PAGE_SIZE - 1)))
            self.mem.write(pa, data[done:done + chunk])
            done += chunk
        self.k.charge(n // cost.BYTE_COPY_DIV)

    def copyinstr(self, va: int, maxlen: int) -> bytes:
        """NUL-terminated string at va (without the NUL); Fault, or None if longer than maxlen."""
        out = bytearray()
        while len(out) < maxlen:
            cur = va + len(out)
            if not 0 <= cur < params.USER_TOP:
                raise Fault(cur)
            pa = self.resolve(cur, PROT_R)
            chunk = self.mem.read(pa, min(maxlen - len(out), PAGE_SIZE - (cur & (PAGE_SIZE - 1))))
            i = chunk.find(b"\0")
            if i >= 0:
                out += chunk[:i]
                self.k.charge(len(out) // cost.BYTE_COPY_DIV)
                return bytes(out)
            out += chunk
        return None

    # ---- fork and teardown ----
    def fork(self):
        """A copy-on-write duplicate. Raises OutOfMemory (after cleaning up) if frames run out."""
        child = AddressSpace(self.k)
        child.regions = [Region(r.start, r.end, r.prot, r.kind) for r in self.regions]
        child.brk_start, child.brk = self.brk_start, self.brk
        downgraded = False
        try:
            for r in self.regions:
                for va, _a, pte in list(self.present(r.start, r.end)):
                    self.k.charge(cost.PTE_COPY)
                    pa = mmu.pte_pa(pte)
                    cow = bool(r.prot & PTE_W)
                    if cow and pte & PTE_W:
                        self.map_page(va, pa, r.prot, cow=True)
                        downgraded = True
                    child.map_page(va, pa, r.prot, cow=cow)
                    self.kalloc.incref(pa)
        except OutOfMemory:
            child.destroy()
            raise
        finally:
            if downgraded:
                self.shootdown()
        return child

    def destroy(self) -> None:
        self.unmap_range(0, params.USER_TOP)
        self.regions = []
        for t in self.tables:
            self.kalloc.decref(t)
        self.tables = []

    def resident_pages(self) -> int:
        return sum(1 for _ in self.present(0, params.USER_TOP))
