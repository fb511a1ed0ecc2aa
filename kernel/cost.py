"""The cost table: virtual ns (1 guest instruction = 1 ns) charged for kernel work.

User instructions are counted exactly by the hart; kernel work, which runs in Python, is
charged from a cost profile, the model of one reference machine. The profiles are data,
kernel/costs/NAME.toml: each entry's value and, for a calibrated profile, the published
figure it comes from, the machine, the source and the conversion (docs/costs.md prints them).
A kernel reads its profile as k.cost.ENTRY; --costs NAME chooses it, --cost ENTRY=VALUE
overrides one entry for an experiment.
"""
import os
import tomllib

DEFAULT = "linux"
DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "costs")

# Entry -> what it charges. Every profile gives every entry (a non-negative integer).
ENTRIES = {
    "TRAP_ENTRY": "entering the kernel from user mode (any trap)",
    "TRAP_EXIT": "returning to user mode",
    "SYSCALL_DISPATCH": "a system call's table lookup, argument fetch and result store",
    "KTHREAD_SWITCH": "one switch from a kernel thread to another on a hart",
    "WAKEUP": "making one sleeping thread runnable (charged to the waker)",
    "IPI": "a wakeup placing the thread on another hart: the interrupt between processors",
    "ASPACE_SWITCH": "loading another address space (satp write, tagged or not)",
    "TLB_REFILL": "refilling the TLB for an address space whose entries are not tagged in it",
    "TLB_ASIDS": "address spaces a hart's TLB keeps tagged (ASIDs); 0: flush on every switch",
    "TLB_SHOOTDOWN": "per other hart running an address space whose mappings were removed",
    "PAGE_ZERO": "zeroing one 4 KiB frame",
    "PAGE_COPY": "copying one 4 KiB frame (copy-on-write)",
    "PAGE_FAULT": "a page fault's decode, region lookup and PTE install (besides zero/copy)",
    "PTE_COPY": "per present PTE fork's page-table copy visits",
    "BYTE_COPY_DIV": "copyin/copyout: bytes moved per ns",
    "MMAP": "mmap's region bookkeeping (besides the system call)",
    "MUNMAP": "munmap's region bookkeeping (besides the system call and the shootdowns)",
    "FUTEX_WAIT": "futex wait's hash, bucket lock and compare (besides the system call)",
    "FUTEX_WAKE": "futex wake's hash and queue walk (besides the system call and wakeups)",
    "PROC_CREATE": "a new process: table slot, initialisation, fd table copy",
    "LWP_CREATE": "a new LWP: control block, kernel stack, the context to start at",
    "LWP_EXIT": "an LWP's exit bookkeeping (besides its system call)",
    "LWP_WAIT": "reaping an exited LWP (besides the system call and any sleep)",
    "PROC_EXIT": "a process's exit bookkeeping: release of its resources",
    "PROC_WAIT": "reaping a zombie child (besides the system call and any sleep)",
    "KSTACK_FREE": "the reaper freeing a dead thread's kernel stack",
    "EXEC_BASE": "exec: header checks, stack setup (the program's pages are charged as faults)",
    "CONSOLE_BYTE": "the UART write per console output byte",
    "BIO_LOOKUP": "finding a block in the buffer cache",
    "DISK_SUBMIT": "filling and publishing a virtio request",
    "DISK_INTR": "the disk interrupt: trap, claim, used-ring walk, wakeup",
    "DIRENT_SCAN": "comparing one directory entry in a lookup",
}


def names() -> list:
    """The profiles, as --costs takes them."""
    return sorted(f[:-5] for f in os.listdir(DIR) if f.endswith(".toml"))


def describe(name: str) -> dict:
    """Profile name's data as stored (label, machine, conversion, [entries.E] tables)."""
    if name not in names():
        raise ValueError(f"unknown cost profile {name!r}; profiles: {', '.join(names())}")
    with open(os.path.join(DIR, name + ".toml"), "rb") as f:
        return tomllib.load(f)


class Costs:
    """One profile's entries as attributes (k.cost.TRAP_ENTRY), after overrides."""

    def __init__(self, name: str, values: dict, overrides: dict):
        self.name = name
        self.overrides = dict(overrides)
        self.values = {**values, **overrides}
        for e, v in self.values.items():
            setattr(self, e, v)

    @property
    def label(self) -> str:
        """The profile in force, as guest programs see it: 'linux' or 'linux KTHREAD_SWITCH=0'."""
        return " ".join([self.name] + [f"{e}={v}" for e, v in sorted(self.overrides.items())])


def parse_override(text: str) -> tuple:
    """'ENTRY=VALUE' -> (ENTRY, int). ValueError names the valid entries."""
    entry, eq, value = text.partition("=")
    if entry not in ENTRIES:
        raise ValueError(f"unknown cost entry {entry!r}; entries: {', '.join(ENTRIES)}")
    try:
        v = int(value) if eq else -1
    except ValueError:
        v = -1
    if v < 0:
        raise ValueError(f"--cost {text}: the value must be a non-negative integer (ENTRY=VALUE)")
    return entry, v


def load(name: str = DEFAULT, overrides=()) -> Costs:
    """Profile name with overrides ('ENTRY=VALUE' strings or (entry, value) pairs) applied.
    ValueError, naming the valid choices, for an unknown profile or entry or a bad value."""
    data = describe(name)
    values = {}
    for e in ENTRIES:
        row = data.get("entries", {}).get(e)
        if row is None or not isinstance(row.get("value"), int) or row["value"] < 0:
            raise ValueError(f"cost profile {name}: entry {e} has no non-negative integer value")
        values[e] = row["value"]
    pairs = dict(parse_override(o) if isinstance(o, str) else o for o in overrides)
    for e, v in pairs.items():
        if e not in ENTRIES or not isinstance(v, int) or v < 0:
            raise ValueError(f"--cost {e}={v}: not an entry with a non-negative integer value")
    if {**values, **pairs}["BYTE_COPY_DIV"] < 1:
        raise ValueError("BYTE_COPY_DIV must be at least 1 (bytes copied per ns)")
    return Costs(name, values, pairs)
