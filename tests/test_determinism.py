"""Same binary + same seed + same input => the same run, event for event."""
from tools.run import simulate


def events(seed, program="spin", args=("30000", "6")):
    r = simulate(program, args, cpus=4, seed=seed, trace=True)
    return r.kernel.events, r.output, r.machine.clock.now


def test_same_seed_same_event_log(userland):
    a = events(seed=7)
    b = events(seed=7)
    assert len(a[0]) > 50              # a real run: forks, faults, switches, exits
    assert {e[1] for e in a[0]} >= {0, 1, 2, 3}     # every hart took part
    assert a == b


def test_seed_changes_the_interleaving(userland):
    base = events(seed=1)[0]
    assert any(events(seed=s)[0] != base for s in (2, 3, 4))


def test_same_seed_same_shell_transcript(userland):
    script = "s2_crash | cat\nps\nusertests forkstorm > /tmp/out\ncat /tmp/out\n"
    a = simulate(None, input=script, seed=3, trace=True)
    b = simulate(None, input=script, seed=3, trace=True)
    assert a.output == b.output and a.log == b.log and a.kernel.events == b.kernel.events
