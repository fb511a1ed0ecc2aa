"""The reference table the seed ends with (../shared/seed-claims.md, the paragraph after the
table; userland/bin/summary.c): creation cost, switch cost, behaviour on blocking I/O and
parallel speedup for processes, kernel threads (1:1), user threads (M:1), M:N and SA, in
one run of `summary`, checked against the seed's orderings."""
import re

import pytest

from tools.run import simulate

ROWS = ("processes", "kernel threads (1:1)", "user threads (M:1)", "M:N, 4 LWPs", "SA, 4 vps")
USER_LEVEL = ("user threads (M:1)", "M:N, 4 LWPs", "SA, 4 vps")
KERNEL_BACKED = ("processes", "kernel threads (1:1)", "M:N, 4 LWPs", "SA, 4 vps")


def table(output):
    """{row: (create ns, switch ns, chunks during the block, speedup)} from summary's table."""
    rows = {}
    for name, create, switch, during, speedup in re.findall(
            r"^(.{22}) +(\d+) +(\d+) +(\d+) chunks +([\d.]+)$", output, re.M):
        rows[name.strip()] = (int(create), int(switch), int(during), float(speedup))
    return rows


# Seeds 0-11 on 4 harts (the interleaving varies, the figures hardly): create and switch
# are the same for every seed (processes 6530/893, 1:1 1784/513, M:1 606/96, M:N 663/137,
# SA 671/139 virtual ns); chunks done by the 3 others during the 3 ms block: 0 under M:1,
# 2087-2142 in the other rows (3 free harts can do about 2140); speedup 1.00 under M:1,
# 3.91-3.99 in the other rows. Seed 2 gave the fewest chunks (2087).
@pytest.mark.parametrize("seed", [0, 2])
def test_seed_summary_reference_table(userland, seed):
    r = simulate("summary", (), cpus=4, seed=seed, max_time=5 * 10**9)
    assert r.status == 0 and "summary OK" in r.output, r.output + r.log
    t = table(r.output)
    assert set(t) == set(ROWS), r.output
    create = {k: v[0] for k, v in t.items()}
    switch = {k: v[1] for k, v in t.items()}
    during = {k: v[2] for k, v in t.items()}
    speedup = {k: v[3] for k, v in t.items()}
    # Switching: user level (no kernel) < kernel thread (futex, kernel switch) < process
    # (pipe, kernel switch and address-space change).
    for k in USER_LEVEL:
        assert switch[k] < switch["kernel threads (1:1)"], (k, switch)
    assert switch["kernel threads (1:1)"] < switch["processes"], switch
    # Creation: any thread is cheaper than a process; a user thread than a kernel thread.
    for k in ROWS[1:]:
        assert create[k] < create["processes"], (k, create)
    for k in USER_LEVEL:
        assert create[k] < create["kernel threads (1:1)"], (k, create)
    # Blocking I/O: under M:1 the whole process stalls; everywhere else the others go on.
    # "> 1000" (half of what 3 free harts do in 3 ms; measured 2086-2142): they keep running
    # at full speed, not just a little.
    assert during["user threads (M:1)"] == 0, during
    for k in KERNEL_BACKED:
        assert during[k] > 1000, (k, during)
    # Parallelism: M:1 runs on one hart (1.00 measured); the rest use the 4 (3.89-4.00).
    assert speedup["user threads (M:1)"] < 1.2, speedup
    for k in KERNEL_BACKED:
        assert speedup[k] > 2.5, (k, speedup)
