"""A booted-enough kernel for unit tests: machine, allocator, scheduler, no processes."""
from emulator.machine import Machine
from kernel.main import Kernel


def make_kernel(cpus=1, mem=8):
    machine = Machine(cpus=cpus, mem_mib=mem)
    return Kernel(machine, {}, log_sink=lambda line: None)
