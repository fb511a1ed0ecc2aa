"""Kernel limits and layout constants, one comment each."""

NPROC = 64                          # processes alive at once (fork beyond: EAGAIN)
NLWP = 64                           # LWPs of one process alive at once (beyond: EAGAIN)
MAX_HARTS = 8                       # harts a machine may have (affinity masks are this wide)
NOFILE = 32                         # open file descriptors per process
MAXARGLEN = 2 << 20                 # bytes of argv + envp strings, NULs and pointers execve takes, as Linux (_SC_ARG_MAX)
MAXARGSTRLEN = 32 * 4096            # bytes in one argv or envp string, NUL included (Linux's MAX_ARG_STRLEN)
BINPRM_BUF = 256                    # bytes of a file execve reads for its "#!" line, as Linux
SCRIPT_DEPTH = 5                    # nested "#!" interpreters execve follows (beyond: ELOOP), as Linux
MAXPATH = 256                       # bytes in a path, NUL included (and in a symlink's target)
SYMLOOP_MAX = 40                    # symbolic links one path lookup follows (beyond: ELOOP), as Linux
NGROUPS_MAX = 65536                 # supplementary groups setgroups takes, as Linux
PIPE_SIZE = 65536                   # bytes a new pipe buffers, as Linux (F_SETPIPE_SZ changes it)
PIPE_MAX_SIZE = 1 << 20             # F_SETPIPE_SZ beyond: EPERM (Linux's pipe-max-size; root is held to it here)
TTY_BUF = 4096                      # bytes of console input the tty holds (a line, or unread raw input); more is dropped
USER_HZ = 100                       # clock ticks per second in times(), /proc and SIGCHLD's siginfo (sysconf(_SC_CLK_TCK)), as Linux
SIGQUEUE_MAX = 256                  # queued instances of one real-time signal per process or LWP (sigqueue beyond: EAGAIN)
TIMER_MAX = 32                      # POSIX timers one process may have (timer_create beyond: EAGAIN)
TIME_SLICE_NS = 2_000_000           # round-robin slice before a timer preemption
KSWITCH_ROUNDS = 100                # round trips /proc/kswitch times between two kernel threads (S18's K1-K2)
SA_DEFER_NS = 2_000                 # a vp taken back inside a library critical section: retried after
SA_DEFER_MAX = 25                   # retries before the vp is taken anyway (50 us)
MAX_IMAGE = 64 << 20                # bytes of all PT_LOAD segments of one executable
MAX_SYMTAB = 1 << 20                # bytes of section headers + .symtab + .strtab exec reads for kill reports (more: no names)
FAULT_AROUND = 16                   # pages a read or exec fault on an executable maps at once (an aligned window), as Linux
MAX_MAP_COUNT = 65530               # regions (VMAs) per address space, as Linux's vm.max_map_count (beyond: ENOMEM)
RAMFS_MAXFILE = 64 << 20            # bytes in an in-memory file (write or truncate beyond: EFBIG)
NBUF = 2048                         # 4 KiB blocks the buffer cache holds (8 MiB); LRU beyond
LOGSIZE = 256                       # blocks one log transaction holds at most (mkfs's default log)
MAXOPBLOCKS = 32                    # distinct blocks one file-system operation may dirty at most
WRITE_CHUNK = 12                    # data blocks per write transaction: 12 data + 12 bitmap + inode + 3 indirect <= MAXOPBLOCKS

USER_MIN = 0x1000                   # lowest user address (page 0 stays unmapped)
USER_TOP = 0x40_0000_0000           # first address above user space (Sv39 lower half)
STACK_TOP = 0x3F_FFFF_F000          # initial sp lies just below
SIGTRAMP = STACK_TOP                # the signal-return trampoline page, mapped R-X in every process
STACK_MAX = 8 << 20                 # bytes the main stack may grow to
STACK_GUARD = 1 << 20               # unmapped gap below the stack: faults here are overflows
MMAP_TOP = STACK_TOP - STACK_MAX - STACK_GUARD   # mmap regions are placed below this
HEAP_MAX = 1 << 30                  # bytes brk may grow to
