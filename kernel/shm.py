"""Memory that mappings share, and file mappings (mmap's MAP_SHARED, and MAP_PRIVATE of a file).

A SharedPages object holds the frames of one shared object: the memory of one
MAP_SHARED|MAP_ANONYMOUS mmap (kept by every process forked after it), or the mapped pages
of one file (Shm.files: one object per inode, whoever maps it). It keeps one reference to
each frame it has; each PTE mapping the frame holds another, so such a frame's refcount is
above 1 and vm.py must not treat it as copy-on-write: Shm.owner tells a shared frame from a
private one. Shm.owner also records, per shared frame, the PTEs that map it (their physical
addresses, with their address space), so vm.py can keep W^X per frame across address
spaces: a frame is never writable through one PTE while executable through another.

A region maps an object through a SharedView (its backing, with `shared` true): the view
turns the region's addresses into page indexes of the object. A MAP_PRIVATE file mapping's
backing is a MappedFile: each page is read into a private frame at its first touch, as the
executable's pages are (exec.FileBacking), and a store then writes that frame only.

Files and their shared mappings are kept coherent at every read() and write() of the file
(fs.InodeFile): a read first writes the mapped pages it covers back to the file, a write
then copies its bytes into them. msync and munmap write a mapping's pages back; the object
writes everything back when its last user releases it. A page wholly past the file's end
cannot be mapped (SIGBUS); bytes past the end in the last page read as 0 and are not
written back.
"""
from .arch import PAGE_SIZE, PTE_W, PTE_X
from .errno import SysError
from .vm import PageInError
from .vma import page_down, page_up


def path_of(k, where) -> bytes:
    """The path of a file opened by (directory, name), made when asked (/proc/PID/maps)."""
    if where is None:
        return b""
    d, name = where
    try:
        return k.fsys.path_of(d).rstrip(b"/") + b"/" + name.encode("utf-8", "surrogateescape")
    except SysError:
        return name.encode("utf-8", "surrogateescape")     # its directory was removed since


class SharedPages:
    shared = True

    def __init__(self, k, ino=None, where=None):
        self.k = k
        self.ino = ino                    # the file, or None (anonymous)
        self.where = where                # (directory, name) the file was opened by
        self.frames = {}                  # page index -> frame
        self.users = 0                    # address spaces holding a view of it

    def hold(self) -> None:
        if self.users == 0 and self.ino is not None:
            self.ino.opened()
            self.k.shm.files[self.ino] = self
        self.users += 1

    def release(self) -> None:
        self.users -= 1
        if self.users:
            return
        if self.ino is not None:
            self.writeback(0, len(self.frames) and max(self.frames) + 1)
            del self.k.shm.files[self.ino]
            self.ino.closed(True)
        for idx, pa in self.frames.items():
            del self.k.shm.owner[pa]
            self.k.kalloc.decref(pa)
        self.frames = {}

    def frame(self, idx: int) -> int:
        """The frame of page idx, made at its first use (zeroed, or read from the file, which
        may sleep). PageInError for a page wholly past the end of the file. Raises
        OutOfMemory."""
        pa = self.frames.get(idx)
        if pa is not None:
            return pa
        data = b""
        if self.ino is not None:
            if idx * PAGE_SIZE >= self.ino.size:
                raise PageInError("the page lies past the end of the file")
            try:
                data = self.ino.read(idx * PAGE_SIZE, PAGE_SIZE)
            except SysError as e:
                raise PageInError(f"errno {e.errno}") from None
            if idx in self.frames:        # made while this thread slept on the disk
                return self.frames[idx]
        pa = self.k.kalloc.alloc()
        self.k.machine.mem.write(pa, data)
        self.k.charge(len(data) // self.k.cost.BYTE_COPY_DIV)
        self.frames[idx] = pa
        self.k.shm.owner[pa] = {}
        return pa

    def writeback(self, lo: int, hi: int) -> None:
        """Write pages [lo, hi) that exist back to the file, within its size."""
        if self.ino is None:
            return
        for idx in sorted(i for i in self.frames if lo <= i < hi):
            off = idx * PAGE_SIZE
            n = min(PAGE_SIZE, self.ino.size - off)
            if n > 0:
                self.ino.write(off, self.k.machine.mem.read(self.frames[idx], n))

    def refresh(self, off: int, data: bytes) -> None:
        """write() put data at off in the file: copy it into the pages that exist. The
        frames are written by the kernel, not through a PTE, so their translated code is
        dropped (kalloc.drop_code): a hart that runs them again translates the new bytes."""
        for idx in range(off // PAGE_SIZE, page_up(off + len(data)) // PAGE_SIZE):
            pa = self.frames.get(idx)
            if pa is None:
                continue
            a, b = max(off, idx * PAGE_SIZE), min(off + len(data), (idx + 1) * PAGE_SIZE)
            self.k.machine.mem.write(pa + a - idx * PAGE_SIZE, data[a - off:b - off])
            self.k.kalloc.drop_code(pa)


    def truncated(self, size: int) -> None:
        """The file is now size bytes long: its pages wholly past the end leave every
        mapping (a later touch is SIGBUS) and are freed; the rest of the last page reads 0."""
        mem, kalloc = self.k.machine.mem, self.k.kalloc
        for idx in [i for i in self.frames if i * PAGE_SIZE >= size]:
            pa = self.frames.pop(idx)
            spaces = set()
            for a, space in self.k.shm.owner.pop(pa).items():
                mem.write64(a, 0)
                kalloc.decref(pa)
                spaces.add(space)
            for space in spaces:
                space.shootdown()
            kalloc.decref(pa)
        pa = self.frames.get(size // PAGE_SIZE)
        if pa is not None and size % PAGE_SIZE:
            mem.write(pa + size % PAGE_SIZE, bytes(PAGE_SIZE - size % PAGE_SIZE))
            kalloc.drop_code(pa)


class SharedView:
    """A region's view of a SharedPages: page index = (va + delta) // PAGE_SIZE."""
    shared = True
    image = False

    def __init__(self, obj: SharedPages, delta: int):
        self.obj, self.delta = obj, delta

    def hold(self) -> None:
        self.obj.hold()

    def release(self) -> None:
        self.obj.release()

    def index(self, va: int) -> int:
        return (va + self.delta) // PAGE_SIZE

    def moved(self, by: int) -> "SharedView":
        return SharedView(self.obj, self.delta - by)

    def map_info(self, start: int):
        o = self.obj
        if o.ino is None:
            return 0, None, b"/dev/zero (deleted)", True         # as Linux names it
        return self.index(start) * PAGE_SIZE, o.ino, path_of(o.k, o.where), True


class MappedFile:
    """A MAP_PRIVATE file mapping's backing: file offset = va + delta. While a region holds
    it the file stays open (an unlinked one lives on)."""
    shared = False
    image = False

    def __init__(self, k, ino, delta: int, where=None):
        self.k, self.ino, self.delta, self.where = k, ino, delta, where
        self.users = 0

    def hold(self) -> None:
        if self.users == 0:
            self.ino.opened()
        self.users += 1

    def release(self) -> None:
        self.users -= 1
        if self.users == 0:
            self.ino.closed(False)

    def moved(self, by: int) -> "MappedFile":
        return MappedFile(self.k, self.ino, self.delta - by, self.where)

    def map_info(self, start: int):
        return start + self.delta, self.ino, path_of(self.k, self.where), False

    def pages(self, lo: int, hi: int) -> dict:
        """exec.FileBacking's interface: the file's bytes on the pages of [lo, hi) that lie
        within the file, in one read. PageInError if the page at lo is wholly past its end."""
        size = self.ino.size
        if lo + self.delta >= size:
            raise PageInError("the page lies past the end of the file")
        hi = min(hi, page_up(size - self.delta))
        try:
            data = self.ino.read(lo + self.delta, hi - lo)
        except SysError as e:
            raise PageInError(f"errno {e.errno}") from None
        out = {}
        for page in range(lo, hi, PAGE_SIZE):
            chunk = data[page - lo:page - lo + PAGE_SIZE]
            out[page] = [(0, chunk)] if chunk else []
        return out

    def valid_end(self, va: int) -> int:
        """The end of the pages of this mapping that lie (at least partly) within the file."""
        return page_up(self.ino.size - self.delta)


class Shm:
    def __init__(self, kernel):
        self.k = kernel
        self.files = {}                   # inode -> its SharedPages while mapped shared
        self.owner = {}                   # shared frame -> {PTE address: AddressSpace} mapping it

    def exclusive(self, mappers: dict, a: int, perm: int) -> None:
        """W^X per shared frame (vm.py): before the PTE at a grants perm, the frame's other
        PTEs (mappers) lose X if perm has W, and W if perm has X; their spaces' TLBs are
        shot down. A kernel write that bypasses the PTEs (refresh) drops the frame's code."""
        take = (PTE_X if perm & PTE_W else 0) | (PTE_W if perm & PTE_X else 0)
        mem = self.k.machine.mem
        for other, space in mappers.items():
            if other != a and take:
                pte = mem.read64(other)
                if pte & take:
                    mem.write64(other, pte & ~take)
                    space.shootdown()

    def before_read(self, ino, off: int, n: int) -> None:
        obj = self.files.get(ino)
        if obj is not None:
            obj.writeback(off // PAGE_SIZE, page_up(off + n) // PAGE_SIZE)

    def after_write(self, ino, off: int, data: bytes) -> None:
        obj = self.files.get(ino)
        if obj is not None and data:
            obj.refresh(off, data)

    def truncated(self, ino, size: int) -> None:
        obj = self.files.get(ino)
        if obj is not None:
            obj.truncated(size)


def writeback_range(a, start: int, end: int) -> None:
    """msync and munmap: the shared file pages of [start, end) go back to their files."""
    for r in a.regions.overlapping(start, end):
        b = r.backing
        if b is not None and b.shared and b.obj.ino is not None:
            lo, hi = max(r.start, start), min(r.end, end)
            b.obj.writeback(b.index(page_down(lo)), b.index(page_up(hi) - 1) + 1)
