"""What the debugger knows about a guest program from its ELF file: symbols, DWARF line
tables, functions, variables and types, and call-frame (CFI) unwinding.

pyelftools does all the parsing; this module only indexes its results. Everything is built
on first use (a libc-sized program takes about a second) and cached per file.
"""
import bisect
import io
import os
from typing import NamedTuple

from elftools.dwarf.callframe import FDE, RegisterRule
from elftools.dwarf.dwarf_expr import DWARFExprParser
from elftools.dwarf.locationlists import LocationEntry, LocationExpr, LocationParser
from elftools.elf.elffile import ELFFile

from .types import Type, type_die, type_of


class DebugError(Exception):
    """A debugger command cannot be done: the message is shown to the user as one line."""


class Row(NamedTuple):
    addr: int
    file: str
    line: int


class Function(NamedTuple):
    name: str
    low: int
    high: int
    die: object          # DW_TAG_subprogram DIE, or None (symbol table only)


class Var(NamedTuple):
    name: str
    type: Type
    loc: object          # DWARF location: expression bytes, or a list of LocationEntry
    die: object
    is_param: bool = False


_REG_NAMES = (["zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1"]
              + [f"a{i}" for i in range(8)] + [f"s{i}" for i in range(2, 12)] + [f"t{i}" for i in range(3, 7)])
REG_NAMES = tuple(_REG_NAMES)


def _name(die):
    a = die.attributes.get("DW_AT_name")
    return a.value.decode(errors="replace") if a is not None else None


class Program:
    def __init__(self, path: str):
        self.path = path
        with open(path, "rb") as f:
            self.data = f.read()
        self.elf = ELFFile(io.BytesIO(self.data))
        self.entry = self.elf.header["e_entry"]
        self.dwarf = self.elf.get_dwarf_info() if self.elf.has_dwarf_info() else None
        self._syms = None
        self._rows = None
        self._funcs = None
        self._globals = None
        self._fdes = None
        self._types = {}
        self._sources = {}
        self._units = {}
        self._named = None

    def static_read(self, addr: int, n: int):
        """n bytes at addr from the file's loadable segments (initial data), or None."""
        for seg in self.elf.iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_vaddr"] <= addr and addr + n <= seg["p_vaddr"] + seg["p_memsz"]:
                off = addr - seg["p_vaddr"]
                data = seg.data()[off:off + n]
                return data + bytes(n - len(data))
        return None

    # ---- ELF symbols ----
    def _symbols(self):
        if self._syms is None:
            by_name, entries = {}, []
            tab = self.elf.get_section_by_name(".symtab")
            for s in (tab.iter_symbols() if tab is not None else ()):
                kind = s["st_info"]["type"]
                if kind not in ("STT_FUNC", "STT_OBJECT") or not s.name or s["st_shndx"] == "SHN_UNDEF":
                    continue
                entries.append((s["st_value"], s["st_value"] + max(s["st_size"], 1), s.name, kind))
                if s.name not in by_name or s["st_info"]["bind"] == "STB_GLOBAL":
                    by_name[s.name] = (s["st_value"], s["st_size"], kind)
            entries.sort()
            self._syms = (entries, [e[0] for e in entries], by_name)
        return self._syms

    def symbol_table(self):
        """[(addr, end, name, 'STT_FUNC'|'STT_OBJECT')] sorted by address."""
        return self._symbols()[0]

    def lookup(self, name: str):
        """(addr, size, kind) of a symbol, or None."""
        return self._symbols()[2].get(name)

    def symbolize(self, addr: int):
        """'name' or 'name+off' for the symbol containing addr, or None."""
        entries, starts, _ = self._symbols()
        i = bisect.bisect_right(starts, addr) - 1
        label = None
        while i >= 0:
            lo, hi, name, _k = entries[i]
            if lo <= addr < hi:
                text = name if addr == lo else f"{name}+{addr - lo}"
                if not name.startswith(".L"):
                    return text
                label = label or text     # a local label (.L_MergedGlobals): a last resort
            if addr - lo > 1 << 20:
                break
            i -= 1
        return label

    def section_name(self, addr: int):
        """The name of the allocated section holding addr (.text, .data, .bss...), or None."""
        for sec in self.elf.iter_sections():
            if sec["sh_flags"] & 0x2 and sec["sh_addr"] <= addr < sec["sh_addr"] + sec["sh_size"]:
                return sec.name
        return None

    # ---- line table ----
    def _lines(self):
        if self._rows is None:
            rows = []           # (addr, file, line, is_stmt, end)
            if self.dwarf is not None:
                for cu in self.dwarf.iter_CUs():
                    lp = self.dwarf.line_program_for_CU(cu)
                    if lp is None:
                        continue
                    files = self._cu_files(cu, lp)
                    for e in lp.get_entries():
                        st = e.state
                        if st is None:
                            continue
                        rows.append((st.address, files.get(st.file, "??"), st.line, st.is_stmt, st.end_sequence))
            rows.sort(key=lambda r: (r[0], not r[4]))
            self._rows = rows
            self._row_addrs = [r[0] for r in rows]
        return self._rows

    def _cu_files(self, cu, lp):
        top = cu.get_top_DIE()
        comp = top.attributes.get("DW_AT_comp_dir")
        comp = comp.value.decode(errors="replace") if comp is not None else ""
        dirs = [d.decode(errors="replace") if isinstance(d, bytes) else d.DW_LNCT_path.decode(errors="replace")
                for d in lp["include_directory"]]
        out = {}
        v5 = lp.header.version >= 5
        for i, fe in enumerate(lp["file_entry"]):
            name = fe.name if hasattr(fe, "name") else fe.DW_LNCT_path
            name = name.decode(errors="replace")
            di = fe.dir_index if hasattr(fe, "dir_index") else fe.DW_LNCT_directory_index
            d = comp if (di == 0 and not v5) else (dirs[di if v5 else di - 1] if (di if v5 else di - 1) < len(dirs) else "")
            if not os.path.isabs(d):
                d = os.path.join(comp, d)
            out[i if v5 else i + 1] = os.path.normpath(os.path.join(d, name))
        return out

    def row_at(self, pc: int):
        """(start, end, file, line) of the line-table row covering pc, or None. Of several
        rows at one address the last counts, as in gdb."""
        rows = self._lines()
        i = bisect.bisect_right(self._row_addrs, pc) - 1
        if i < 0 or rows[i][4] or rows[i][2] == 0:
            return None
        end = rows[i + 1][0] if i + 1 < len(rows) else rows[i][0] + 2
        return rows[i][0], end, rows[i][1], rows[i][2]

    def raw_row_at(self, pc: int):
        """row_at, but a row the compiler marked with line 0 (code of no particular line:
        a stepped line goes on through it, as in gdb) is returned too, with line 0."""
        rows = self._lines()
        i = bisect.bisect_right(self._row_addrs, pc) - 1
        if i < 0 or rows[i][4]:
            return None
        end = rows[i + 1][0] if i + 1 < len(rows) else rows[i][0] + 2
        return rows[i][0], end, rows[i][1], rows[i][2]

    def line_at(self, pc: int):
        r = self.row_at(pc)
        return Row(pc, r[2], r[3]) if r else None

    def is_stmt_start(self, pc: int) -> bool:
        rows = self._lines()
        i = bisect.bisect_left(self._row_addrs, pc)
        while i < len(rows) and rows[i][0] == pc:
            if rows[i][3] and not rows[i][4] and rows[i][2]:
                return True
            i += 1
        return False

    def find_file(self, name: str) -> str:
        files = sorted({r[1] for r in self._lines()})
        exact = [f for f in files if f == name or f.endswith("/" + name)]
        if not exact:
            raise DebugError(f'No source file named {name}.')
        return exact[0]

    def line_addresses(self, file: str, line: int):
        """(addresses, line) for breakpoint at file:line: the first is_stmt address of each
        function with that line, moving to the next line with code as gdb does."""
        rows = [r for r in self._lines() if r[1] == file and r[3] and not r[4] and r[2] >= line]
        if not rows:
            raise DebugError(f"Line {line} is out of range for \"{os.path.basename(file)}\".")
        best = min(r[2] for r in rows)
        out = {}
        for r in rows:
            if r[2] == best:
                f = self.function_at(r[0])
                key = f.low if f else r[0]
                out[key] = min(out.get(key, r[0]), r[0])
        return sorted(out.values()), best

    def source(self, file: str):
        if file not in self._sources:
            try:
                with open(file, errors="replace") as f:
                    self._sources[file] = f.read().splitlines()
            except OSError:
                self._sources[file] = None
        return self._sources[file]

    # ---- functions and variables ----
    def _index(self):
        if self._funcs is None:
            funcs, globs = [], {}
            if self.dwarf is not None:
                for cu in self.dwarf.iter_CUs():
                    for die in cu.get_top_DIE().iter_children():
                        if die.tag == "DW_TAG_subprogram":
                            lo = die.attributes.get("DW_AT_low_pc")
                            hi = die.attributes.get("DW_AT_high_pc")
                            if lo is None or hi is None:
                                continue
                            high = hi.value if hi.form == "DW_FORM_addr" else lo.value + hi.value
                            name = _name(die) or self._spec_name(die) or "??"
                            if lo.value:
                                funcs.append(Function(name, lo.value, high, die))
                        elif die.tag == "DW_TAG_variable" and "DW_AT_location" in die.attributes:
                            name = _name(die) or self._spec_name(die)
                            if name and (name not in globs or "DW_AT_external" in die.attributes):
                                globs[name] = die
            funcs.sort(key=lambda f: f.low)
            self._funcs, self._func_lows, self._globals = funcs, [f.low for f in funcs], globs
        return self._funcs

    def _spec_name(self, die):
        for a in ("DW_AT_specification", "DW_AT_abstract_origin"):
            if a in die.attributes:
                return _name(die.get_DIE_from_attribute(a))
        return None

    def function_at(self, pc: int):
        funcs = self._index()
        i = bisect.bisect_right(self._func_lows, pc) - 1
        if i >= 0 and funcs[i].low <= pc < funcs[i].high:
            return funcs[i]
        e = self._symbols()
        j = bisect.bisect_right(e[1], pc) - 1
        if j >= 0 and e[0][j][3] == "STT_FUNC" and e[0][j][0] <= pc < e[0][j][1]:
            return Function(e[0][j][2], e[0][j][0], e[0][j][1], None)
        return None

    def function(self, name: str):
        for f in self._index():
            if f.name == name:
                return f
        s = self.lookup(name)
        if s is not None and s[2] == "STT_FUNC":
            return Function(name, s[0], s[0] + max(s[1], 1), None)
        return None

    def breakpoint_address(self, f: Function) -> int:
        """Where `break FUNC` stops: the second line-table row of the function (after the
        prologue that sets up the frame), as gdb does; its entry if it has no lines."""
        rows = self._lines()
        i = bisect.bisect_left(self._row_addrs, f.low)
        addrs = []
        while i < len(rows) and rows[i][0] < f.high:
            if not rows[i][4] and rows[i][2] and rows[i][0] not in addrs:
                addrs.append(rows[i][0])
            i += 1
        if len(addrs) >= 2:
            return addrs[1]
        return f.low

    def global_var(self, name: str):
        self._index()
        die = self._globals.get(name)
        if die is None:
            return None
        return Var(name, self.type(die), self._loc(die, die.attributes["DW_AT_location"]), die)

    def globals(self):
        self._index()
        return sorted(self._globals)

    def unit_statics(self, file_name: str):
        """({name: Var} of the file-scope variables, [{enumerator: value} of each enum]) of
        the compilation unit of the source file file_name (a base name), or None if no such
        unit is linked."""
        if file_name not in self._units:
            self._units[file_name] = self._unit_statics(file_name)
        return self._units[file_name]

    def _unit_statics(self, file_name):
        if self.dwarf is None:
            return None
        for cu in self.dwarf.iter_CUs():
            top = cu.get_top_DIE()
            if os.path.basename(_name(top) or "") != file_name:
                continue
            variables, enums = {}, []
            for die in top.iter_children():
                if die.tag == "DW_TAG_variable" and "DW_AT_location" in die.attributes and _name(die):
                    variables[_name(die)] = Var(_name(die), self.type(die),
                                                self._loc(die, die.attributes["DW_AT_location"]), die)
                elif die.tag == "DW_TAG_enumeration_type":
                    enums.append({_name(c): c.attributes["DW_AT_const_value"].value
                                  for c in die.iter_children() if c.tag == "DW_TAG_enumerator"})
            return variables, enums
        return None

    def frame_base(self, f: Function):
        a = f.die.attributes.get("DW_AT_frame_base") if f and f.die is not None else None
        return self._loc(f.die, a) if a is not None else None

    def scopes(self, f: Function, pc: int):
        """Variables visible at pc in f, innermost scope first (parameters last)."""
        if f is None or f.die is None:
            return []
        out = []

        def walk(die, depth):
            inner = []
            for c in die.iter_children():
                if c.tag in ("DW_TAG_variable", "DW_TAG_formal_parameter"):
                    name = _name(c) or self._spec_name(c)
                    if name is None:
                        continue
                    loc = c.attributes.get("DW_AT_location")
                    inner.append(Var(name, self.type(c), self._loc(c, loc), c, c.tag == "DW_TAG_formal_parameter"))
                elif c.tag == "DW_TAG_lexical_block" and self._in_block(c, pc):
                    walk(c, depth + 1)
            out.append((depth, inner))
        walk(f.die, 0)
        out.sort(key=lambda x: -x[0])
        return [v for _d, vs in out for v in vs]

    def _in_block(self, die, pc):
        lo = die.attributes.get("DW_AT_low_pc")
        hi = die.attributes.get("DW_AT_high_pc")
        if lo is not None and hi is not None:
            high = hi.value if hi.form == "DW_FORM_addr" else lo.value + hi.value
            return lo.value <= pc < high
        rng = die.attributes.get("DW_AT_ranges")
        if rng is not None and self.dwarf.range_lists() is not None:
            base = die.cu.get_top_DIE().attributes.get("DW_AT_low_pc")
            base = base.value if base is not None else 0
            for r in self.dwarf.range_lists().get_range_list_at_offset(rng.value, cu=die.cu):
                if hasattr(r, "begin_offset") and base + r.begin_offset <= pc < base + r.end_offset:
                    return True
        return False

    def _loc(self, die, attr):
        if attr is None:
            return None
        if attr.form in ("DW_FORM_exprloc", "DW_FORM_block1", "DW_FORM_block2", "DW_FORM_block4"):
            return bytes(attr.value)
        parser = LocationParser(self.dwarf.location_lists())
        ll = parser.parse_from_attribute(attr, die.cu["version"], die)
        if isinstance(ll, LocationExpr):
            return bytes(ll.loc_expr)
        base = die.cu.get_top_DIE().attributes.get("DW_AT_low_pc")
        base = base.value if base is not None else 0
        out = []
        for e in ll:
            if isinstance(e, LocationEntry):
                lo, hi = (e.begin_offset, e.end_offset) if e.is_absolute else (base + e.begin_offset, base + e.end_offset)
                out.append((lo, hi, bytes(e.loc_expr)))
            elif hasattr(e, "base_address"):
                base = e.base_address
        return out

    def named_type(self, kind: str, name: str):
        """The Type of `struct NAME` (kind struct, union, enum) or of typedef NAME, from the
        first compile unit defining it (declarations skipped), or None."""
        if self._named is None:
            tags = {"DW_TAG_structure_type": "struct", "DW_TAG_union_type": "union",
                    "DW_TAG_enumeration_type": "enum", "DW_TAG_typedef": "typedef"}
            self._named = {}
            for cu in (self.dwarf.iter_CUs() if self.dwarf is not None else ()):
                for die in cu.get_top_DIE().iter_children():
                    k = tags.get(die.tag)
                    if k is not None and _name(die) and "DW_AT_declaration" not in die.attributes:
                        self._named.setdefault((k, _name(die)), die)
        die = self._named.get((kind, name))
        if die is None:
            return None
        return type_die(die, self._types)

    def type(self, die) -> Type:
        return type_of(die, self._types)

    def expr_ops(self, expr, die):
        return DWARFExprParser(die.cu.structs).parse_expr(expr)

    # ---- call frames ----
    def _cfi(self):
        if self._fdes is None:
            fdes = []
            if self.dwarf is not None and self.dwarf.has_CFI():
                for e in self.dwarf.CFI_entries():
                    if isinstance(e, FDE) and e.header["initial_location"]:
                        fdes.append((e.header["initial_location"], e.header["initial_location"] + e.header["address_range"], e))
            fdes.sort(key=lambda x: x[0])
            self._fdes = (fdes, [f[0] for f in fdes], {})
        return self._fdes

    def cfa_rule(self, pc: int):
        """The CFI row for pc: dict with 'cfa' (CFARule) and register rules, or None."""
        fdes, lows, cache = self._cfi()
        i = bisect.bisect_right(lows, pc) - 1
        if i < 0 or not fdes[i][0] <= pc < fdes[i][1]:
            return None
        lo, _hi, fde = fdes[i]
        if lo not in cache:
            cache[lo] = fde.get_decoded().table
        row = None
        for r in cache[lo]:
            if r["pc"] <= pc:
                row = r
        return row

    def unwind(self, regs: dict, read64):
        """The caller's registers (x0..x31 as 0..31, 'pc') from this frame's, or None at the
        outermost frame. read64(addr) reads guest memory (None if unreadable)."""
        pc = regs["pc"]
        row = self.cfa_rule(pc)
        out = dict(regs)
        rule = row.get(1) if row is not None else None
        if isinstance(rule, RegisterRule) and rule.type == RegisterRule.UNDEFINED:
            return None                   # no return address: the outermost frame (a thread's start)
        if row is not None and row["cfa"].reg is not None:
            cfa = (regs[row["cfa"].reg] + row["cfa"].offset) & (2**64 - 1)
            ra = regs.get(1)
            for reg, rule in row.items():
                if isinstance(reg, int) and isinstance(rule, RegisterRule) and rule.type == RegisterRule.OFFSET:
                    v = read64(cfa + rule.arg)
                    if v is None:
                        return None
                    out[reg] = v
                    if reg == 1:
                        ra = v
            out[2] = cfa
        else:
            fp = regs[8]
            if self.function_at(pc) is None or fp < 16:
                return None
            ra, prev = read64(fp - 8), read64(fp - 16)
            if ra is None or prev is None:
                return None
            out[2], out[8] = fp, prev
        if not ra or ra == pc and out[2] == regs[2]:
            return None
        out["pc"] = ra
        out["cfa"] = out[2]
        return out
