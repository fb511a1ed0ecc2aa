"""The boundary between tools/ and the layers below (ARCHITECTURE.md, "The rule for tools").

Tools import from kernel/ only the inspection API (kernel/inspect.py) and the boot builder
(kernel/boot.py), use no private name of emulator/, and never reach the Kernel object
itself (System.kernel and Run.kernel are for the kernel's own tests). The offline
disk-image tools are the one exception: they build and check images with the kernel's
file-system code, and touch no machine.
"""
import ast
import os

import pytest

from tests.conftest import ROOT

TOOLS = os.path.join(ROOT, "tools")
KERNEL_API = {"kernel.inspect", "kernel.boot"}
DISK_IMAGE_TOOLS = {"mkfs.py", "fsck.py"}    # link diskfs, bio, fslayout as a library
KERNEL_OBJECT = {"kernel", "_k"}            # attributes through which a tool would reach it


def tool_files():
    for d, _, names in os.walk(TOOLS):
        for n in sorted(names):
            if n.endswith(".py"):
                yield os.path.join(d, n)


def imports(tree):
    """(module, [names]) of every import in tree, at any depth (inside functions too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, []
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, [a.name for a in node.names]


def kernel_modules(module, names):
    """The kernel modules an import names ('from kernel import x' names kernel.x)."""
    if module == "kernel":
        return [f"kernel.{n}" for n in names] or ["kernel"]
    return [module] if module.startswith("kernel.") else []


def violations(path):
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    rel = os.path.relpath(path, ROOT)
    out = []
    emulator_modules = set()
    for module, names in imports(tree):
        if os.path.basename(path) not in DISK_IMAGE_TOOLS:
            out += [f"{rel}: imports {m}" for m in kernel_modules(module, names) if m not in KERNEL_API]
        if module == "emulator" or module.startswith("emulator."):
            out += [f"{rel}: imports {module}.{n}" for n in names if n.startswith("_")]
            emulator_modules.update(names if module == "emulator" else [])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            emulator_modules.update(a.asname or a.name for a in node.names if a.name.startswith("emulator"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("emulator"):
            emulator_modules.update(a.asname or a.name for a in node.names)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        if node.attr in KERNEL_OBJECT:
            out.append(f"{rel}:{node.lineno}: reads .{node.attr}")
        base = node.value
        if (isinstance(base, ast.Name) and base.id in emulator_modules and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            out.append(f"{rel}:{node.lineno}: uses {base.id}.{node.attr}")
    return out


def private_names(paths):
    """Names starting with one underscore that these files define (functions, classes,
    variables, attributes assigned)."""
    out = set()
    for path in paths:
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                out.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                out.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                out.add(node.id)
    return {n for n in out if n.startswith("_") and not n.startswith("__")}


def emulator_attributes(path, emulator_private, tools_private):
    """Private attributes of emulator objects (a hart's _bc) that the tool at path reads:
    names the emulator defines and no tool does."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    rel = os.path.relpath(path, ROOT)
    return [f"{rel}:{node.lineno}: reads .{node.attr}" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in emulator_private and node.attr not in tools_private]


def test_tools_use_only_the_inspection_api_and_the_boot_builder():
    found = [v for path in tool_files() for v in violations(path)]
    assert found == []


def test_tools_read_no_private_attribute_of_an_emulator_object():
    emulator = os.path.join(ROOT, "emulator")
    emulator_private = private_names(os.path.join(emulator, n) for n in os.listdir(emulator) if n.endswith(".py"))
    tools_private = private_names(tool_files())
    assert "_bc" in emulator_private                 # the scan sees the emulator's own names
    found = [v for path in tool_files() for v in emulator_attributes(path, emulator_private, tools_private)]
    assert found == []


@pytest.mark.parametrize("source, expected", [
    ("from kernel.sched import RUNNING", ["imports kernel.sched"]),
    ("def f():\n    from kernel import vm, inspect", ["imports kernel.vm"]),
    ("import kernel.main", ["imports kernel.main"]),
    ("from emulator.hart import _UNTIL", ["imports emulator.hart._UNTIL"]),
    ("from emulator import hart\nx = hart._lib", ["uses hart._lib"]),
    ("def f(r):\n    return r.kernel.sched.threads", ["reads .kernel"]),
    ("from kernel.inspect import RUNNING\nfrom kernel.boot import System\nfrom emulator.hart import REG_PC", []),
])
def test_the_scan_finds_each_kind_of_violation(tmp_path, source, expected):
    p = tmp_path / "tool.py"
    p.write_text(source)
    found = violations(str(p))
    assert len(found) == len(expected) and all(e in v for e, v in zip(expected, found)), found


def test_architecture_names_every_tool():
    """ARCHITECTURE.md's tools/ listing names every file of tools/ (and of tools/debugger/)."""
    text = open(os.path.join(ROOT, "ARCHITECTURE.md")).read()
    listing = text[text.index("\n tools/\n"):]
    listing = listing[:listing.index("```")]
    files = [os.path.relpath(p, TOOLS) for p in tool_files()] + ["timeline.html"]
    missing = [f for f in files if os.path.basename(f) != "__init__.py" and os.path.basename(f) not in listing]
    assert missing == []
