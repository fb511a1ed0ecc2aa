"""Address spaces: Sv39 page tables in guest RAM, regions, demand paging, COW, W^X, copyin/copyout.

An AddressSpace owns a root page-table frame, the tables under it and a RegionMap (vma.py)
of sorted, disjoint, page-aligned regions. A user page is present only after it was
touched: it then gets a zeroed frame, or, in a region backed by the executable's file
(exec.py), a frame filled from the file by the faulting thread (which may sleep on the disk).

Invariants of every present leaf PTE (_perm computes them for faults, fork and mprotect):
- Private frames. A PTE grants W only while its frame's refcount is 1, unless the frame is
  shared memory (MAP_SHARED: in k.shm.owner), never copied on write. A frame shared after
  fork (or the signal trampoline, shared by every process) is mapped without W, whatever its
  region's protection was at fork or is now; the first write where the region allows it
  copies the frame, or takes it over once the refcount is back to 1. So a page made writable
  later (mprotect) never writes a shared frame. PTE_COW marks a PTE whose W is withheld for
  this reason (the debugger shows it; the fault path decides by the refcount).
- W^X, for code coherence. Each hart keeps the code it translated until the kernel drops it,
  and does not notice stores by other harts or by the kernel. So no PTE grants both W and X:
  a page of a region allowing both is mapped in W mode (R, W) or X mode (R, X); a store to an
  X-mode page faults and switches it to W mode, a fetch from a W-mode page switches it to X
  mode, and granting W to a frame that may hold translated code first drops that code on
  every hart (kalloc.drop_code). Harts translate only from frames mapped X, and a frame is
  written only through a PTE granting W (user stores, and copyout, which faults like a
  store), so no hart runs a translation of bytes that changed since: not after a store by
  another hart, nor after read() into the page, nor after a move to another hart, whatever
  the program does with fence.i. mprotect adding X needs nothing more: the frame was last
  written while mapped W, which dropped its code. A private writable frame has one PTE (the
  rule above); a shared one (shm.py) may have PTEs in several address spaces, and W^X holds
  per frame: granting W through one PTE takes X from the others and granting X takes W
  (Shm.exclusive), so a frame is writable somewhere or executable somewhere, never both.
  The mode switches are an emulator artifact: the scheduler hands them to coherence()
  without entering the kernel, they cost no virtual time and are counted as "wx_faults", not
  as page faults. A store whose own instruction lies in the page it writes can run in neither
  mode: its hart runs the rest of its slice with the page W and X (_own_page), then the
  frame's code is dropped on every hart and the page mapped X again.

TLB rule: unicorn refills a TLB entry whose permission is missing, so adding a mapping or
upgrading it (adding W or X) needs no flush; removing or downgrading one does (a W^X switch
removes W or X), and so does moving a page to another frame (a COW copy: the other harts
running this address space may hold a read-only entry for the old frame). shootdown()
flushes every hart that runs it; the others flush when they next load its satp.
"""
from . import arch, params
from .arch import PAGE_SIZE, PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X
from .errno import ENOMEM, SysError
from .kalloc import OutOfMemory
from .vma import PROT_R, PROT_W, PROT_X, Region, RegionMap, allows, mergeable, page_down

PTE_COW = arch.PTE_SOFT
_RWX = PTE_R | PTE_W | PTE_X
_LEAF_FLAGS = PTE_V | PTE_U | PTE_A | PTE_D
WX_CAUSES = (arch.INSN_PAGE_FAULT, arch.STORE_PAGE_FAULT)     # the traps coherence() may absorb
_VALID = bytes(b & PTE_V for b in range(256))       # a PTE's low byte -> 1 if valid


class Fault(Exception):
    """A user address the kernel touched is not valid for that access."""

    def __init__(self, va):
        super().__init__(hex(va))
        self.va = va


class PageInError(Exception):
    """A file-backed page could not be read (an I/O error, or the file does not hold the
    bytes its program headers promise): the faulting thread gets SIGBUS, the kernel EFAULT."""


class AddressSpace:
    def __init__(self, kernel):
        self.k = kernel
        self.kalloc = kernel.kalloc
        self.mem = kernel.machine.mem
        self.root = self.kalloc.alloc()
        self.tables = [self.root]          # every page-table frame, for destroy()
        self.regions = RegionMap()
        self.backings = set()              # exec.FileBacking held by regions of this space
        self.brk_start = self.brk = 0
        self.satp = arch.make_satp(self.root)

    # ---- regions ----
    def find(self, va: int):
        return self.regions.find(va)

    def room(self, n: int) -> None:
        """SysError(ENOMEM) unless n more regions fit under params.MAX_MAP_COUNT."""
        if len(self.regions) + n > params.MAX_MAP_COUNT:
            raise SysError(ENOMEM)

    def add_region(self, start, end, prot, kind, backing=None, merge=False) -> Region:
        """Add [start, end), which overlaps no region. merge: extend an adjacent anonymous
        "mmap" region of the same protection instead, as Linux merges VMAs. SysError(ENOMEM)
        beyond params.MAX_MAP_COUNT regions."""
        if merge:
            below = self.find(start - 1) if start > 0 else None
            above = self.find(end)
            below = below if mergeable(below, prot) else None
            above = above if mergeable(above, prot) else None
            if below is not None and above is not None:
                self.regions.remove(above)
                self.regions.set_bounds(below, below.start, above.end)
                return below
            if below is not None or above is not None:
                r = below or above
                self.regions.set_bounds(r, min(r.start, start), max(r.end, end))
                return r
        self.room(1)
        r = Region(start, end, prot, kind, backing)
        self.regions.insert(r)
        if backing is not None and backing not in self.backings:
            backing.hold()
            self.backings.add(backing)
        return r

    def resize(self, r: Region, end: int) -> None:
        """Move region r's end up to end (brk); [r.end, end) overlaps nothing."""
        self.regions.set_bounds(r, r.start, end)

    def overlaps(self, start, end) -> bool:
        return bool(self.regions.overlapping(start, end))

    def free_gap(self, length: int, top: int):
        """Highest page-aligned [a, a+length) below top not overlapping any region."""
        return self.regions.free_gap(length, top)

    # ---- page table ----
    def walk(self, va: int, alloc: bool):
        """Address of the level-0 PTE for va, creating tables if alloc; None if absent."""
        level = a = None
        for level, a, _pte in arch.walk(self.mem, self.root, va, self._new_table if alloc else None):
            pass
        return a if level == 0 else None

    def _new_table(self) -> int:
        table = self.kalloc.alloc()
        self.tables.append(table)
        return table

    def present(self, start: int, end: int):
        """(va, pte_address, pte) of every present leaf in [start, end), skipping absent
        subtrees, so a sparse 1 GiB region costs what its present pages cost. The valid
        entries of a table are found in C (one byte per entry, then bytes.find), not by
        reading its 512 entries one by one."""
        def level(table, lvl, base):
            span = PAGE_SIZE << (9 * lvl)
            lo = max(0, (start - base) // span)
            hi = min(512, -(-(end - base) // span))
            valid = self.mem.read(table, PAGE_SIZE)[0::8].translate(_VALID)
            i = valid.find(1, lo, hi)
            while i >= 0:
                a = table + 8 * i
                pte = self.mem.read64(a)
                va = base + i * span
                if lvl == 0:
                    yield va, a, pte
                else:
                    yield from level(arch.pte_pa(pte), lvl - 1, va)
                i = valid.find(1, i + 1, hi)
        yield from level(self.root, 2, 0)

    def pte(self, va: int) -> int:
        a = self.walk(va, False)
        return self.mem.read64(a) if a is not None else 0

    def _perm(self, r: Region, pa: int, access: int, cur: int = 0):
        """(PTE permission bits, COW mark) for frame pa in region r after an access (PROT_*),
        or, with access 0, keeping the W^X mode of the present PTE cur."""
        prot = r.prot
        perm = prot & (PTE_R | PTE_X)
        cow = False
        if prot & PTE_W:
            perm |= PTE_R
            if self.kalloc.refcount(pa) == 1 or pa in self.k.shm.owner:
                perm |= PTE_W
            else:
                cow = True
            if prot & PTE_X:
                x_mode = access == PROT_X if access else bool(cur & PTE_X)
                perm &= ~PTE_W if x_mode else ~PTE_X
                cow = cow and not x_mode
        return perm, cow

    def _set(self, a: int, pa: int, perm: int, cow: bool = False) -> bool:
        """Write the leaf PTE at a. True if it took a permission away from a present PTE or
        moved it to another frame: the caller must shoot the TLBs down."""
        mappers = self.k.shm.owner.get(pa)
        if mappers is not None:                    # a shared frame: W^X across its PTEs
            mappers[a] = self
            self.k.shm.exclusive(mappers, a, perm)
        if perm & PTE_W:
            self.kalloc.drop_code(pa)
        if perm & PTE_X:
            self.kalloc.mark_code(pa)
        old = self.mem.read64(a)
        self.mem.write64(a, arch.pa_to_pte(pa, _LEAF_FLAGS | perm | (PTE_COW if cow else 0)))
        return bool(old & PTE_V) and (arch.pte_pa(old) != pa or bool(old & _RWX & ~perm))

    def map_page(self, va: int, pa: int, prot: int) -> None:
        """Map va to frame pa with exactly the permissions prot."""
        if self._set(self.walk(va, True), pa, prot):
            self.shootdown()

    def unmap_range(self, start: int, end: int) -> int:
        """Drop the pages of [start, end); returns how many were present."""
        n = 0
        owner = self.k.shm.owner
        for _va, a, pte in list(self.present(start, end)):
            self.mem.write64(a, 0)
            pa = arch.pte_pa(pte)
            if pa in owner:
                owner[pa].pop(a, None)
            self.kalloc.decref(pa)
            n += 1
        if n:
            self.shootdown()
        return n

    def remove_range(self, start: int, end: int) -> None:
        """Unmap [start, end) and cut it out of the regions it meets. SysError(ENOMEM), with
        nothing changed, if that splits a region and no more regions are allowed."""
        hit = self.regions.overlapping(start, end)
        if len(hit) == 1 and hit[0].start < start and hit[0].end > end:
            self.room(1)
        self.unmap_range(start, end)
        for r in hit:
            if r.start < start and r.end > end:
                old_end = r.end
                self.regions.set_bounds(r, r.start, start)
                self.regions.insert(Region(end, old_end, r.prot, r.kind, r.backing))
            elif r.start < start:
                self.regions.set_bounds(r, r.start, start)
            elif r.end > end:
                self.regions.set_bounds(r, end, r.end)
            else:
                self.regions.remove(r)

    def protect(self, start: int, end: int, prot: int) -> None:
        """Set the protection of [start, end) (whole regions or parts of them) and of its
        present pages. SysError(ENOMEM), with nothing changed, if the regions split at its
        ends would exceed params.MAX_MAP_COUNT."""
        hit = self.regions.overlapping(start, end)
        if hit:
            self.room((hit[0].start < start) + (hit[-1].end > end))
        flush = False
        for r in hit:
            lo, hi = max(r.start, start), min(r.end, end)
            first, last = r.start, r.end
            if first < lo or hi < last:
                self.regions.set_bounds(r, lo, hi)
                if first < lo:
                    self.regions.insert(Region(first, lo, r.prot, r.kind, r.backing))
                if hi < last:
                    self.regions.insert(Region(hi, last, r.prot, r.kind, r.backing))
            r.prot = prot
            for _va, a, pte in list(self.present(lo, hi)):
                pa = arch.pte_pa(pte)
                flush |= self._set(a, pa, *self._perm(r, pa, 0, pte))
        if flush:
            self.shootdown()

    # ---- faults ----
    def fault(self, va: int, access: int) -> bool:
        """Resolve a page fault for `access` (PROT_R/W/X); False means the access is invalid.
        Raises OutOfMemory when a frame is needed and none is left, PageInError when a
        file-backed page cannot be read. Reading a file-backed page may sleep."""
        if not 0 <= va < params.USER_TOP:
            return False
        va = page_down(va)
        if access == PROT_X and self.pte(va) & PTE_X:
            # unicorn reports a fetch fault of an instruction that straddles two pages at the
            # start of its translation block, on the first page: the next page is the one
            va += PAGE_SIZE
        r = self.find(va)
        if r is None or not allows(r.prot, access):
            return False
        a = self.walk(va, True)
        pte = self.mem.read64(a)
        if not pte & PTE_V:
            return self._page_in(r, va, a, access)
        if pte & access:
            return False               # present and already allowed: no fault to resolve
        pa = arch.pte_pa(pte)
        if access == PROT_W and self.kalloc.refcount(pa) > 1 and pa not in self.k.shm.owner:
            self.k.charge(self.k.cost.PAGE_FAULT)
            new = self.kalloc.alloc()
            self.mem.copy(new, pa, PAGE_SIZE)
            self.k.charge(self.k.cost.PAGE_COPY)
            self._set(a, new, *self._perm(r, new, PROT_W))
            self.kalloc.decref(pa)
            self.shootdown()
            return True
        perm, cow = self._perm(r, pa, access, pte)
        if not perm & access:
            return False
        if (perm ^ pte) & PTE_X:
            self.k.trap.stats["wx_faults"] += 1          # a W^X switch: free
        else:
            self.k.charge(self.k.cost.PAGE_FAULT)               # a COW frame taken over
        if self._set(a, pa, perm, cow):
            self.shootdown()
        return True

    def _page_in(self, r: Region, va: int, a: int, access: int) -> bool:
        """The first touch of page va of region r: a zeroed frame, filled from r's file if it
        has one. A read or exec fault on the file maps the other absent pages of the aligned
        window of FAULT_AROUND pages too (Linux's fault-around), read in one request. True
        also when the page changed while the file was read (the access is then retried)."""
        self.k.charge(self.k.cost.PAGE_FAULT)
        if r.backing is None:
            pa = self.kalloc.alloc()
            self._set(a, pa, *self._perm(r, pa, access))
            return True
        if self.k.sched.cur is None:
            return False               # event context cannot sleep on the disk
        if r.backing.shared:           # the object's own frame (may sleep reading the file)
            pa = r.backing.obj.frame(r.backing.index(va))
            if self.find(va) is not r or self.mem.read64(a) & PTE_V:
                return True            # changed while the file was read: retry
            self.kalloc.incref(pa)
            self._set(a, pa, *self._perm(r, pa, access))
            return True
        if va >= r.backing.valid_end(va):
            raise PageInError("the page lies past the end of the file")
        lo, hi = va, va + PAGE_SIZE
        if access != PROT_W:
            span = params.FAULT_AROUND * PAGE_SIZE
            lo, hi = max(r.start, va & -span), min(r.end, (va & -span) + span, r.backing.valid_end(va))
        parts = r.backing.pages(lo, hi)
        if self.find(va) is not r or self.mem.read64(a) & PTE_V:
            return True                # unmapped, remapped or paged in meanwhile: retry
        for page in [va] + [p for p in range(lo, hi, PAGE_SIZE) if p != va]:
            try:
                pte_at = a if page == va else self.walk(page, True)
                if self.mem.read64(pte_at) & PTE_V:
                    continue
                pa = self.kalloc.alloc()
            except OutOfMemory:
                if page == va:
                    raise
                break                  # the neighbours are only a saving
            for off, data in parts.get(page, ()):
                self.mem.write(pa + off, data)
                self.k.charge(len(data) // self.k.cost.BYTE_COPY_DIV)
            self._set(pte_at, pa, *self._perm(r, pa, access))
        return True

    def coherence(self, hart, trap, now: int, budget: int):
        """trap ended a run of `hart` (on this space) started at now with budget. A W^X switch
        is made here, free, and replaced by an arch.BUDGET trap (the instruction runs again)
        or by the trap ending _own_page's run; any other trap is returned as it is."""
        access = PROT_X if trap.cause == arch.INSN_PAGE_FAULT else PROT_W
        page = page_down(trap.tval)
        pte = self.pte(page) if 0 <= page < params.USER_TOP else 0
        if access == PROT_X and pte & PTE_X:
            page += PAGE_SIZE                                # straddling: see fault()
            pte = self.pte(page) if page < params.USER_TOP else 0
        r = self.find(page) if pte & PTE_V else None
        if r is None or r.prot & (PROT_W | PROT_X) != PROT_W | PROT_X or pte & access:
            return trap
        a = self.walk(page, False)
        pa = arch.pte_pa(pte)
        if access == PROT_W and self.kalloc.refcount(pa) > 1 and pa not in self.k.shm.owner:
            return trap                # a COW copy: a page fault proper
        self.k.trap.stats["wx_faults"] += 1
        if access == PROT_W and page in (page_down(trap.epc), page_down(trap.epc + 3)):
            return self._own_page(hart, trap, now, budget, r, a, pa)
        if self._set(a, pa, *self._perm(r, pa, access, pte)):
            self.shootdown(charge=False)
        return arch.Trap(arch.BUDGET, trap.epc, 0, trap.executed)

    def _own_page(self, hart, trap, now, budget, r, a, pa):
        """The store at trap.epc writes its own page: the hart runs the rest of its budget with
        the page W and X (no other hart runs meanwhile; unicorn keeps a hart's code coherent
        with its own stores), then the frame's code is dropped everywhere and the page is X."""
        self._set(a, pa, _RWX)
        run = hart.run(budget - trap.executed, now + trap.executed)
        self.kalloc.drop_code(pa)
        self._set(a, pa, *self._perm(r, pa, PROT_X))
        self.shootdown(charge=False)
        return run._replace(executed=trap.executed + run.executed)

    def shootdown(self, charge=True) -> None:
        """A mapping of this address space was removed, downgraded or moved to another
        frame: flush the TLB of every hart that runs it now, charging TLB_SHOOTDOWN per
        other hart (the interrupt that asks it to flush) unless charge is False (a W^X
        switch: an emulator artifact, free). Harts that ran it before forget its tag."""
        sched = self.k.sched
        for c in sched.cpus:
            if c.aspace is self:
                c.hart.flush_tlb()
                running = c.current is not None and c.current.proc is not None and c.current.proc.aspace is self
                if charge and running and c is not sched.cur:
                    self.k.charge(self.k.cost.TLB_SHOOTDOWN)
            elif self in c.asids:
                c.asids.remove(self)

    def resolve(self, va: int, access: int) -> int:
        """Physical address of user va for a kernel access, faulting the page in (which may
        sleep for a file-backed page). Raises Fault."""
        for _ in range(3):
            pte = self.pte(va)
            if pte & PTE_V and pte & PTE_U and pte & access:
                return arch.pte_pa(pte) | (va & (PAGE_SIZE - 1))
            try:
                if not self.fault(va, access):
                    break
            except (OutOfMemory, PageInError):
                break
        raise Fault(va)

    def check(self, va: int, n: int, access: int) -> None:
        """Raise Fault unless [va, va+n) lies in regions allowing access (no paging in)."""
        if n < 0 or va < 0 or va + n > params.USER_TOP:
            raise Fault(va)
        cur = va
        while cur < va + n:
            r = self.find(cur)
            if r is None or not allows(r.prot, access):
                raise Fault(cur)
            cur = r.end

    # ---- copyin/copyout: the only way the kernel touches user memory ----
    def copyin(self, va: int, n: int) -> bytes:
        if n < 0 or va < 0 or va + n > params.USER_TOP:
            raise Fault(va)
        out = bytearray()
        for cur, chunk in arch.spans(va, n):
            out += self.mem.read(self.resolve(cur, PROT_R), chunk)
        self.k.charge(n // self.k.cost.BYTE_COPY_DIV)
        return bytes(out)

    def copyout(self, va: int, data) -> None:
        """Write data at user va. Only through PTEs granting W, so never into a frame with
        translated code (see W^X above)."""
        n = len(data)
        if va < 0 or va + n > params.USER_TOP:
            raise Fault(va)
        for cur, chunk in arch.spans(va, n):
            self.mem.write(self.resolve(cur, PROT_W), data[cur - va:cur - va + chunk])
        self.k.charge(n // self.k.cost.BYTE_COPY_DIV)

    def copyinstr(self, va: int, maxlen: int) -> bytes:
        """NUL-terminated string at va (without the NUL); Fault, or None if longer than maxlen."""
        out = bytearray()
        for cur, n in arch.spans(va, maxlen):
            if not 0 <= cur < params.USER_TOP:
                raise Fault(cur)
            chunk = self.mem.read(self.resolve(cur, PROT_R), n)
            i = chunk.find(b"\0")
            if i >= 0:
                out += chunk[:i]
                self.k.charge(len(out) // self.k.cost.BYTE_COPY_DIV)
                return bytes(out)
            out += chunk
        return None

    # ---- fork and teardown ----
    def fork(self):
        """A copy-on-write duplicate: every present private frame shared, neither side's PTE
        keeping W (MAP_SHARED frames are left to the child's first touch). Raises
        OutOfMemory (after cleaning up) if frames run out."""
        child = AddressSpace(self.k)
        child.regions = self.regions.copy()
        for b in self.backings:
            b.hold()
            child.backings.add(b)
        child.brk_start, child.brk = self.brk_start, self.brk
        downgraded = False
        try:
            owner = self.k.shm.owner
            for va, a, pte in list(self.present(0, params.USER_TOP)):
                if arch.pte_pa(pte) in owner:
                    continue           # shared memory: the child maps the object's frame itself
                self.k.charge(self.k.cost.PTE_COPY)
                if pte & PTE_W:
                    pte = pte & ~PTE_W | PTE_COW
                    self.mem.write64(a, pte)
                    downgraded = True
                self.mem.write64(child.walk(va, True), pte)
                self.kalloc.incref(arch.pte_pa(pte))
        except OutOfMemory:
            child.destroy()
            raise
        finally:
            if downgraded:
                self.shootdown()
        return child

    def destroy(self) -> None:
        self.unmap_range(0, params.USER_TOP)
        self.regions = RegionMap()
        for t in self.tables:
            self.kalloc.decref(t)
        self.tables = []
        for c in self.k.sched.cpus:
            if self in c.asids:
                c.asids.remove(self)
        backings, self.backings = self.backings, set()
        for b in backings:
            b.release()
