"""C types from DWARF DIEs, and gdb-style formatting of values of those types."""
import struct


class Type:
    """kind: int, char, bool, float, pointer, array, struct, union, enum, void, func."""

    def __init__(self, kind, name, size, signed=False, target=None, count=None, fields=None, enums=None):
        self.kind, self.name, self.size, self.signed = kind, name, size, signed
        self.target, self.count = target, count
        self.fields = fields if fields is not None else []       # [(name, offset, Type)]
        self.enums = enums if enums is not None else {}          # value -> name

    def __repr__(self):
        return self.name

    @property
    def scalar(self) -> bool:
        return self.kind in ("int", "char", "bool", "enum", "pointer", "float")

    def pointer_to(self) -> "Type":
        return Type("pointer", _ptr_name(self), 8, target=self)


LONG = Type("int", "long", 8, signed=True)
INT = Type("int", "int", 4, signed=True)
ULONG = Type("int", "unsigned long", 8)
VOID = Type("void", "void", 1)
CHAR = Type("char", "char", 1, signed=False)
CODE_PTR = Type("pointer", "void (*)()", 8, target=Type("func", "void ()", 1))
DATA_PTR = Type("pointer", "void *", 8, target=VOID)


def _ptr_name(t: Type) -> str:
    if t.kind == "func":
        ret = t.name.split(" (", 1)
        return f"{ret[0]} (*)({ret[1][:-1]})" if len(ret) == 2 else "void (*)()"
    return t.name + (" *" if not t.name.endswith("*") else "*")


def _die_name(die):
    a = die.attributes.get("DW_AT_name")
    return a.value.decode(errors="replace") if a is not None else None


def type_of(die, cache: dict) -> Type:
    """The Type of a variable/parameter/function DIE's DW_AT_type (void if none)."""
    if "DW_AT_type" not in die.attributes:
        return VOID
    return _type(die.get_DIE_from_attribute("DW_AT_type"), cache)


def type_die(die, cache: dict) -> Type:
    """The Type a type DIE (base, struct, typedef, ...) describes."""
    return _type(die, cache)


def _type(die, cache) -> Type:
    key = die.offset
    if key in cache:
        return cache[key]
    tag = die.tag
    size = die.attributes["DW_AT_byte_size"].value if "DW_AT_byte_size" in die.attributes else 0
    name = _die_name(die)
    if tag == "DW_TAG_base_type":
        enc = die.attributes["DW_AT_encoding"].value
        if enc == 0x02:
            t = Type("bool", name, size)
        elif enc == 0x04:
            t = Type("float", name, size, signed=True)
        elif enc in (0x06, 0x08) or (size == 1 and "char" in (name or "")):
            t = Type("char", name, size, signed=enc == 0x06)
        else:
            t = Type("int", name, size, signed=enc in (0x05, 0x0d))
        cache[key] = t
        return t
    if tag in ("DW_TAG_typedef", "DW_TAG_const_type", "DW_TAG_volatile_type", "DW_TAG_restrict_type",
               "DW_TAG_atomic_type"):
        base = type_of(die, cache)
        if tag == "DW_TAG_typedef":
            t = Type(base.kind, name, base.size, base.signed, base.target, base.count, base.fields, base.enums)
        else:
            qual = {"DW_TAG_const_type": "const", "DW_TAG_volatile_type": "volatile"}.get(tag)
            tname = base.name if qual is None else (f"{qual} {base.name}" if base.kind != "pointer" else f"{base.name} {qual}")
            t = Type(base.kind, tname, base.size, base.signed, base.target, base.count, base.fields, base.enums)
        cache[key] = t
        return t
    if tag == "DW_TAG_pointer_type":
        t = Type("pointer", "void *", 8)
        cache[key] = t                    # before the target: self-referential structs
        t.target = type_of(die, cache)
        t.name = _ptr_name(t.target)
        return t
    if tag in ("DW_TAG_structure_type", "DW_TAG_union_type", "DW_TAG_class_type"):
        kw = "union" if tag == "DW_TAG_union_type" else "struct"
        t = Type(kw, f"{kw} {name}" if name else f"{kw} {{...}}", size)
        cache[key] = t
        for c in die.iter_children():
            if c.tag == "DW_TAG_member":
                off = c.attributes.get("DW_AT_data_member_location")
                t.fields.append((_die_name(c) or "", off.value if off is not None and isinstance(off.value, int) else 0,
                                 type_of(c, cache)))
        return t
    if tag == "DW_TAG_enumeration_type":
        t = Type("enum", f"enum {name}" if name else "enum {...}", size or 4)
        for c in die.iter_children():
            if c.tag == "DW_TAG_enumerator":
                t.enums[c.attributes["DW_AT_const_value"].value] = _die_name(c)
        cache[key] = t
        return t
    if tag == "DW_TAG_array_type":
        elem = type_of(die, cache)
        dims = []
        for c in die.iter_children():
            if c.tag == "DW_TAG_subrange_type":
                if "DW_AT_count" in c.attributes:
                    dims.append(c.attributes["DW_AT_count"].value)
                elif "DW_AT_upper_bound" in c.attributes:
                    dims.append(c.attributes["DW_AT_upper_bound"].value + 1)
                else:
                    dims.append(0)
        t = elem
        for n in reversed(dims or [0]):
            t = Type("array", f"{elem.name} [{n}]" if t is elem else f"{t.name.split(' [')[0]} [{n}]" + "".join(
                "[" + x for x in t.name.split(" [", 1)[1:]), n * t.size, target=t, count=n)
        cache[key] = t
        return t
    if tag == "DW_TAG_subroutine_type":
        ret = type_of(die, cache)
        params = [type_of(c, cache).name for c in die.iter_children() if c.tag == "DW_TAG_formal_parameter"]
        t = Type("func", f"{ret.name} ({', '.join(params) or 'void'})", 1)
        cache[key] = t
        return t
    t = Type("void", name or "void", size or 1)
    cache[key] = t
    return t


def decode_int(t: Type, data: bytes) -> int:
    v = int.from_bytes(data[:t.size], "little")
    if t.signed and t.size and v >> (8 * t.size - 1):
        v -= 1 << (8 * t.size)
    return v


def _char(v: int) -> str:
    c = v & 0xFF
    if c == 0:
        return "'\\000'"
    esc = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 39: "\\'", 92: "\\\\"}
    if c in esc:
        return f"'{esc[c]}'"
    return f"'{chr(c)}'" if 32 <= c < 127 else f"'\\{c:03o}'"


def c_string(read, addr: int, limit: int = 200):
    """The NUL-terminated string at addr as gdb shows it, or None if unreadable."""
    out = bytearray()
    while len(out) < limit:
        b = read(addr + len(out), 1)
        if not b:
            return None if not out else '"' + _esc(out) + '"...'
        if b == b"\0":
            return '"' + _esc(out) + '"'
        out += b
    return '"' + _esc(out) + '"...'


def _esc(bs) -> str:
    s = []
    for c in bs:
        if c == 34:
            s.append('\\"')
        elif c == 92:
            s.append("\\\\")
        elif c == 10:
            s.append("\\n")
        elif c == 9:
            s.append("\\t")
        elif 32 <= c < 127:
            s.append(chr(c))
        else:
            s.append(f"\\{c:03o}")
    return "".join(s)


def format_value(t: Type, data: bytes, read, symbolize, top=True, fmt=None) -> str:
    """gdb's rendering of a value of type t held in data. read(addr, n) -> bytes or None
    reads guest memory (for strings); symbolize(addr) -> 'sym+off' or None."""
    k = t.kind
    if fmt is not None and t.scalar:
        return format_scalar(int.from_bytes(data[:t.size], "little"), t.size, fmt, t.signed)
    if k == "int":
        return str(decode_int(t, data))
    if k == "char":
        v = decode_int(t, data)
        return f"{v} {_char(v)}"
    if k == "bool":
        return "true" if any(data[:t.size]) else "false"
    if k == "float":
        v = struct.unpack("<d" if t.size == 8 else "<f", data[:t.size])[0]
        return repr(v) if v != int(v) or abs(v) > 1e16 else str(int(v))
    if k == "enum":
        v = decode_int(t, data)
        return t.enums.get(v, str(v))
    if k == "pointer":
        v = int.from_bytes(data[:8], "little")
        tgt = t.target
        if tgt is not None and tgt.kind == "char" and v:
            s = c_string(read, v)
            text = f"{v:#x}" + (f" {s}" if s is not None else f" <error: Cannot access memory at address {v:#x}>")
            return text
        sym = symbolize(v) if v else None
        text = f"{v:#x}" + (f" <{sym}>" if sym else "")
        return f"({t.name}) {text}" if top else text
    if k == "array":
        el = t.target
        if el.kind == "char":
            raw = bytes(data[:t.size])
            cut = raw.find(b"\0")
            body = raw if cut < 0 else raw[:cut]
            tail = "" if cut < 0 or not any(raw[cut:]) else "..."
            return '"' + _esc(body) + '"' + ("" if cut >= 0 or not raw else "") + tail
        items = [format_value(el, data[i * el.size:(i + 1) * el.size], read, symbolize, False)
                 for i in range(min(t.count, 200))]
        out = []
        i = 0
        while i < len(items):                 # gdb's <repeats N times> for runs of 10 or more
            j = i
            while j < len(items) and items[j] == items[i]:
                j += 1
            if j - i >= 10:
                out.append(f"{items[i]} <repeats {j - i} times>")
            else:
                out.extend(items[i:j])
            i = j
        return "{" + ", ".join(out) + ("..." if t.count > 200 else "") + "}"
    if k in ("struct", "union"):
        parts = [f"{n} = {format_value(ft, data[off:off + ft.size], read, symbolize, False)}"
                 for n, off, ft in t.fields]
        return "{" + ", ".join(parts) + "}"
    if k == "func":
        return f"{{{t.name}}}"
    return "void"


def format_scalar(v: int, size: int, fmt: str, signed=False) -> str:
    """v formatted with a gdb format letter (x d u o t c a z)."""
    bits = 8 * size
    v &= (1 << bits) - 1
    if fmt == "x":
        return f"{v:#x}"
    if fmt == "z":
        return f"0x{v:0{2 * size}x}"
    if fmt == "o":
        return f"0{v:o}" if v else "0"
    if fmt == "t":
        return f"{v:b}"
    if fmt == "d":
        return str(v - (1 << bits) if v >> (bits - 1) else v)
    if fmt == "u":
        return str(v)
    if fmt == "c":
        sv = v - 256 if v & 0x80 and size == 1 else v
        return f"{sv} {_char(v)}"
    return str(v)
