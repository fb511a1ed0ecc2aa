"""The layering rules, checked on the source (ARCHITECTURE.md): kernel/ never imports unicorn;
ISA numbers reach the kernel only through kernel/arch.py (no bare register index elsewhere);
thread and process states are compared as enum members, never as strings."""
import ast
import os
import re

import pytest

from tests.conftest import ROOT

KERNEL = os.path.join(ROOT, "kernel")
TOOLS = os.path.join(ROOT, "tools")
# The trace model's states (running / ready / blocked, rebuilt from the event stream) are
# the timeline's, not a thread's: these files may spell them.
TRACE_MODEL = {"trace.py", "stats.py", "timeline.py"}
EMULATOR_API_OUTSIDE_ARCH = {"EmulatorError"}          # what kernel/ may import from hart/mmu


def sources(folder, skip=()):
    for dirpath, _dirs, files in os.walk(folder):
        for name in sorted(files):
            if name.endswith(".py") and name not in skip:
                path = os.path.join(dirpath, name)
                with open(path) as f:
                    yield os.path.relpath(path, ROOT), f.read()


def imports(tree):
    """(module, [names]) of every import statement."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, []
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module, [a.name for a in node.names]


def test_kernel_never_imports_unicorn():
    seen = 0
    for path, text in sources(KERNEL):
        seen += 1
        for module, _names in imports(ast.parse(text)):
            assert not module.split(".")[0] == "unicorn", f"{path} imports {module}"
    assert seen > 30


def test_isa_constants_reach_the_kernel_through_arch_only():
    for path, text in sources(KERNEL, skip={"arch.py"}):
        for module, names in imports(ast.parse(text)):
            if module == "emulator":
                bad = {"hart", "mmu"} & set(names)
            elif module in ("emulator.hart", "emulator.mmu"):
                bad = set(names or ["*"]) - EMULATOR_API_OUTSIDE_ARCH
            else:
                continue
            assert not bad, f"{path}: imports {sorted(bad)} from {module}: use kernel/arch.py"


# A bare register index: an integer literal naming a register of a saved context or of a
# hart: a subscript or slice of a register list (regs[10], ctx[2], regs[1:32]), the register
# argument of set_reg / set_x / get_x, or a context built by its size ([0] * 66, [0] * NREGS).
BARE_INDEX = [
    re.compile(r"\b\w*(regs|ctx|context)\w*\s*\[\s*-?\d"),
    re.compile(r"\bset_reg\(\s*[^,()]+,\s*\d"),
    re.compile(r"\b(set_x|get_x)\(\s*\d"),
    re.compile(r"\[\s*0\s*\]\s*\*\s*(66|NREGS)\b"),
]


def bare_indexes(text):
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0]
        if any(p.search(code) for p in BARE_INDEX):
            out.append((n, line.strip()))
    return out


@pytest.mark.parametrize("snippet", ["regs[10] = 0", "a0 = t.ctx[2]", "regs[1:32] = g", "sched.set_reg(t, 10, ret)",
                                     "hart.set_x(10, v)", "regs = [0] * 66", "r = [0] * NREGS"])
def test_the_scan_finds_a_bare_index(snippet):
    assert bare_indexes(snippet)


def test_no_bare_register_index_in_the_kernel():
    found = []
    for path, text in sources(KERNEL, skip={"arch.py"}):
        found += [f"{path}:{n}: {line}" for n, line in bare_indexes(text)]
    assert not found, "use kernel/arch.py's names:\n" + "\n".join(found)


def string_state_uses(tree):
    """Lines comparing or assigning `X.state` with a string literal."""
    def is_state(node):
        return isinstance(node, ast.Attribute) and node.attr in ("state", "_state")

    def is_str(node):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return any(is_str(e) for e in node.elts)
        return isinstance(node, ast.Constant) and isinstance(node.value, str)

    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left] + node.comparators
            if any(is_state(s) for s in sides) and any(is_str(s) for s in sides):
                yield node.lineno
        elif isinstance(node, ast.Assign) and any(is_state(t) for t in node.targets) and is_str(node.value):
            yield node.lineno


def test_the_scan_finds_a_string_state():
    assert sorted(string_state_uses(ast.parse('if t.state == "running": pass\nt.state = "zombie"\n'
                                              'x = p.state in ("alive",)'))) == [1, 2, 3]


def test_states_are_enum_members_not_strings():
    found = []
    for folder, skip in ((KERNEL, ()), (TOOLS, TRACE_MODEL)):
        for path, text in sources(folder, skip):
            found += [f"{path}:{n}" for n in string_state_uses(ast.parse(text))]
    assert not found, "compare with kernel.thread.ThreadState / kernel.proc.ProcState members:\n" + "\n".join(found)


def test_the_kernel_tells_the_harts_its_system_call_registers():
    """The convention is arch.py's: a hart reads, at an ecall, the registers it was told."""
    import unicorn.riscv_const as rc
    from kernel import arch
    from tests.kfixture import make_kernel
    k = make_kernel(cpus=2)
    want = [rc.UC_RISCV_REG_PC] + [rc.UC_RISCV_REG_X0 + n for n in (arch.SYSCALL_NR,) + arch.SYSCALL_ARGS]
    for h in k.machine.harts:
        assert list(h._ecall.ids) == want
        if h._bc is not None:                       # the native counter reads them itself
            assert list(h._bst.ecall_regs) == want
    assert (arch.A0, arch.A7, arch.SP, arch.TP, arch.RA) == (10, 17, 2, 4, 1)     # the psABI's numbers
    assert rc.UC_RISCV_REG_A0 == rc.UC_RISCV_REG_X0 + arch.A0 and rc.UC_RISCV_REG_SP == rc.UC_RISCV_REG_X0 + arch.SP
