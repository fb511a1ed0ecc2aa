"""The region map of an address space: sorted, disjoint regions (Linux's VMAs), found,
placed and changed in bounded time whatever a program does.

Regions are kept in blocks, as a B-tree of height two: each block is a sorted list of at
most 2*B regions, the blocks are in address order, and every block but a lone one holds at
least B/2. For each region the map keeps the gap below it (its start minus the end of the
region before it, or minus USER_MIN for the lowest); each block keeps its largest gap, so a
search for free space skips a whole block whose gaps are all too small, as Linux's
gap-augmented tree skips a subtree.

Costs, for n regions (at most params.MAX_MAP_COUNT, 65,530) and B = 64:
- find(va): two bisections, O(log n);
- insert, remove: O(log n) to locate, O(B) to update the block (its list and largest gap),
  plus an O(n/B) list insert or delete when a block splits, merges or empties;
- overlapping(start, end): O(log n + k) for the k regions it returns;
- free_gap(length, top): O(n/B + B): the blocks below top, skipped in O(1) each unless
  their largest gap fits, then one block's gaps. At the limit that is at most about 2,000
  blocks and 128 regions.
`visited` counts the regions and blocks these operations examine: a count of work that tests
can bound without timing anything.

Regions are changed only through this map (insert, remove, set_bounds), which keeps the
gaps right; a region's prot and backing may be changed in place. A region's prot is made
of PROT_R, PROT_W and PROT_X (the PTE bits); allows() says which accesses it permits.
"""
import bisect
from dataclasses import dataclass

from . import params
from .arch import PAGE_SIZE, PTE_R, PTE_W, PTE_X

B = 64                            # blocks hold B/2 .. 2*B regions
PROT_R, PROT_W, PROT_X = PTE_R, PTE_W, PTE_X


def page_down(a: int) -> int:
    return a & ~(PAGE_SIZE - 1)


def page_up(a: int) -> int:
    return (a + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)


def allows(prot: int, access: int) -> bool:
    """Does a region of protection prot allow access? W implies R (Linux on RISC-V)."""
    return bool(prot & access) or (access == PROT_R and bool(prot & PROT_W))


def mergeable(r, prot) -> bool:
    """May region r (None: no neighbour) absorb a new one of protection prot (add_region's merge)?"""
    return r is not None and r.kind == "mmap" and r.prot == prot and r.backing is None


@dataclass(eq=False)
class Region:
    start: int
    end: int
    prot: int                     # PROT_R|PROT_W|PROT_X
    kind: str                     # "text", "data", "heap", "stack", "mmap", "sigtramp"
    backing: object = None        # exec.FileBacking of an ELF segment's pages, shm.py's MappedFile or
                                  # SharedView (file and shared mappings), or None (private anonymous)


class _Block:
    __slots__ = ("regions", "starts", "gaps", "maxgap")

    def __init__(self, regions, gaps):
        self.regions = regions
        self.starts = [r.start for r in regions]
        self.gaps = gaps
        self.maxgap = max(gaps, default=0)


class RegionMap:
    def __init__(self):
        self._blocks = []
        self._firsts = []         # start of each block's first region
        self.count = 0
        self.visited = 0

    def __len__(self) -> int:
        return self.count

    def __iter__(self):
        for blk in list(self._blocks):
            yield from list(blk.regions)

    # ---- lookup ----
    def _locate(self, va: int):
        """(block index, index in block) of the last region starting at or below va;
        (b, -1) or (-1, -1) when there is none."""
        b = bisect.bisect_right(self._firsts, va) - 1
        if b < 0:
            return -1, -1
        return b, bisect.bisect_right(self._blocks[b].starts, va) - 1

    def find(self, va: int):
        """The region containing va, or None."""
        b, i = self._locate(va)
        if i < 0:
            return None
        r = self._blocks[b].regions[i]
        return r if va < r.end else None

    def overlapping(self, start: int, end: int) -> list:
        """The regions meeting [start, end), in address order."""
        b, i = self._locate(start)
        if b < 0:
            b, i = 0, 0
        elif i < 0 or self._blocks[b].regions[i].end <= start:
            i += 1
        out = []
        while b < len(self._blocks):
            regs = self._blocks[b].regions
            while i < len(regs):
                r = regs[i]
                self.visited += 1
                if r.start >= end:
                    return out
                out.append(r)
                i += 1
            b, i = b + 1, 0
        return out

    def copy(self) -> "RegionMap":
        """An independent map of copies of these regions (fork), in O(n)."""
        new = RegionMap()
        for blk in self._blocks:
            regs = [Region(r.start, r.end, r.prot, r.kind, r.backing) for r in blk.regions]
            new._blocks.append(_Block(regs, list(blk.gaps)))
        new._firsts = list(self._firsts)
        new.count = self.count
        return new

    # ---- changes ----
    def insert(self, r: Region) -> None:
        """Add r, which overlaps no region."""
        if not self._blocks:
            self._blocks.append(_Block([r], [self._gap(None, r)]))
            self._firsts.append(r.start)
            self.count = 1
            return
        b, i = self._locate(r.start)
        if b < 0:
            b, i = 0, -1
        blk = self._blocks[b]
        blk.regions.insert(i + 1, r)
        blk.starts.insert(i + 1, r.start)
        blk.gaps.insert(i + 1, 0)
        self._firsts[b] = blk.starts[0]
        self.count += 1
        self._regap(b, i + 1)
        self._regap(*self._after(b, i + 1))
        if len(blk.regions) > 2 * B:
            self._split(b)

    def remove(self, r: Region) -> None:
        b, i = self._where(r)
        blk = self._blocks[b]
        del blk.regions[i], blk.starts[i], blk.gaps[i]
        self.count -= 1
        if not blk.regions:
            del self._blocks[b], self._firsts[b]
            if b < len(self._blocks):
                self._regap(b, 0)
            return
        self._firsts[b] = blk.starts[0]
        if i < len(blk.regions):
            self._regap(b, i)
        else:
            self._regap(*self._after(b, i - 1))
        blk.maxgap = max(blk.gaps)
        if len(blk.regions) < B // 2 and len(self._blocks) > 1:
            self._merge(b)

    def set_bounds(self, r: Region, start: int, end: int) -> None:
        """Move r's bounds; [start, end) overlaps no other region."""
        self.remove(r)
        r.start, r.end = start, end
        self.insert(r)

    # ---- free space ----
    def free_gap(self, length: int, top: int):
        """Highest a with [a, a+length) below top, at or above USER_MIN and in no region;
        None if there is none (page-aligned when length and top are)."""
        lo = params.USER_MIN
        b, i = self._locate(top - 1)
        if b >= 0 and i >= 0:
            r = self._blocks[b].regions[i]
            lo = max(lo, r.end)
        if top - length >= lo:
            return top - length                 # the gap reaching top (clipped at top)
        if b < 0:
            return None
        while b >= 0:
            blk = self._blocks[b]
            self.visited += 1
            if blk.maxgap >= length:
                for j in range(min(i, len(blk.regions) - 1), -1, -1):
                    self.visited += 1
                    if blk.gaps[j] >= length:
                        return blk.starts[j] - length
            b -= 1
            i = 1 << 62
        return None

    # ---- internals ----
    def _where(self, r):
        b, i = self._locate(r.start)
        if i < 0 or self._blocks[b].regions[i] is not r:
            raise ValueError(f"region {r.start:#x}-{r.end:#x} is not in the map")
        return b, i

    def _prev(self, b, i):
        if i > 0:
            return self._blocks[b].regions[i - 1]
        return self._blocks[b - 1].regions[-1] if b > 0 else None

    def _after(self, b, i):
        """(block, index) of the region after (b, i), or (None, None)."""
        if i + 1 < len(self._blocks[b].regions):
            return b, i + 1
        if b + 1 < len(self._blocks):
            return b + 1, 0
        return None, None

    @staticmethod
    def _gap(prev, r) -> int:
        return r.start - (prev.end if prev is not None else params.USER_MIN)

    def _regap(self, b, i) -> None:
        """Recompute the gap below region (b, i) and its block's largest gap."""
        if b is None:
            return
        blk = self._blocks[b]
        blk.gaps[i] = self._gap(self._prev(b, i), blk.regions[i])
        blk.maxgap = max(blk.gaps)

    def _split(self, b) -> None:
        blk = self._blocks[b]
        half = len(blk.regions) // 2
        upper = _Block(blk.regions[half:], blk.gaps[half:])
        blk.__init__(blk.regions[:half], blk.gaps[:half])
        self._blocks.insert(b + 1, upper)
        self._firsts.insert(b + 1, upper.starts[0])

    def _merge(self, b) -> None:
        """Block b is small: join it to a neighbour, splitting again if that is too big."""
        a = b - 1 if b > 0 else b
        left, right = self._blocks[a], self._blocks[a + 1]
        left.__init__(left.regions + right.regions, left.gaps + right.gaps)
        del self._blocks[a + 1], self._firsts[a + 1]
        if len(left.regions) > 2 * B:
            self._split(a)
