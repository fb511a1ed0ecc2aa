"""Test helper: assemble RISC-V snippets and run the Zig C toolchain.

Snippets are assembled in batches (one .S file, one zig run) and the bytes of
each are cached for the rest of the session, so tests can ask for the same
snippet many times cheaply. Code needing relocations (calls, `la` of a
symbol) comes out unrelocated; use these for single instructions.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from elftools.elf.elffile import ELFFile

ROOT = Path(__file__).resolve().parents[1]
ZIG_CACHE = ROOT / "build" / "zig-cache"
TARGET = ["-target", "riscv64-freestanding-none", "-mcpu=baseline_rv64"]

# (snippet, rvc) -> assembled bytes
_cache: dict[tuple[str, bool], bytes] = {}


def zig_cc(args: list[str], cwd: Path) -> None:
    """Run `zig cc` for RV64GC freestanding with args in cwd; raise
    RuntimeError with the compiler's output if it fails."""
    env = dict(os.environ)
    env["ZIG_GLOBAL_CACHE_DIR"] = str(ZIG_CACHE)
    env["ZIG_LOCAL_CACHE_DIR"] = str(ZIG_CACHE)
    cmd = [sys.executable, "-m", "ziglang", "cc", *TARGET, *args]
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"zig cc {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")


def assemble(snippet: str, rvc: bool = False) -> bytes:
    """Machine code for snippet. With rvc=False the assembler may not
    compress instructions (so `ld` stays 4 bytes); explicit c.* mnemonics
    need rvc=True."""
    return assemble_many([snippet], rvc)[0]


def assemble_many(snippets: Iterable[str], rvc: bool = False) -> list[bytes]:
    """Machine code for each snippet, assembling all uncached ones in one run."""
    snippets = list(snippets)
    missing = sorted({s for s in snippets if (s, rvc) not in _cache})
    if missing:
        for snippet, code in zip(missing, _assemble_batch(missing, rvc)):
            _cache[(snippet, rvc)] = code
    return [_cache[(s, rvc)] for s in snippets]


def _assemble_batch(snippets: list[str], rvc: bool) -> list[bytes]:
    lines = [".text", ".option rvc" if rvc else ".option norvc"]
    for i, snippet in enumerate(snippets):
        lines += [f"asm_snip_{i}:", snippet, f"asm_snip_{i}_end:"]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "snippets.S"
        src.write_text("\n".join(lines) + "\n")
        zig_cc(["-mno-relax", "-c", "snippets.S", "-o", "snippets.o"], Path(tmp))
        obj = (Path(tmp) / "snippets.o").read_bytes()
    elf = ELFFile(io.BytesIO(obj))
    text = elf.get_section_by_name(".text").data()
    labels = {sym.name: sym["st_value"]
              for sym in elf.get_section_by_name(".symtab").iter_symbols()
              if sym.name.startswith("asm_snip_")}
    return [text[labels[f"asm_snip_{i}"]:labels[f"asm_snip_{i}_end"]]
            for i in range(len(snippets))]
