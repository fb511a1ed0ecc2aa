"""Frames (CFI unwinding of a thread's stack) and C expressions over them: variables from
DWARF locations, registers ($pc, $a0), history ($1), literals, arithmetic, comparisons,
pointers (* & [] -> .), casts to base types, and assignment.
"""
import re

from emulator.hart import REG_PC

from .program import REG_NAMES, DebugError
from .typenames import TypeNames
from .types import CHAR, CODE_PTR, DATA_PTR, INT, LONG, ULONG, Type, decode_int

CALLEE_SAVED = {2, 3, 4, 8, 9} | set(range(18, 28))
MASK = (1 << 64) - 1
REGS = {n: i for i, n in enumerate(REG_NAMES)}
REGS.update({"fp": 8, f"x{0}": 0})
REGS.update({f"x{i}": i for i in range(32)})


def frames(session, t, limit=64):
    """Frame dicts of thread t, innermost first: registers 0..31 that are known, 'pc', and
    'cfa'. Outer frames know only the callee-saved registers."""
    prog = session.prog
    r = session.regs(t)
    f0 = {i: r[i] for i in range(32)}
    f0["pc"] = r[REG_PC]
    out = [f0]

    def read64(a):
        b = session.read(a, 8, t)
        return int.from_bytes(b, "little") if b else None

    while len(out) < limit:
        cur = out[-1]
        fn = prog.function_at(cur["pc"] if len(out) == 1 else cur["pc"] - 1)
        if fn is not None and fn.name == "main" or fn is None:
            break
        probe = dict(cur)
        if len(out) > 1:
            probe["pc"] = cur["pc"] - 1
        try:
            caller = prog.unwind(probe, read64)
        except KeyError:
            caller = None
        if caller is None or caller["pc"] == 0 or caller[2] < cur[2]:
            break
        nxt = {k: v for k, v in caller.items() if not isinstance(k, int) or k in CALLEE_SAVED}
        out.append(nxt)
    for f in out:
        f.setdefault("cfa", None)
    return out


_SIGFAULT = Type("struct", "struct {...}", 8, fields=[("si_addr", 0, DATA_PTR)])
SIGINFO = Type("struct", "siginfo_t", 24, fields=[
    ("si_signo", 0, INT), ("si_errno", 4, INT), ("si_code", 8, INT),
    ("_sifields", 16, Type("union", "union {...}", 8, fields=[("_sigfault", 0, _SIGFAULT)]))])


class Value:
    def __init__(self, type: Type, data=None, addr=None, reg=None):
        self.type, self.data, self.addr, self.reg = type, data, addr, reg

    @property
    def int(self) -> int:
        t = self.type
        if t.kind in ("array", "func"):
            return self.addr
        if t.kind in ("struct", "union"):
            raise DebugError("Invalid cast.")
        if t.kind == "float":
            raise DebugError("floating-point values are not supported in expressions")
        return decode_int(t, self.data) if t.kind != "pointer" else int.from_bytes(self.data[:8], "little")


def _int_value(v: int, t=LONG) -> Value:
    return Value(t, (v & ((1 << 8 * t.size) - 1)).to_bytes(t.size, "little"))


_TOKEN = re.compile(r"\s*(?:(0[xX][0-9a-fA-F]+|\d+)|('(?:\\.|[^'])')|(\$?[A-Za-z_][A-Za-z0-9_]*|\$\d*)"
                    r"|(->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%<>&|^!~()\[\].=,?:]))")
_COMPARE = {"==": lambda x, y: x == y, "!=": lambda x, y: x != y, "<": lambda x, y: x < y,
            ">": lambda x, y: x > y, "<=": lambda x, y: x <= y, ">=": lambda x, y: x >= y}
_ARITH = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
          "/": lambda x, y: _cdiv(x, y), "%": lambda x, y: x - _cdiv(x, y) * y,
          "&": lambda x, y: x & y, "|": lambda x, y: x | y, "^": lambda x, y: x ^ y,
          "<<": lambda x, y: x << y, ">>": lambda x, y: x >> y}


def _cdiv(x: int, y: int) -> int:
    """C's integer division: the quotient truncated toward zero."""
    q = abs(x) // abs(y)
    return q if (x < 0) == (y < 0) else -q


_BINARY = [("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", ">", "<=", ">="), ("<<", ">>"),
           ("+", "-"), ("*", "/", "%")]


class Evaluator(TypeNames):
    def __init__(self, session, t=None, frame_no=None, allow_no_thread=False, scope_pc=None):
        """With scope_pc the expression is only checked (Session.check_condition): names
        resolve as at that code address, nothing is read or written, values are zeros."""
        self.s = session
        self.prog = session.prog
        self.dry = scope_pc is not None
        self.scope_pc = scope_pc
        if self.dry:
            t, allow_no_thread = None, True
        self.t = t
        if self.t is None and not allow_no_thread:
            self.t = session.thread()
        elif self.t is None and not self.dry and session.alive(session.tid):
            self.t = session.inspect.thread(session.tid)
        self.frame_no = frame_no if frame_no is not None else (session.frame_no if t is None else 0)
        self._frames = None

    # ---- frames and locations ----
    def frame(self):
        if self.t is None:
            return None
        if self._frames is None:
            self._frames = self.s.frames(self.t)
        if self.frame_no >= len(self._frames):
            self.frame_no = 0
        return self._frames[self.frame_no]

    def lookup_pc(self):
        f = self.frame()
        return f["pc"] - (1 if self.frame_no > 0 else 0)

    def reg(self, n):
        f = self.frame()
        if f is None:
            raise DebugError("No registers.")
        if n == 0:
            return 0
        if n not in f:
            raise DebugError("<not saved>")
        return f[n]

    def cfa(self):
        row = self.prog.cfa_rule(self.lookup_pc())
        if row is None or row["cfa"].reg is None:
            raise DebugError("<optimized out>")
        return (self.reg(row["cfa"].reg) + row["cfa"].offset) & MASK

    def location(self, loc, die, fn=None):
        """('mem', addr) | ('reg', n) | ('value', v) for a DWARF location."""
        if loc is None:
            raise DebugError("<optimized out>")
        if isinstance(loc, list):
            pc = self.lookup_pc()
            expr = next((e for lo, hi, e in loc if lo <= pc < hi), None)
            if expr is None:
                raise DebugError("<optimized out>")
            loc = expr
        stack = []
        for op in self.prog.expr_ops(loc, die):
            name, args = op.op_name, op.args
            if name == "DW_OP_addr" or name.startswith("DW_OP_const"):
                stack.append(args[0])
            elif name.startswith("DW_OP_lit"):
                stack.append(int(name[9:]))
            elif name == "DW_OP_fbreg":
                base = self.location(self.prog.frame_base(fn), die, fn)
                b = self.reg(base[1]) if base[0] == "reg" else base[1]
                stack.append((b + args[0]) & MASK)
            elif name == "DW_OP_call_frame_cfa":
                stack.append(self.cfa())
            elif name.startswith("DW_OP_breg"):
                n = args[0] if name == "DW_OP_bregx" else int(name[10:])
                stack.append((self.reg(n) + args[-1]) & MASK)
            elif name.startswith("DW_OP_reg"):
                return ("reg", args[0] if name == "DW_OP_regx" else int(name[9:]))
            elif name == "DW_OP_plus_uconst":
                stack[-1] = (stack[-1] + args[0]) & MASK
            elif name in ("DW_OP_plus", "DW_OP_minus", "DW_OP_and", "DW_OP_or", "DW_OP_mul"):
                b, a = stack.pop(), stack.pop()
                stack.append({"DW_OP_plus": a + b, "DW_OP_minus": a - b, "DW_OP_and": a & b,
                              "DW_OP_or": a | b, "DW_OP_mul": a * b}[name] & MASK)
            elif name == "DW_OP_deref":
                b = self.s.read(stack.pop(), 8, self.t)
                if b is None:
                    raise DebugError("<optimized out>")
                stack.append(int.from_bytes(b, "little"))
            elif name == "DW_OP_stack_value":
                return ("value", stack[-1])
            elif name == "DW_OP_piece":
                break
            else:
                raise DebugError("<optimized out>")
        if not stack:
            raise DebugError("<optimized out>")
        return ("mem", stack[-1])

    def var_value(self, var, fn=None) -> Value:
        if self.dry:
            return Value(var.type, bytes(max(var.type.size, 1)), addr=0)
        kind, x = self.location(var.loc, var.die, fn)
        t = var.type
        if kind == "reg":
            return Value(t, self.reg(x).to_bytes(8, "little")[:max(t.size, 1)], reg=x)
        if kind == "value":
            return Value(t, (x & MASK).to_bytes(8, "little")[:max(t.size, 1)])
        return self.at(t, x)

    def at(self, t: Type, addr: int) -> Value:
        if t.kind == "func":
            return Value(t, b"", addr=addr)
        if self.dry:
            return Value(t, bytes(t.size), addr=addr)
        data = self.s.read(addr, t.size, self.t) if self.t is not None else self.prog.static_read(addr, t.size)
        if data is None:
            raise DebugError(f"Cannot access memory at address {addr:#x}")
        return Value(t, data, addr=addr)

    def variables(self, params: bool):
        """[(name, Value or error text)] of the frame's args or locals."""
        fn = self.prog.function_at(self.lookup_pc())
        out = []
        for v in self.prog.scopes(fn, self.lookup_pc()):
            if v.is_param != params:
                continue
            try:
                out.append((v.name, self.var_value(v, fn)))
            except DebugError as e:
                out.append((v.name, str(e)))
        return out

    # ---- names ----
    def name(self, ident: str) -> Value:
        if ident.startswith("$"):
            if self.dry:
                return Value(LONG, bytes(8), reg=0)
            return self.dollar(ident[1:])
        if self.t is not None or self.scope_pc is not None:
            pc = self.scope_pc if self.scope_pc is not None else self.lookup_pc()
            fn = self.prog.function_at(pc)
            for v in self.prog.scopes(fn, pc):
                if v.name == ident:
                    return self.var_value(v, fn)
        g = self.prog.global_var(ident)
        if g is not None:
            return self.var_value(g)
        f = self.prog.function(ident)
        if f is not None:
            t = self.prog.type(f.die) if f.die is not None else INT
            params = []
            if f.die is not None:
                params = [self.prog.type(c).name for c in f.die.iter_children() if c.tag == "DW_TAG_formal_parameter"]
            return Value(Type("func", f"{t.name} ({', '.join(params) or 'void'})", 1), b"", addr=f.low)
        sym = self.prog.lookup(ident)
        if sym is not None:
            return self.at(INT, sym[0])
        raise DebugError(f'No symbol "{ident}" in current context.')

    def dollar(self, n: str) -> Value:
        if n == "" or n.isdigit():
            hist = self.s.history
            if not hist:
                raise DebugError("History is empty." if n == "" else f"History has not yet reached ${n}.")
            i = len(hist) if n == "" else int(n)
            if not 1 <= i <= len(hist):
                raise DebugError(f"History has not yet reached ${n}.")
            return hist[i - 1]
        if n == "pc":
            return Value(CODE_PTR, self._pc().to_bytes(8, "little"), reg="pc")
        if n in ("sp", "fp"):
            return Value(DATA_PTR, self.reg(REGS[n]).to_bytes(8, "little"), reg=REGS[n])
        if n in REGS:
            return Value(LONG, self.reg(REGS[n]).to_bytes(8, "little"), reg=REGS[n])
        if n in self.s.convenience:
            return self.s.convenience[n]
        if n == "_siginfo":
            if self.s.siginfo is None:
                raise DebugError("Unable to read siginfo")
            sig, code, addr = self.s.siginfo
            return Value(SIGINFO, sig.to_bytes(4, "little") + bytes(4) + code.to_bytes(4, "little") + bytes(4)
                         + addr.to_bytes(8, "little"))
        return Value(Type("void", "void", 1), b"")

    def _pc(self):
        f = self.frame()
        if f is None:
            raise DebugError("No registers.")
        return f["pc"]

    # ---- parsing ----
    def value(self, text: str) -> Value:
        self.toks = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise DebugError(f"Invalid character '{text[pos]}' in expression.")
            self.toks.append(next(g for g in m.groups() if g is not None))
            pos = m.end()
        if not self.toks:
            raise DebugError("Argument required (expression to compute).")
        self.i = 0
        v = self.assign()
        if self.i < len(self.toks):
            raise DebugError(f"A syntax error in expression, near `{' '.join(self.toks[self.i:])}'.")
        return v

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, tok=None):
        cur = self.peek()
        if cur is None or (tok is not None and cur != tok):
            raise DebugError("A syntax error in expression, near `%s'." % " ".join(self.toks[self.i:]))
        self.i += 1
        return cur

    def assign(self):
        lhs = self.binary(0)
        if self.peek() == "=":
            self.take()
            rhs = self.assign()
            return self.store(lhs, rhs)
        return lhs

    def store(self, lhs, rhs):
        if self.dry:
            return lhs
        return self.s.assign(self, lhs, rhs)

    def bump(self, v, by, post):
        """++/-- on the lvalue v: the old value if post, else the new one."""
        new = self.store(v, self.apply("+", v, _int_value(by)) if v.type.kind == "pointer"
                         else _int_value(v.int + by, v.type))
        return v if post else new

    def binary(self, level):
        if level == len(_BINARY):
            return self.unary()
        v = self.binary(level + 1)
        while self.peek() in _BINARY[level]:
            op = self.take()
            if op in ("&&", "||"):            # when the left operand decides, the right is only parsed
                decided = (v.int == 0) if op == "&&" else (v.int != 0)
                dry, self.dry = self.dry, self.dry or decided
                try:
                    w = self.binary(level + 1)
                finally:
                    self.dry = dry
                v = _int_value(int(not decided and w.int != 0) if op == "&&" else int(decided or w.int != 0), INT)
                continue
            w = self.binary(level + 1)
            v = self.apply(op, v, w)
        return v

    def apply(self, op, a, b):
        pa, pb = a.type.kind in ("pointer", "array"), b.type.kind in ("pointer", "array")
        x, y = a.int, b.int
        if op in ("+", "-") and pa and not pb:
            el = a.type.target.size or 1
            return _int_value(x + y * el if op == "+" else x - y * el, a.type if a.type.kind == "pointer" else a.type.target.pointer_to())
        if op == "+" and pb and not pa:
            return self.apply("+", b, a)
        if op == "-" and pa and pb:
            return _int_value((x - y) // (a.type.target.size or 1))
        if op in ("==", "!=", "<", ">", "<=", ">="):
            return _int_value(int(_COMPARE[op](x, y)), INT)
        t = LONG if max(a.type.size, b.type.size) > 4 else INT
        if op in ("/", "%") and y == 0:
            if self.dry:
                return _int_value(0, t)
            raise DebugError("Division by zero")
        if op in ("<<", ">>") and y < 0:
            if self.dry:
                return _int_value(0, t)
            raise DebugError(f"right operand of {op} is negative ({y})")
        return _int_value(_ARITH[op](x, min(y, 8 * t.size) if op in ("<<", ">>") else y), t)

    def unary(self):
        tok = self.peek()
        if tok in ("++", "--"):
            self.take()
            return self.bump(self.unary(), 1 if tok == "++" else -1, post=False)
        if tok == "-":
            self.take()
            v = self.unary()
            return _int_value(-v.int, LONG if v.type.size > 4 else INT)
        if tok == "!":
            self.take()
            return _int_value(int(self.unary().int == 0), INT)
        if tok == "~":
            self.take()
            v = self.unary()
            return _int_value(~v.int, LONG if v.type.size > 4 else INT)
        if tok == "*":
            self.take()
            v = self.unary()
            if v.type.kind not in ("pointer", "array"):
                raise DebugError("Attempt to take contents of a non-pointer value.")
            tgt = v.type.target
            if tgt is None or tgt.kind == "void":
                raise DebugError("Attempt to take contents of a non-pointer value.")
            return self.at(tgt, v.int)
        if tok == "&":
            self.take()
            v = self.unary()
            if v.addr is None:
                raise DebugError("Attempt to take address of value not located in memory.")
            return _int_value(v.addr, v.type.pointer_to())
        if tok == "sizeof":
            self.take()
            self.take("(")
            t = self.type_name()
            if t is None:
                v = self.assign()
                t = v.type
            self.take(")")
            return _int_value(t.size, ULONG)
        if tok == "(":
            save = self.i
            self.take()
            t = self.type_name()
            if t is not None and self.peek() == ")":
                self.take()
                v = self.unary()
                if t.kind in ("int", "char", "bool", "pointer", "enum"):
                    return _int_value(v.int, t)
                if t.kind == v.type.kind and t.size == v.type.size:
                    return Value(t, v.data, addr=v.addr, reg=v.reg)
                raise DebugError("Invalid cast.")
            self.i = save
        return self.postfix()

    def postfix(self):
        v = self.primary()
        while True:
            tok = self.peek()
            if tok in ("++", "--"):
                self.take()
                v = self.bump(v, 1 if tok == "++" else -1, post=True)
            elif tok == "[":
                self.take()
                idx = self.assign()
                self.take("]")
                if v.type.kind not in ("pointer", "array"):
                    raise DebugError("cannot subscript something of type `%s'" % v.type.name)
                el = v.type.target
                v = self.at(el, v.int + idx.int * el.size)
            elif tok in (".", "->"):
                self.take()
                field = self.take()
                if tok == "->":
                    if v.type.kind != "pointer":
                        raise DebugError("The -> operator needs a pointer.")
                    v = self.at(v.type.target, v.int)
                if v.type.kind not in ("struct", "union"):
                    raise DebugError("Attempt to extract a component of a value that is not a structure.")
                for n, off, ft in v.type.fields:
                    if n == field:
                        if v.addr is not None:
                            v = self.at(ft, v.addr + off)
                        else:
                            v = Value(ft, v.data[off:off + ft.size])
                        break
                else:
                    raise DebugError(f"There is no member named {field}.")
            else:
                return v

    def primary(self):
        tok = self.take()
        if tok == "(":
            v = self.assign()
            self.take(")")
            return v
        if tok[0].isdigit():
            n = int(tok, 0)
            return _int_value(n, INT if n < 2**31 else LONG)
        if tok[0] == "'":
            body = tok[1:-1]
            c = {"\\n": 10, "\\t": 9, "\\0": 0, "\\\\": 92, "\\'": 39}.get(body, ord(body[-1]))
            return _int_value(c, CHAR)
        if tok[0].isalpha() or tok[0] in "_$":
            return self.name(tok)
        raise DebugError("A syntax error in expression, near `%s'." % " ".join(self.toks[self.i - 1:]))
