"""The memory-mapping calls: mmap, munmap, mprotect, mremap, madvise, mincore, msync.

mmap makes anonymous memory, private (copy on write after fork) or shared (MAP_SHARED: one
SharedPages object, kept by the children forked after it), and file mappings: MAP_PRIVATE
(each page a private copy read at its first touch, then copy on write) or MAP_SHARED (the
file's SharedPages, seen by every mapping of the file and kept coherent with read() and
write(): shm.py). Errors are checked in Linux's order and give Linux's errno.
"""
from . import params
from .arch import PAGE_SIZE, i32, pte_pa
from .errno import EACCES, EBADF, EEXIST, EFAULT, EINVAL, ENODEV, ENOMEM, EOPNOTSUPP, SysError
from .file import O_ACCMODE, O_PATH, O_RDONLY, O_RDWR, O_WRONLY, fd_get
from .fs import InodeFile
from .ramfs import FILE
from .shm import MappedFile, SharedPages, SharedView, writeback_range
from .vm import PROT_R, PROT_W, PROT_X
from .vma import page_up

MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE, MAP_FIXED, MAP_ANONYMOUS = 0x01, 0x02, 0x03, 0x10, 0x20
MAP_NORESERVE, MAP_POPULATE, MAP_STACK, MAP_FIXED_NOREPLACE = 0x4000, 0x8000, 0x20000, 0x100000
# flags accepted and not acted on: MAP_GROWSDOWN, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_LOCKED,
# MAP_NORESERVE, MAP_POPULATE, MAP_NONBLOCK, MAP_STACK (a hint, as in Linux), MAP_HUGETLB
MAP_KNOWN = (MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | 0x100 | 0x800 | 0x1000 | 0x2000
             | MAP_NORESERVE | MAP_POPULATE | 0x10000 | MAP_STACK | 0x40000 | MAP_FIXED_NOREPLACE)
MREMAP_MAYMOVE, MREMAP_FIXED = 1, 2
MS_ASYNC, MS_INVALIDATE, MS_SYNC = 1, 2, 4
MADV_DONTNEED, MADV_FREE = 4, 8
MADV_KNOWN = {0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 25}


def kprot(prot: int) -> int:
    """Region protection for PROT_* bits: PROT_WRITE implies read (RISC-V has no
    write-only pages; Linux riscv64 maps them readable), PROT_EXEC alone is execute-only."""
    return (PROT_R if prot & 3 else 0) | (PROT_W if prot & 2 else 0) | (PROT_X if prot & 4 else 0)


def _file_backing(k, t, fd, flags, prot, off, length):
    """The backing of a file mapping, after Linux's checks: EBADF, ENODEV (not a regular
    file: pipes, directories, devices), EACCES (not open for reading, or MAP_SHARED with
    PROT_WRITE on a descriptor not open for writing)."""
    f = fd_get(t.proc, i32(fd))
    if f.flags & O_PATH:
        raise SysError(EBADF)
    if not isinstance(f, InodeFile) or f.ino.kind != FILE:
        raise SysError(ENODEV)
    acc = f.flags & O_ACCMODE
    if acc == O_WRONLY or acc not in (O_RDONLY, O_RDWR):
        raise SysError(EACCES)
    if flags & MAP_SHARED and prot & 2 and acc != O_RDWR:
        raise SysError(EACCES)
    if off + length > (1 << 63):
        raise SysError(EINVAL)
    if flags & MAP_SHARED:
        obj = k.shm.files.get(f.ino) or SharedPages(k, f.ino, f.where)
        return lambda addr: SharedView(obj, off - addr)
    return lambda addr: MappedFile(k, f.ino, off - addr, f.where)


def sys_mmap(k, t, addr, length, prot, flags, fd, off):
    """Linux's order: the flags and lengths (EINVAL), the descriptor (EBADF, ENODEV,
    EACCES), then the placement: a hint is taken when the range is free, MAP_FIXED replaces
    what is there, MAP_FIXED_NOREPLACE fails with EEXIST instead; ENOMEM when nothing fits."""
    prot, flags = i32(prot), i32(flags)
    a = t.proc.aspace
    kind = flags & MAP_SHARED_VALIDATE
    if length == 0 or off % PAGE_SIZE or prot & ~7 or kind == 0:
        raise SysError(EINVAL)
    if kind == MAP_SHARED_VALIDATE and flags & ~MAP_KNOWN:
        raise SysError(EOPNOTSUPP)         # other unknown flags are ignored, as Linux does
    fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)
    if fixed and addr % PAGE_SIZE:
        raise SysError(EINVAL)
    if length > params.USER_TOP:
        raise SysError(ENOMEM)
    length = page_up(length)
    k.charge(k.cost.MMAP)
    make = None
    if not flags & MAP_ANONYMOUS:
        make = _file_backing(k, t, fd, flags, prot, off, length)
    elif flags & MAP_SHARED:
        obj = SharedPages(k)
        make = lambda start: SharedView(obj, -start)           # noqa: E731
    a.room(1)                              # ENOMEM at MAX_MAP_COUNT regions, before any change
    if fixed:
        if addr < params.USER_MIN or addr + length > params.USER_TOP:
            raise SysError(ENOMEM)
        if flags & MAP_FIXED_NOREPLACE and a.overlaps(addr, addr + length):
            raise SysError(EEXIST)
        writeback_range(a, addr, addr + length)
        a.remove_range(addr, addr + length)
    elif not (addr and addr % PAGE_SIZE == 0 and params.USER_MIN <= addr <= params.MMAP_TOP - length
              and not a.overlaps(addr, addr + length)):
        addr = a.free_gap(length, params.MMAP_TOP)
        if addr is None:
            raise SysError(ENOMEM)
    backing = make(addr) if make is not None else None
    a.add_region(addr, addr + length, kprot(prot), "mmap", backing, merge=backing is None)
    return addr


def sys_munmap(k, t, addr, length):
    if addr % PAGE_SIZE or length == 0 or addr + length > params.USER_TOP:
        raise SysError(EINVAL)
    k.charge(k.cost.MUNMAP)
    a = t.proc.aspace
    writeback_range(a, addr, addr + page_up(length))
    a.remove_range(addr, addr + page_up(length))
    return 0


def _mapped_upto(a, start: int, end: int) -> int:
    """The end of the mapped run of [start, end) that starts at start."""
    cur = start
    while cur < end:
        r = a.find(cur)
        if r is None:
            break
        cur = min(r.end, end)
    return cur


def sys_mprotect(k, t, addr, length, prot):
    """As Linux: the mapped pages from addr up to the first hole change, then ENOMEM."""
    prot = i32(prot)
    a = t.proc.aspace
    if addr % PAGE_SIZE or prot & ~7:
        raise SysError(EINVAL)
    end = addr + page_up(length)
    cur = _mapped_upto(a, addr, end)
    if cur > addr:
        a.protect(addr, cur, kprot(prot))
    if cur < end:
        raise SysError(ENOMEM)
    return 0


def sys_mremap(k, t, old, old_size, new_size, flags, new_addr):
    """Shrinking unmaps the tail; growing extends the mapping in place when the space after
    it is free, else moves it (MREMAP_MAYMOVE; MREMAP_FIXED: to new_addr) with its pages,
    else ENOMEM. The old range must lie in one mapping (EFAULT otherwise)."""
    a = t.proc.aspace
    flags = i32(flags)
    if (old % PAGE_SIZE or flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED) or new_size == 0
            or flags & MREMAP_FIXED and not flags & MREMAP_MAYMOVE):
        raise SysError(EINVAL)
    old_size, new_size = page_up(old_size), page_up(new_size)
    if new_size > params.USER_TOP or old + old_size > params.USER_TOP:
        raise SysError(ENOMEM if new_size > params.USER_TOP else EFAULT)
    r = a.find(old)
    if r is None or old + old_size > r.end:
        raise SysError(EFAULT)
    if flags & MREMAP_FIXED:
        if new_addr % PAGE_SIZE or new_addr < params.USER_MIN or new_addr + new_size > params.USER_TOP:
            raise SysError(EINVAL)
        if new_addr < old + old_size and old < new_addr + new_size:
            raise SysError(EINVAL)
        a.remove_range(new_addr, new_addr + new_size)
        return _move(a, r, old, old_size, new_addr, new_size)
    if new_size <= old_size:
        if new_size < old_size:
            a.remove_range(old + new_size, old + old_size)
        return old
    end = old + old_size
    if end == r.end and end + new_size - old_size <= params.MMAP_TOP and not a.overlaps(end, old + new_size):
        a.resize(r, old + new_size)
        return old
    if not flags & MREMAP_MAYMOVE:
        raise SysError(ENOMEM)
    a.room(1)
    dest = a.free_gap(new_size, params.MMAP_TOP)
    if dest is None:
        raise SysError(ENOMEM)
    return _move(a, r, old, old_size, dest, new_size)


def _move(a, r, old, old_size, dest, new_size) -> int:
    """Move [old, old+old_size) of region r to dest, its present pages with it, into a new
    region of new_size bytes (the rest zero-fill on touch, or come from r's file)."""
    backing = r.backing.moved(dest - old) if r.backing is not None else None
    a.add_region(dest, dest + new_size, r.prot, r.kind, backing)
    move_pages(a, old, old + min(old_size, new_size), dest)
    a.remove_range(old, old + old_size)
    return dest


def move_pages(a, start: int, end: int, dest: int) -> None:
    """Move the present pages of [start, end) to dest: each frame changes address, not
    owner (no reference taken or dropped); dest's range holds no present page."""
    owner = a.k.shm.owner
    moved = False
    for va, pte_at, pte in list(a.present(start, end)):
        to = a.walk(dest + va - start, True)
        a.mem.write64(to, pte)
        a.mem.write64(pte_at, 0)
        pa = pte_pa(pte)
        if pa in owner:
            owner[pa][to] = owner[pa].pop(pte_at)
        moved = True
    if moved:
        a.shootdown()


def sys_madvise(k, t, addr, length, advice):
    """MADV_DONTNEED and MADV_FREE drop the pages of the range: private anonymous memory
    reads 0 again, a private file mapping rereads its file, shared memory keeps its data.
    The other known advice is accepted with no effect; unknown advice is EINVAL, a range
    with unmapped parts ENOMEM (after acting on the mapped parts, as Linux)."""
    advice = i32(advice)
    if addr % PAGE_SIZE or advice not in MADV_KNOWN:
        raise SysError(EINVAL)
    end = addr + page_up(length)
    if end > params.USER_TOP:
        raise SysError(EINVAL if end < addr else ENOMEM)
    a = t.proc.aspace
    holes = False
    cur = addr
    while cur < end:
        upto = _mapped_upto(a, cur, end)
        if upto > cur and advice in (MADV_DONTNEED, MADV_FREE):
            a.unmap_range(cur, upto)
        if upto < end:
            holes = True
            nxt = a.regions.overlapping(upto, end)
            upto = nxt[0].start if nxt else end
        cur = upto
    if holes:
        raise SysError(ENOMEM)
    return 0


def sys_mincore(k, t, addr, length, vec):
    """One byte per page: 1 if the page is in memory (mapped here, or a shared object's
    page that exists); ENOMEM for an unmapped page, EINVAL for a misaligned addr."""
    if addr % PAGE_SIZE:
        raise SysError(EINVAL)
    end = addr + page_up(length)
    a = t.proc.aspace
    if end > params.USER_TOP or _mapped_upto(a, addr, end) < end:
        raise SysError(ENOMEM)
    out = bytearray()
    for va in range(addr, end, PAGE_SIZE):
        r = a.find(va)
        shared = r.backing is not None and r.backing.shared and r.backing.index(va) in r.backing.obj.frames
        out.append(1 if a.pte(va) & 1 or shared else 0)
    a.copyout(vec, bytes(out))
    return 0


def sys_msync(k, t, addr, length, flags):
    """Shared file pages of the range go back to the file (MS_ASYNC too: at once); EINVAL for
    a misaligned addr, unknown flags, or MS_ASYNC with MS_SYNC; ENOMEM for unmapped parts."""
    flags = i32(flags)
    if addr % PAGE_SIZE or flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC) or (
            flags & MS_ASYNC and flags & MS_SYNC):
        raise SysError(EINVAL)
    end = addr + page_up(length)
    a = t.proc.aspace
    if end > params.USER_TOP:
        raise SysError(ENOMEM)
    writeback_range(a, addr, end)
    if _mapped_upto(a, addr, end) < end:
        raise SysError(ENOMEM)
    return 0

