"""Physical RAM: one host buffer shared by every hart through mem_map_ptr.

Addresses given to this class are guest *physical* addresses in [base, base+size).
The kernel reaches RAM only through these methods; harts reach it through their MMU.
"""
import ctypes
import mmap
import struct

_U64 = struct.Struct("<Q")


class PhysMem:
    def __init__(self, base: int, size: int):
        if size <= 0 or size % 4096 or base % 4096:
            raise ValueError("RAM base and size must be positive multiples of 4096")
        self.base = base
        self.size = size
        self.buf = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)   # private: a fork() copies it (debugger checkpoints)
        self.ptr = ctypes.addressof(ctypes.c_char.from_buffer(self.buf))
        self.view = memoryview(self.buf)

    def contains(self, pa: int, n: int = 1) -> bool:
        return self.base <= pa and pa + n <= self.base + self.size

    def read(self, pa: int, n: int) -> bytes:
        off = pa - self.base
        return self.buf[off:off + n]

    def write(self, pa: int, data) -> None:
        off = pa - self.base
        self.buf[off:off + len(data)] = data

    def read64(self, pa: int) -> int:
        return _U64.unpack_from(self.buf, pa - self.base)[0]

    def write64(self, pa: int, value: int) -> None:
        _U64.pack_into(self.buf, pa - self.base, value)

    def zero(self, pa: int, n: int) -> None:
        off = pa - self.base
        self.buf[off:off + n] = bytes(n)

    def copy(self, dst: int, src: int, n: int) -> None:
        d, s = dst - self.base, src - self.base
        self.buf[d:d + n] = self.buf[s:s + n]
