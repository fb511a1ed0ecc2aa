"""KernelPanic: a broken kernel invariant. The message carries a dump of every hart."""
from emulator.hart import EmulatorError


class KernelPanic(Exception):
    pass


def hart_dump(kernel) -> str:
    lines = []
    for cpu in kernel.sched.cpus:
        h = cpu.hart
        t = cpu.current
        who = f"{t.name} (pid {t.proc.pid if t.proc else '-'}, tid {t.tid})" if t else "idle"
        try:
            pc = h.get_pc()
        except EmulatorError as e:      # the dump must not hide the panic it explains
            pc = f"<unreadable: {e}>"
        lines.append(f"hart {h.hid}: time {h.time} pc {pc if isinstance(pc, str) else hex(pc)} running {who}")
    return "\n".join(lines)
