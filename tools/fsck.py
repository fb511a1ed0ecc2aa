"""python -m tools.fsck IMAGE: check a diskfs image and report every inconsistency.

Exit status: 0 clean, 1 inconsistent (one line per problem), 2 unreadable (no image, not
diskfs, truncated). A committed transaction still in the log is not a problem: the image
is checked as the next mount's recovery will leave it.

The checker shares only the format (kernel/fslayout.py) with the kernel: it reads the
bytes itself and trusts none of the kernel's code. From Python: check(path) returns
(problems, summary) or raises Unreadable.
"""
import sys
from collections import Counter

from kernel.fslayout import (BPB, BSIZE, DIRENT_SIZE, IPB, MAXFILE, MODE_BITS, NDIRECT, NINDIRECT, ROOTINO, T_DIR,
                             T_FILE, T_FREE, T_SYMLINK, LayoutError, bit, inode_offset, unpack_addrs, unpack_dinode,
                             unpack_dirents, unpack_log_header, unpack_superblock)

_TYPES = {T_DIR: "directory", T_FILE: "file", T_SYMLINK: "symlink"}


class Unreadable(Exception):
    pass


class _Image:
    def __init__(self, path):
        try:
            with open(path, "rb") as f:
                self.raw = f.read()
        except OSError as e:
            raise Unreadable(f"cannot read {path}: {e.strerror}") from None
        try:
            self.sb = unpack_superblock(self.raw[:BSIZE])
        except LayoutError as e:
            raise Unreadable(str(e)) from None
        have = len(self.raw) // BSIZE
        if self.sb.size > have:
            raise Unreadable(f"image truncated: the file system has {self.sb.size} blocks, the file {have}")
        self.overlay = {}                 # block -> contents after log recovery

    def block(self, n: int) -> bytes:
        if n in self.overlay:
            return self.overlay[n]
        return self.raw[n * BSIZE:(n + 1) * BSIZE]


def _replay_log(img, problems, notes) -> None:
    sb = img.sb
    try:
        homes = unpack_log_header(img.block(sb.logstart))
    except LayoutError as e:
        problems.append(f"log header: {e}")
        return
    if len(homes) > sb.nlog:
        problems.append(f"log header holds {len(homes)} blocks, the log has {sb.nlog}")
        return
    for i, home in enumerate(homes):
        if not sb.inodestart <= home < sb.size:
            problems.append(f"log entry {i} names block {home}, outside the file system")
            return
    for i, home in enumerate(homes):
        img.overlay[home] = img.block(sb.logstart + 1 + i)
    if homes:
        notes.append(f"the log holds a committed transaction of {len(homes)} blocks (installed at next mount)")


def _file_blocks(img, inum, d, problems, owner):
    """Data block numbers of inode d by file block index, marking every block it uses."""
    sb = img.sb
    nblocks = (d.size + BSIZE - 1) // BSIZE
    data = {}

    def use(b, what):
        if not sb.datastart <= b < sb.size:
            problems.append(f"inode {inum}: {what} pointer {b} outside the data area")
            return False
        if b in owner:
            problems.append(f"block {b} used twice: by inode {owner[b]} and by inode {inum}")
            return False
        owner[b] = inum
        return True

    def leaf(index, b):
        if index >= nblocks:
            problems.append(f"inode {inum}: block {b} mapped at index {index}, past the end (size {d.size})")
        data[index] = b

    for i, b in enumerate(d.addrs[:NDIRECT]):
        if b and use(b, "direct"):
            leaf(i, b)
    ind = d.addrs[NDIRECT]
    if ind and use(ind, "indirect"):
        for i, b in enumerate(unpack_addrs(img.block(ind))):
            if b and use(b, "data"):
                leaf(NDIRECT + i, b)
    top = d.addrs[NDIRECT + 1]
    if top and use(top, "double indirect"):
        for i, mid in enumerate(unpack_addrs(img.block(top))):
            if mid and use(mid, "indirect"):
                for j, b in enumerate(unpack_addrs(img.block(mid))):
                    if b and use(b, "data"):
                        leaf(NDIRECT + NINDIRECT + i * NINDIRECT + j, b)
    return data


def check(path):
    """(problems, summary) for the image at path; Unreadable if it cannot be checked."""
    img = _Image(path)
    sb = img.sb
    problems, notes = [], []
    _replay_log(img, problems, notes)
    inodes, owner, maps = {}, {}, {}
    for inum in range(1, sb.ninodes):
        d = unpack_dinode(img.block(sb.inodestart + inum // IPB), inode_offset(inum))
        if d.type == T_FREE:
            if d.nlink or d.size or any(d.addrs) or d.mode or d.uid or d.gid or d.atime or d.mtime or d.ctime:
                problems.append(f"inode {inum}: free, but its fields are not cleared")
            continue
        if d.type not in _TYPES:
            problems.append(f"inode {inum}: unknown type {d.type}")
            continue
        if d.nlink == 0:
            problems.append(f"inode {inum}: allocated {_TYPES[d.type]} with no links (an orphan)")
        if d.mode & ~MODE_BITS:
            problems.append(f"inode {inum}: mode {d.mode:#o} has bits beyond the permission bits")
        if d.type == T_SYMLINK and not 0 < d.size < BSIZE:
            problems.append(f"inode {inum}: symlink of {d.size} bytes (a target is 1 to {BSIZE - 1})")
        if d.size > MAXFILE:
            problems.append(f"inode {inum}: size {d.size} beyond the largest file")
            continue
        inodes[inum] = d
        maps[inum] = _file_blocks(img, inum, d, problems, owner)
    root = inodes.get(ROOTINO)
    if root is None or root.type != T_DIR:
        problems.append("inode 1 (the root) is not a directory")
    links, subdirs = Counter(), Counter()
    dotdot, container = {}, {}            # directory -> its '..'; -> the directory listing it
    for inum, d in inodes.items():
        if d.type != T_DIR:
            continue
        if d.size % DIRENT_SIZE:
            problems.append(f"directory {inum}: size {d.size} is not a multiple of {DIRENT_SIZE}")
        names, seen = [], set()
        for bn in range((d.size + BSIZE - 1) // BSIZE):
            b = maps[inum].get(bn)
            if b is None:
                problems.append(f"directory {inum}: hole at block {bn}")
                continue
            for slot, e, name in unpack_dirents(img.block(b)):
                if bn * BSIZE + slot * DIRENT_SIZE >= d.size:
                    break
                if e:
                    names.append((bn * BSIZE + slot * DIRENT_SIZE, e, name))
        if [n for _, _, n in names[:2]] != [b".", b".."]:
            problems.append(f"directory {inum}: does not start with '.' and '..'")
        for off, e, name in names:
            where = f"directory {inum}, entry {name!r}"
            if name in seen:
                problems.append(f"{where}: duplicate name")
            seen.add(name)
            if not name or b"/" in name:
                problems.append(f"{where}: bad name")
            if e not in inodes:
                problems.append(f"{where}: names inode {e}, which is {'free' if e < sb.ninodes else 'out of range'}")
                continue
            if name == b".":
                if e != inum:
                    problems.append(f"{where}: '.' names inode {e}, not the directory itself")
            elif name == b"..":
                dotdot[inum] = e
            else:
                links[e] += 1
                if inodes[e].type == T_DIR:
                    subdirs[inum] += 1
                    container[e] = inum
    for inum, d in inodes.items():
        if d.type == T_DIR:
            want = 2 + subdirs[inum]
            if inum != ROOTINO:
                if links[inum] != 1:
                    problems.append(f"directory {inum}: in {links[inum]} directories (must be exactly 1)")
                elif dotdot.get(inum) != container.get(inum):
                    problems.append(f"directory {inum}: '..' names {dotdot.get(inum)}, "
                                    f"but it is in directory {container.get(inum)}")
            elif links[inum]:
                problems.append("the root directory has an entry in some directory")
            elif dotdot.get(inum) != ROOTINO:
                problems.append("the root's '..' does not name the root")
        else:
            want = links[inum]
            if want == 0 and d.nlink:
                problems.append(f"inode {inum}: file in no directory (unreachable)")
        if d.nlink != want and d.nlink:
            problems.append(f"inode {inum}: link count {d.nlink}, but {want} links found")
    used = 0
    for b in range(sb.size):
        marked = bit(img.block(sb.bmapstart + b // BPB), b)
        wanted = b < sb.datastart or b in owner
        used += marked
        if marked and not wanted:
            problems.append(f"block {b}: marked in use, but nothing uses it (leaked)")
        elif wanted and not marked:
            who = "metadata" if b < sb.datastart else f"inode {owner[b]}"
            problems.append(f"block {b}: used by {who}, but marked free")
    nfiles = sum(1 for d in inodes.values() if d.type == T_FILE)
    nlinks = sum(1 for d in inodes.values() if d.type == T_SYMLINK)
    summary = (f"{nfiles} files, {len(inodes) - nfiles - nlinks} directories, {nlinks} symlinks, "
               f"{len(inodes)}/{sb.ninodes - 1} inodes, "
               f"{used}/{sb.size} blocks in use" + "".join(f"; {n}" for n in notes))
    return problems, summary


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: python -m tools.fsck IMAGE", file=sys.stderr)
        return 2
    path = argv[0]
    try:
        problems, summary = check(path)
    except Unreadable as e:
        print(f"fsck: {path}: {e}", file=sys.stderr)
        return 2
    for p in problems:
        print(f"fsck: {path}: {p}")
    print(f"fsck: {path}: {'clean' if not problems else f'{len(problems)} problems'}: {summary}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
