"""The disk: a block device over a host image file, served in virtual time.

The device has 4 KiB blocks (block b is bytes [4096 b, 4096 (b+1)) of the image file; a
partial block at the end of the file is not part of the disk). A request reads or writes
`count` consecutive blocks. Requests wait in a FIFO queue and the device serves one at a
time: a request that starts at virtual time t completes at t + latency + count * block_ns.
At completion the device moves the data (a read copies from the image, a write lands on
it) and raises its completion interrupt: on_complete(request), an event callback into the
driver, on the hart the request names. So a write is on the image exactly when its
interrupt is raised, and a request still queued when the host process dies never happened.

Nothing a request asks can touch the host file outside the image: a request outside
[0, nblocks), with a malformed payload, or a write to a read-only disk completes with
status ERROR and moves no data. The device never grows or truncates the file.
"""
import os
from collections import deque

BLOCK = 4096
LATENCY_NS = 100_000        # default service time per request (seek + command overhead)
BLOCK_NS = 10_000           # transfer time per block: 4 KiB in 10 us, about 400 MB/s
MAX_BLOCKS = 256            # blocks one request may move (1 MiB)
READ, WRITE = "read", "write"
OK, ERROR = "ok", "error"


class Request:
    __slots__ = ("op", "block", "count", "data", "hart", "tag", "status", "issued", "started", "done_at")

    def __init__(self, op, block, count, data, hart, tag, issued):
        self.op, self.block, self.count, self.data = op, block, count, data
        self.hart, self.tag, self.issued = hart, tag, issued
        self.status = None
        self.started = self.done_at = None


class Disk:
    def __init__(self, path: str, latency_ns: int = LATENCY_NS, block_ns: int = BLOCK_NS,
                 readonly: bool = False):
        """Open the image; OSError if the host file cannot be opened."""
        if latency_ns < 0 or block_ns < 0:
            raise ValueError("disk latency and transfer time must be >= 0")
        self.path = path
        self.fd = os.open(path, os.O_RDONLY if readonly else os.O_RDWR)
        self.readonly = readonly
        self.nblocks = os.fstat(self.fd).st_size // BLOCK
        self.latency_ns = latency_ns
        self.block_ns = block_ns
        self.clock = None                   # set by the machine
        self.on_complete = None             # set by the driver: fn(Request), the interrupt
        self.queue = deque()                # requests not yet completed; the head is in service
        self.stats = {"reads": 0, "writes": 0, "blocks_read": 0, "blocks_written": 0,
                      "errors": 0, "busy_ns": 0}

    def submit(self, op: str, block: int, count: int, data=None, hart: int = 0, tag=None,
               now: int = 0) -> Request:
        """Queue a request issued at virtual time `now` (the issuing hart's clock). For a
        write, data holds count * BLOCK bytes. Completion is reported through on_complete."""
        req = Request(op, block, count, data, hart, tag, now)
        self.queue.append(req)
        if len(self.queue) == 1:
            self._start(req, now)
        return req

    def _valid(self, req) -> bool:
        if req.op not in (READ, WRITE) or not isinstance(req.block, int) or not isinstance(req.count, int):
            return False
        if not (0 <= req.block and 1 <= req.count <= MAX_BLOCKS and req.block + req.count <= self.nblocks):
            return False
        if req.op == WRITE:
            return not self.readonly and isinstance(req.data, (bytes, bytearray)) and \
                len(req.data) == req.count * BLOCK
        return True

    def _start(self, req, now) -> None:
        req.started = now
        blocks = req.count if self._valid(req) else 0
        req.done_at = now + self.latency_ns + blocks * self.block_ns
        self.stats["busy_ns"] += req.done_at - now
        self.clock.at(req.done_at, self._complete)

    def _complete(self) -> None:
        req = self.queue.popleft()
        if not self._valid(req):
            req.status = ERROR
            req.data = None
            self.stats["errors"] += 1
        elif req.op == READ:
            data = os.pread(self.fd, req.count * BLOCK, req.block * BLOCK)
            req.status = OK if len(data) == req.count * BLOCK else ERROR   # file shrunk under us
            req.data = data if req.status == OK else None
            self.stats["reads"] += 1
            self.stats["blocks_read"] += req.count
        else:
            os.pwrite(self.fd, bytes(req.data), req.block * BLOCK)
            req.status = OK
            self.stats["writes"] += 1
            self.stats["blocks_written"] += req.count
        if self.queue:
            self._start(self.queue[0], req.done_at)
        self.on_complete(req)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
