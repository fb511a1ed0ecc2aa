"""Validate a static RISC-V ELF executable and describe what to load.

Parsing is pyelftools' job; this module only checks the result against what
the kernel can run (static, non-PIE RV64 little-endian ET_EXEC) and returns
plain data. Any problem with the file is reported as ElfError with a one-line
message; no other exception escapes read_image or load_image for any input.

read_image reads the file through a callback, 4 KiB blocks at a time, and
reads only the ELF header, the program headers and, for kill reports, the
symbol table when it is small (section headers, .symtab and its string table
within params.MAX_SYMTAB bytes; a larger one gives reports without names). The
segments' bytes are not read: exec maps them page by page (exec.py).
"""

from __future__ import annotations

import bisect
import io
from dataclasses import dataclass, field

from elftools.common.exceptions import ELFError
from elftools.elf.constants import P_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.enums import ENUM_E_MACHINE

from .params import MAX_IMAGE, MAX_SYMTAB, USER_MIN

# Segments must end at or below this. The rest of user space, up to
# params.USER_TOP, is left to the stack and mmap.
IMAGE_TOP = 0x3F_0000_0000

EM_RISCV = 243
ELF_MAGIC = b"\x7fELF"
ELF64_PHDR_SIZE = 56
ELF64_SYM_SIZE = 24
BLOCK = 4096

# What pyelftools 0.33 raises on malformed input, found by fuzzing (see
# tests/test_elf.py): ELFError and its subclass ELFParseError (which wraps the
# construct library's errors), and OverflowError when a file offset taken
# from the file is too large for BytesIO.seek (>= 2**63).
_PARSE_ERRORS = (ELFError, OverflowError)


class ElfError(Exception):
    """The file is not a program this kernel can run (the kernel's ENOEXEC)."""


@dataclass(frozen=True)
class Segment:
    """One PT_LOAD: memsz bytes at vaddr, the first filesz from the file at
    offset, the rest zero."""
    vaddr: int
    memsz: int
    offset: int
    filesz: int
    readable: bool
    writable: bool
    executable: bool


class SymbolTable:
    """Address -> symbol name, from .symtab STT_FUNC and STT_OBJECT symbols."""

    def __init__(self, entries: list[tuple[int, int, str]] | None = None) -> None:
        """entries: (start, end, name) with end exclusive and end > start."""
        # Stable sort: among symbols at one address the last one listed wins.
        self._entries = sorted(entries or [], key=lambda e: e[0])
        self._starts = [start for start, _end, _name in self._entries]

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, addr: int) -> str | None:
        """'name' or 'name+0xoff' for the nearest symbol at or below addr
        whose range contains addr, else None."""
        i = bisect.bisect_right(self._starts, addr)
        if i == 0:
            return None
        start, end, name = self._entries[i - 1]
        if addr >= end:
            return None
        return name if addr == start else f"{name}+{addr - start:#x}"

    def address(self, name: str, size: int) -> int | None:
        """The start of the one symbol called name that is size bytes long, else None."""
        found = [start for start, end, n in self._entries if n == name and end - start == size]
        return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class ElfImage:
    entry: int
    segments: list[Segment]  # the non-empty PT_LOADs, in address order
    phdr_vaddr: int  # where the program headers are mapped, 0 if they are not
    phent: int
    phnum: int
    symbols: "SymbolTable | LazySymbolTable" = field(default_factory=SymbolTable)


@dataclass(frozen=True)
class _Phdr:
    type: str | int
    flags: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


class _Stream(io.RawIOBase):
    """A read-only file over read(offset, n) for pyelftools. Reads whole blocks, each
    once, and keeps them in `blocks`; with read None, a block not kept is an ELFError."""

    def __init__(self, read, size: int, blocks=None):
        super().__init__()
        self._read = read
        self.size = size
        self.blocks = {} if blocks is None else blocks
        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, off: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + off)
        return self.pos

    def tell(self) -> int:
        return self.pos

    def read(self, n: int = -1) -> bytes:
        end = self.size if n is None or n < 0 else min(self.size, self.pos + n)
        out = bytearray()
        while self.pos < end:
            b, off = divmod(self.pos, BLOCK)
            chunk = self._block(b)[off:off + end - self.pos]
            if not chunk:
                break
            out += chunk
            self.pos += len(chunk)
        return bytes(out)

    def readinto(self, buf) -> int:
        data = self.read(len(buf))
        buf[:len(data)] = data
        return len(data)

    def fetch(self, off: int, n: int) -> None:
        """Keep the blocks of [off, off+n), read in one call."""
        end = min(self.size, off + n)
        missing = [b for b in range(off // BLOCK, -(-end // BLOCK)) if b not in self.blocks]
        if missing:
            data = self._read(missing[0] * BLOCK, (missing[-1] + 1 - missing[0]) * BLOCK)
            for b in range(missing[0], missing[-1] + 1):
                self.blocks.setdefault(b, data[(b - missing[0]) * BLOCK:(b + 1 - missing[0]) * BLOCK])

    def _block(self, b: int) -> bytes:
        blk = self.blocks.get(b)
        if blk is None:
            if self._read is None:
                raise ELFError(f"block {b} was not read")
            blk = self.blocks[b] = self._read(b * BLOCK, BLOCK)
        return blk


def load_image(data: bytes, max_image: int = MAX_IMAGE) -> ElfImage:
    """Validate data, a whole file, as a static RV64 executable; raise ElfError if it is not."""
    return read_image(lambda off, n: data[off:off + n], len(data), max_image)


def read_image(read, size: int, max_image: int = MAX_IMAGE, max_symtab: int = MAX_SYMTAB) -> ElfImage:
    """Validate the file of `size` bytes that read(offset, n) returns (n bytes, fewer at
    the end) as a static RV64 executable; raise ElfError if it is not. Reads the
    headers, and the symbol table if it fits max_symtab; exceptions of read escape."""
    stream = _Stream(read, size)
    if stream.read(4) != ELF_MAGIC:
        raise ElfError("bad ELF magic")
    try:
        stream.seek(0)
        elf = ELFFile(stream)
        if elf.elfclass != 64:
            raise ElfError(f"not a 64-bit ELF (class {elf.elfclass})")
        if not elf.little_endian:
            raise ElfError("not a little-endian ELF")
        header = elf.header
        machine = header["e_machine"]
        e_type = header["e_type"]
        entry = header["e_entry"]
        phoff = header["e_phoff"]
        phent = header["e_phentsize"]
        phnum = elf.num_segments()
    except _PARSE_ERRORS as exc:
        raise ElfError(f"malformed ELF header: {_one_line(exc)}") from exc

    if isinstance(machine, str):
        machine = ENUM_E_MACHINE.get(machine, machine)
    if machine != EM_RISCV:
        raise ElfError(f"not a RISC-V executable (machine {machine})")
    if e_type == "ET_DYN":
        raise ElfError("position-independent executable (ET_DYN) not supported;"
                       " link static and non-PIE")
    if e_type != "ET_EXEC":
        raise ElfError(f"not an executable (type {e_type})")
    if phent != ELF64_PHDR_SIZE:
        raise ElfError(f"bad program header size {phent}")
    if phoff + phnum * phent > size:
        raise ElfError("program headers beyond end of file")
    stream.fetch(phoff, phnum * phent)

    try:
        phdrs = [_Phdr(type=seg["p_type"], flags=seg["p_flags"],
                       offset=seg["p_offset"], vaddr=seg["p_vaddr"],
                       filesz=seg["p_filesz"], memsz=seg["p_memsz"])
                 for seg in elf.iter_segments()]
    except _PARSE_ERRORS as exc:
        raise ElfError(f"malformed program headers: {_one_line(exc)}") from exc

    if any(ph.type == "PT_INTERP" for ph in phdrs):
        raise ElfError("dynamically linked programs are not supported (PT_INTERP)")
    loads = [ph for ph in phdrs if ph.type == "PT_LOAD"]
    if not loads:
        raise ElfError("no PT_LOAD segment")

    total = 0
    for ph in loads:
        where = f"segment at {ph.vaddr:#x}"
        if ph.filesz > ph.memsz:
            raise ElfError(f"{where}: filesz {ph.filesz:#x} > memsz {ph.memsz:#x}")
        if ph.offset + ph.filesz > size:
            raise ElfError(f"{where}: file range {ph.offset:#x}+{ph.filesz:#x}"
                           f" beyond end of file ({size:#x} bytes)")
        # Python ints do not wrap, so a range that wraps past 2**64 fails here.
        if ph.vaddr < USER_MIN or ph.vaddr + ph.memsz > IMAGE_TOP:
            raise ElfError(f"{where}+{ph.memsz:#x} outside user space"
                           f" [{USER_MIN:#x}, {IMAGE_TOP:#x})")
        total += ph.memsz
        if total > max_image:
            raise ElfError(f"segment too large: {where} memsz {ph.memsz:#x}"
                           f" (image limit {max_image:#x} bytes)")

    # Only non-empty segments occupy memory; an empty one overlaps nothing.
    occupied = sorted((ph for ph in loads if ph.memsz > 0), key=lambda ph: ph.vaddr)
    end_so_far = 0
    for ph in occupied:
        if ph.vaddr < end_so_far:
            raise ElfError(f"segments overlap at {ph.vaddr:#x}")
        end_so_far = max(end_so_far, ph.vaddr + ph.memsz)

    if not any(ph.flags & P_FLAGS.PF_X and ph.vaddr <= entry < ph.vaddr + ph.memsz
               for ph in loads):
        raise ElfError(f"entry {entry:#x} outside executable segment")

    phdr_vaddr = 0
    table_end = phoff + phnum * phent
    for ph in loads:
        if ph.offset <= phoff and table_end <= ph.offset + ph.filesz:
            phdr_vaddr = ph.vaddr + (phoff - ph.offset)
            break

    segments = [Segment(vaddr=ph.vaddr, memsz=ph.memsz, offset=ph.offset, filesz=ph.filesz,
                        readable=bool(ph.flags & P_FLAGS.PF_R),
                        writable=bool(ph.flags & P_FLAGS.PF_W),
                        executable=bool(ph.flags & P_FLAGS.PF_X))
                for ph in occupied]
    return ElfImage(entry=entry, segments=segments, phdr_vaddr=phdr_vaddr,
                    phent=phent, phnum=phnum, symbols=_read_symbols(elf, stream, size, max_symtab))


def _read_symbols(elf: ELFFile, stream: _Stream, size: int, cap: int):
    """Read what the symbol table needs (section headers, their names, each .symtab and
    its string table) if it is at most cap bytes; a LazySymbolTable over those bytes, or
    an empty table."""
    try:
        shoff, shentsize = elf.header["e_shoff"], elf.header["e_shentsize"]
        nsec = elf.num_sections()
        if not nsec or shoff + nsec * shentsize > size or nsec * shentsize > cap:
            return SymbolTable()
        stream.fetch(shoff, nsec * shentsize)
        ranges = [(shoff, nsec * shentsize)]
        sections = list(elf.iter_sections())       # reads the headers and the names
        for sec in sections:
            if sec["sh_type"] == "SHT_SYMTAB" and sec["sh_entsize"] == ELF64_SYM_SIZE:
                ranges.append((sec["sh_offset"], sec["sh_size"]))
                if 0 < sec["sh_link"] < len(sections):
                    link = sections[sec["sh_link"]]
                    ranges.append((link["sh_offset"], link["sh_size"]))
        if any(off + n > size for off, n in ranges) or sum(n for _, n in ranges) > cap:
            return SymbolTable()
        for off, n in ranges:
            stream.fetch(off, n)
    except _PARSE_ERRORS:
        return SymbolTable()
    return LazySymbolTable(dict(stream.blocks), size)


class LazySymbolTable:
    """A SymbolTable parsed on first lookup, from the blocks of the file read at exec:
    pyelftools takes ~0.2 s for a libc-sized .symtab, and most programs run and exit
    without ever needing a symbol."""

    def __init__(self, blocks: dict, size: int):
        self._blocks = blocks
        self._size = size
        self._table = None

    def _parsed(self) -> SymbolTable:
        if self._table is None:
            try:
                self._table = _symbols(ELFFile(_Stream(None, self._size, self._blocks)), self._size)
            except _PARSE_ERRORS:
                self._table = SymbolTable()
            self._blocks = None
        return self._table

    def lookup(self, addr: int):
        return self._parsed().lookup(addr)

    def address(self, name: str, size: int):
        return self._parsed().address(name, size)

    def __len__(self) -> int:
        return len(self._parsed())


def _symbols(elf: ELFFile, file_size: int) -> SymbolTable:
    """The .symtab function and object symbols. Symbols are a debugging aid
    and the kernel never reads section headers to run a program (nor does
    Linux), so a missing or damaged section table gives an empty table."""
    try:
        shoff = elf.header["e_shoff"]
        nsec = elf.num_sections()
        if shoff + nsec * elf.header["e_shentsize"] > file_size:
            return SymbolTable()
        sections = list(elf.iter_sections())
        entries = []
        for symtab in sections:
            # A bogus entry size or extent would make iteration slow or endless.
            if (symtab["sh_type"] != "SHT_SYMTAB"
                    or symtab["sh_entsize"] != ELF64_SYM_SIZE
                    or symtab["sh_offset"] + symtab["sh_size"] > file_size):
                continue
            for sym in symtab.iter_symbols():
                kind = sym["st_info"]["type"]
                shndx = sym["st_shndx"]
                name = sym.name
                if kind not in ("STT_FUNC", "STT_OBJECT") or not isinstance(shndx, int):
                    continue
                # .L names are assembler-local labels, not program symbols.
                if not name or name.startswith(".L") or not 0 < shndx < len(sections):
                    continue
                start, size = sym["st_value"], sym["st_size"]
                if size > 0:
                    end = start + size
                else:
                    # Unsized symbol: it extends to the end of its section.
                    section = sections[shndx]
                    end = section["sh_addr"] + section["sh_size"]
                if end > start:
                    entries.append((start, end, name))
    except _PARSE_ERRORS:
        return SymbolTable()
    return SymbolTable(entries)
