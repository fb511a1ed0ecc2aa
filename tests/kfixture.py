"""A booted-enough kernel for unit tests: machine, allocator, scheduler, no processes."""
from kernel.boot import System


def make_kernel(cpus=1, mem=8):
    """The kernel of a System that is built but not booted (init never started)."""
    return System(cpus=cpus, mem=mem, files={}, log=lambda line: None).kernel
