"""C type names in an expression (casts and sizeof): base types, struct/union/enum TAG and
typedef names, each followed by *s. A part of the Evaluator (evaluate.py), which tokenizes
the expression: these methods read its tokens (self.toks from self.i) and move self.i past
a type name.
"""
import re

from .program import DebugError
from .types import CHAR, INT, LONG, ULONG, Type

_BASE_TYPES = {"char": CHAR, "signed char": Type("char", "signed char", 1, True),
               "unsigned char": Type("char", "unsigned char", 1), "short": Type("int", "short", 2, True),
               "unsigned short": Type("int", "unsigned short", 2), "int": INT,
               "unsigned": Type("int", "unsigned int", 4), "unsigned int": Type("int", "unsigned int", 4),
               "long": LONG, "unsigned long": ULONG, "long long": Type("int", "long long", 8, True),
               "unsigned long long": Type("int", "unsigned long long", 8), "void": Type("void", "void", 1)}
_BASE_WORDS = ("unsigned", "signed", "long", "short", "int", "char", "void", "const")


class TypeNames:
    """The Evaluator's parsing of type names (mixed into Evaluator; self is the Evaluator)."""

    def type_name(self):
        """The type named at the current token (base types, struct/union/enum TAG and
        typedef names, then *s), consuming it; None (consuming nothing) if there is none."""
        j = self.i
        while j < len(self.toks) and self.toks[j] in ("const", "volatile"):
            j += 1
        t = None
        if j + 1 < len(self.toks) and self.toks[j] in ("struct", "union", "enum"):
            t = self.prog.named_type(self.toks[j], self.toks[j + 1])
            if t is None:
                raise DebugError(f"No {self.toks[j]} type named {self.toks[j + 1]}.")
            j += 2
        elif j < len(self.toks) and re.match(r"[A-Za-z_]\w*$", self.toks[j]) and self.toks[j] not in _BASE_WORDS \
                and self.prog.named_type("typedef", self.toks[j]) is not None and not self._is_variable(self.toks[j]):
            t = self.prog.named_type("typedef", self.toks[j])
            j += 1
        if t is not None:
            while j < len(self.toks) and self.toks[j] in ("*", "const"):
                if self.toks[j] == "*":
                    t = t.pointer_to()
                j += 1
            self.i = j
            return t
        return self.base_type_name()

    def _is_variable(self, name):
        try:
            self.name(name)
        except DebugError:
            return False
        return True

    def base_type_name(self):
        words = []
        j = self.i
        while j < len(self.toks) and self.toks[j] in ("unsigned", "signed", "long", "short", "int", "char", "void", "const"):
            if self.toks[j] != "const":
                words.append(self.toks[j])
            j += 1
        if not words:
            return None
        name = " ".join(words)
        if name not in _BASE_TYPES:
            name = name.replace(" int", "") if name.replace(" int", "") in _BASE_TYPES else name
        t = _BASE_TYPES.get(name)
        if t is None:
            return None
        while j < len(self.toks) and self.toks[j] == "*":
            t = t.pointer_to()
            j += 1
        self.i = j
        return t
