"""kernel.elf against a real static program and files broken from it."""

from __future__ import annotations

import io
import struct

import pytest
from elftools.elf.elffile import ELFFile
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.elf import IMAGE_TOP, ElfError, ElfImage, SymbolTable, load_image
from kernel.params import USER_MIN
from tests.asmutil import zig_cc

PROGRAM = r"""
static volatile int counter = 3;
int table[8] = {1, 2, 3};
char buf[100];

__attribute__((noinline)) int add_two(int x) {
    return x + counter + table[x & 7] + buf[x & 63];
}

/* A function symbol without a size, as hand-written assembly often has. */
__asm__(".text\n.globl bare\n.type bare, @function\nbare:\n nop\n nop\n ret\n");

void _start(void) {
    buf[1] = (char)add_two(5);
    for (;;) {}
}
"""

# Text segment (with the ELF and program headers in it) at 0x10000, data on
# the next page.
SCRIPT = """
ENTRY(_start)
PHDRS { text PT_LOAD %s; data PT_LOAD; }
SECTIONS {
  . = 0x10000 + SIZEOF_HEADERS;
  .text : { *(.text .text.*) } :text
  .rodata : { *(.rodata .rodata.* .srodata .srodata.*) } :text
  . = ALIGN(0x1000);
  .data : { *(.data .data.* .sdata .sdata.*) } :data
  .bss : { *(.sbss .sbss.* .bss .bss.* COMMON) } :data
}
"""

# ELF64 header field offsets and formats (little-endian).
E_CLASS, E_DATA = 4, 5
E_TYPE, E_MACHINE, E_ENTRY, E_PHOFF = (16, "<H"), (18, "<H"), (24, "<Q"), (32, "<Q")
E_SHOFF, E_PHENTSIZE, E_PHNUM = (40, "<Q"), (54, "<H"), (56, "<H")
# ELF64 program header field offsets and formats.
P_TYPE, P_FLAGS, P_OFFSET, P_VADDR = (0, "<I"), (4, "<I"), (8, "<Q"), (16, "<Q")
P_FILESZ, P_MEMSZ = (32, "<Q"), (40, "<Q")
PT_NULL, PT_LOAD, PT_INTERP = 0, 1, 3
PHENT = 56


def _build(tmp, name: str, script: str, *extra: str) -> bytes:
    (tmp / "prog.c").write_text(PROGRAM)
    (tmp / f"{name}.ld").write_text(script)
    zig_cc(["-O1", "-nostdlib", "-static", f"-Wl,-T,{name}.ld", *extra,
            "prog.c", "-o", name], tmp)
    return (tmp / name).read_bytes()


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("elf")
    return {
        "valid": _build(tmp, "valid", SCRIPT % "FILEHDR PHDRS"),
        "stripped": _build(tmp, "stripped", SCRIPT % "FILEHDR PHDRS", "-Wl,--strip-all"),
        "no_phdrs": _build(tmp, "no_phdrs", SCRIPT % ""),
    }


@pytest.fixture(scope="module")
def valid(programs) -> bytes:
    return programs["valid"]


def symbol(data: bytes, name: str) -> int:
    elf = ELFFile(io.BytesIO(data))
    return elf.get_section_by_name(".symtab").get_symbol_by_name(name)[0]["st_value"]


def get(data: bytes, field: tuple[int, str], base: int = 0) -> int:
    offset, fmt = field
    return struct.unpack_from(fmt, data, base + offset)[0]


def put(data: bytes, field: tuple[int, str], value: int, base: int = 0) -> bytes:
    offset, fmt = field
    out = bytearray(data)
    struct.pack_into(fmt, out, base + offset, value)
    return bytes(out)


def phdr(data: bytes, index: int) -> int:
    """File offset of program header index."""
    return get(data, E_PHOFF) + index * PHENT


def load_indices(data: bytes) -> list[int]:
    return [i for i in range(get(data, E_PHNUM))
            if get(data, P_TYPE, phdr(data, i)) == PT_LOAD]


def set_load(data: bytes, which: int, field: tuple[int, str], value: int) -> bytes:
    """Set a field of the which-th PT_LOAD (0 = text, 1 = data)."""
    return put(data, field, value, phdr(data, load_indices(data)[which]))


def assert_rejected(data: bytes, message: str) -> None:
    with pytest.raises(ElfError) as info:
        load_image(data)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


# --- the valid program ---------------------------------------------------

def test_valid_program_loads(valid):
    image = load_image(valid)
    assert isinstance(image, ElfImage)
    assert image.entry == symbol(valid, "_start")
    text, data = image.segments
    assert (text.vaddr, text.readable, text.writable, text.executable) == \
        (0x10000, True, False, True)
    assert (text.offset, text.filesz) == (0, text.memsz)   # text maps the file from offset 0
    assert (data.vaddr, data.readable, data.writable, data.executable) == \
        (0x11000, True, True, False)
    assert data.filesz < data.memsz                # .bss is the zero-filled tail
    assert valid[data.offset:data.offset + 4] == (3).to_bytes(4, "little")  # counter
    assert (image.phdr_vaddr, image.phent, image.phnum) == \
        (0x10000 + 64, PHENT, get(valid, E_PHNUM))


def test_symbol_lookup(valid):
    symbols = load_image(valid).symbols
    add_two, start, table = (symbol(valid, n) for n in ("add_two", "_start", "table"))
    assert symbols.lookup(add_two) == "add_two"
    assert symbols.lookup(add_two + 6) == "add_two+0x6"
    assert symbols.lookup(start) == "_start"
    assert symbols.lookup(table + 8) == "table+0x8"
    assert symbols.lookup(0x1000) is None
    assert symbols.lookup(0) is None


def test_unsized_symbol_extends_within_its_section(valid):
    symbols = load_image(valid).symbols
    bare = symbol(valid, "bare")
    assert symbols.lookup(bare + 4) == "bare+0x4"
    # .data starts a page after .text ends: past the end of .text is no symbol.
    assert symbols.lookup(0x10FF0) is None


def test_symbol_table_directly():
    table = SymbolTable([(0x300, 0x310, "c"), (0x100, 0x140, "a"), (0x200, 0x204, "b")])
    assert len(table) == 3
    assert table.lookup(0x0FF) is None
    assert table.lookup(0x100) == "a"
    assert table.lookup(0x13F) == "a+0x3f"
    assert table.lookup(0x140) is None
    assert table.lookup(0x203) == "b+0x3"
    assert table.lookup(0x30F) == "c+0xf"
    assert table.lookup(0x310) is None
    assert SymbolTable().lookup(0x100) is None


def test_stripped_program_loads_without_symbols(programs):
    image = load_image(programs["stripped"])
    assert len(image.symbols) == 0
    assert image.symbols.lookup(image.entry) is None
    assert image.entry == load_image(programs["valid"]).entry


def test_program_headers_not_loaded(programs):
    image = load_image(programs["no_phdrs"])
    assert image.phdr_vaddr == 0
    assert image.phnum == get(programs["no_phdrs"], E_PHNUM)


def test_segments_may_touch_the_user_range_bounds(valid):
    size = get(valid, P_MEMSZ, phdr(valid, load_indices(valid)[1]))
    image = load_image(set_load(valid, 1, P_VADDR, IMAGE_TOP - size))
    assert image.segments[-1].vaddr + image.segments[-1].memsz == IMAGE_TOP
    image = load_image(set_load(valid, 1, P_VADDR, USER_MIN))
    assert image.segments[0].vaddr == USER_MIN


def test_damaged_section_table_still_loads(valid):
    # The kernel needs only the program headers; cutting the file after the
    # last segment's bytes loses the section table and the symbols.
    ends = [get(valid, P_OFFSET, phdr(valid, i)) + get(valid, P_FILESZ, phdr(valid, i))
            for i in load_indices(valid)]
    image = load_image(valid[:max(ends)])
    assert len(image.symbols) == 0
    assert len(image.segments) == 2


# --- malformed files -----------------------------------------------------

def test_bad_magic(valid):
    assert_rejected(b"\x00" + valid[1:], "bad ELF magic")
    assert_rejected(b"#!/bin/sh\n", "bad ELF magic")


def test_empty_file():
    assert_rejected(b"", "bad ELF magic")


def test_32_bit_class(valid):
    assert_rejected(valid[:E_CLASS] + b"\x01" + valid[E_CLASS + 1:], "not a 64-bit ELF")


def test_big_endian(valid):
    assert_rejected(valid[:E_DATA] + b"\x02" + valid[E_DATA + 1:], "not a little-endian ELF")


def test_wrong_machine(valid):
    assert_rejected(put(valid, E_MACHINE, 62), "not a RISC-V executable (machine 62)")
    assert_rejected(put(valid, E_MACHINE, 0x7777), "not a RISC-V executable (machine 30583)")


def test_et_dyn(valid):
    assert_rejected(put(valid, E_TYPE, 3), "(ET_DYN) not supported")


def test_et_rel(valid):
    assert_rejected(put(valid, E_TYPE, 1), "not an executable (type ET_REL)")


def test_pt_interp(valid):
    other = next(i for i in range(get(valid, E_PHNUM)) if i not in load_indices(valid))
    data = put(valid, P_TYPE, PT_INTERP, phdr(valid, other))
    assert_rejected(data, "dynamically linked programs are not supported")


def test_no_pt_load(valid):
    data = valid
    for i in load_indices(valid):
        data = put(data, P_TYPE, PT_NULL, phdr(data, i))
    assert_rejected(data, "no PT_LOAD segment")


def test_bad_phentsize(valid):
    assert_rejected(put(valid, E_PHENTSIZE, 32), "bad program header size 32")


def test_program_headers_beyond_eof(valid):
    assert_rejected(put(valid, E_PHNUM, 0xFFF0), "program headers beyond end of file")
    assert_rejected(put(valid, E_PHOFF, len(valid) - PHENT + 1),
                    "program headers beyond end of file")


def test_filesz_greater_than_memsz(valid):
    memsz = get(valid, P_MEMSZ, phdr(valid, load_indices(valid)[1]))
    assert_rejected(set_load(valid, 1, P_FILESZ, memsz + 1),
                    f"segment at 0x11000: filesz {memsz + 1:#x} > memsz {memsz:#x}")


def test_file_range_beyond_eof(valid):
    assert_rejected(set_load(valid, 1, P_OFFSET, len(valid)), "beyond end of file")
    assert_rejected(set_load(valid, 1, P_OFFSET, 2**64 - 1), "beyond end of file")


def test_overlapping_segments(valid):
    assert_rejected(set_load(valid, 1, P_VADDR, 0x10100), "segments overlap at 0x10100")
    # Listed in reverse order, overlapping the text segment's start.
    assert_rejected(set_load(valid, 1, P_VADDR, 0xFFF0), "segments overlap at 0x10000")


def test_huge_memsz(valid):
    assert_rejected(set_load(valid, 1, P_MEMSZ, 0x1_0000_0000), "segment too large")


def test_image_total_over_limit(valid):
    sizes = [get(valid, P_MEMSZ, phdr(valid, i)) for i in load_indices(valid)]
    assert load_image(valid, max_image=sum(sizes)).entry
    with pytest.raises(ElfError, match="segment too large"):
        load_image(valid, max_image=sum(sizes) - 1)


def test_vaddr_wraps_around(valid):
    data = set_load(set_load(valid, 1, P_VADDR, 0xFFFF_FFFF_FFFF_F000), 1, P_MEMSZ, 0x2000)
    assert_rejected(data, "outside user space")


def test_vaddr_in_kernel_range(valid):
    assert_rejected(set_load(valid, 1, P_VADDR, 0xFFFF_FFC0_0000_0000), "outside user space")
    assert_rejected(set_load(valid, 1, P_VADDR, IMAGE_TOP - 8), "outside user space")


def test_vaddr_below_user_min(valid):
    assert_rejected(set_load(valid, 0, P_VADDR, 0), "segment at 0x0+")
    assert_rejected(set_load(valid, 1, P_VADDR, USER_MIN - 1), "outside user space")


def test_entry_outside_executable_segment(valid):
    assert_rejected(put(valid, E_ENTRY, 0), "entry 0x0 outside executable segment")
    assert_rejected(put(valid, E_ENTRY, 0x11000), "entry 0x11000 outside executable segment")
    text_end = 0x10000 + get(valid, P_MEMSZ, phdr(valid, load_indices(valid)[0]))
    assert_rejected(put(valid, E_ENTRY, text_end), "outside executable segment")


def test_entry_segment_without_x_flag(valid):
    assert_rejected(set_load(valid, 0, P_FLAGS, 4), "outside executable segment")


def test_every_truncated_header_prefix(valid):
    header_area = get(valid, E_PHOFF) + get(valid, E_PHNUM) * PHENT
    for n in range(header_area + 1):
        with pytest.raises(ElfError):
            load_image(valid[:n])


# (offset, width) of the fields of an ELF64 header, program header and
# section header.
EHDR_FIELDS = [(16, 2), (18, 2), (20, 4), (24, 8), (32, 8), (40, 8), (48, 4),
               (52, 2), (54, 2), (56, 2), (58, 2), (60, 2), (62, 2)]
PHDR_FIELDS = [(0, 4), (4, 4), (8, 8), (16, 8), (24, 8), (32, 8), (40, 8), (48, 8)]
SHDR_FIELDS = [(0, 4), (4, 4), (8, 8), (16, 8), (24, 8), (32, 8), (40, 4), (44, 4),
               (48, 8), (56, 8)]
SHENT = 64


def header_fields(data: bytes) -> list[tuple[int, int]]:
    """(file offset, width) of every header field in data."""
    fields = list(EHDR_FIELDS)
    for i in range(get(data, E_PHNUM)):
        fields += [(phdr(data, i) + off, width) for off, width in PHDR_FIELDS]
    shoff, shnum = get(data, E_SHOFF), get(data, (60, "<H"))
    for i in range(shnum):
        fields += [(shoff + i * SHENT + off, width) for off, width in SHDR_FIELDS]
    return fields


# Values that tend to break parsers: zero, small, sign bit, all ones.
EDGE_VALUES = [0, 1, 0x7F, 0x80, 0xFFFF, 2**31, 2**32 - 1, 2**63, 2**64 - 1]


def test_every_header_field_at_every_edge_value(valid):
    """Each header field alone set to each edge value loads or gives ElfError.
    (This finds the OverflowError pyelftools raises for offsets >= 2**63.)"""
    for pos, width in header_fields(valid):
        for v in EDGE_VALUES:
            blob = bytearray(valid)
            blob[pos:pos + width] = (v % (1 << 8 * width)).to_bytes(width, "little")
            try:
                load_image(bytes(blob))
            except ElfError as exc:
                assert "\n" not in str(exc)


def test_huge_section_offsets_lose_only_symbols(valid):
    elf = ELFFile(io.BytesIO(valid))
    strtab = elf.get_section_index(".strtab")
    field = get(valid, E_SHOFF) + strtab * SHENT + 24  # sh_offset
    for v in (2**63, 2**64 - 1):
        blob = valid[:field] + v.to_bytes(8, "little") + valid[field + 8:]
        image = load_image(blob)
        assert len(image.symbols) == 0
        assert image.entry == symbol(valid, "_start")


@settings(max_examples=200, deadline=None, database=None)
@given(data=st.data())
def test_damaged_files_raise_only_elf_error(valid, data):
    """Overwrite some header fields with edge or arbitrary values and some
    bytes anywhere, then maybe truncate."""
    blob = bytearray(valid)
    value = st.one_of(st.sampled_from(EDGE_VALUES), st.integers(0, 2**64 - 1))
    field_edit = st.tuples(st.sampled_from(header_fields(valid)), value)
    for (pos, width), v in data.draw(st.lists(field_edit, max_size=4)):
        blob[pos:pos + width] = (v % (1 << 8 * width)).to_bytes(width, "little")
    byte_edit = st.tuples(st.integers(0, len(blob) - 1), st.integers(0, 255))
    for pos, v in data.draw(st.lists(byte_edit, max_size=4)):
        blob[pos] = v
    if data.draw(st.integers(0, 3)) == 0:
        del blob[data.draw(st.integers(0, len(blob))):]
    try:
        load_image(bytes(blob))
    except ElfError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=50, deadline=None, database=None)
@given(tail=st.binary(max_size=400))
def test_random_bytes_raise_only_elf_error(tail):
    for blob in (tail, b"\x7fELF" + tail, b"\x7fELF\x02\x01\x01" + tail):
        try:
            load_image(blob)
        except ElfError:
            pass
