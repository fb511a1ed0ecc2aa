"""A store-conditional at a misaligned address traps (cause 6, tval = the address).

unicorn's sc compares its address with the reservation first and fails (rd = 1) without a
trap; the block counter's hook checks each sc before it runs (emulator/blockcount.c). Count
mode without the hook (the fallback) is no reference here, so the modes that have the check
are compared with each other: the native counter with its two finishes, and debugging runs
(count mode on a hart with the block counter), budget by budget."""
import capstone
import pytest

from emulator import blockcount
from emulator import hart as H
from emulator import mmu
from tests.asmutil import assemble
from tests.test_blockcount import CODE, DATA, Rig

# a0 = DATA (aligned), a4 = DATA + 1 (misaligned for both widths), a2 = 5, a5 = unmapped.
SC_REGS = {10: DATA, 14: DATA + 1, 12: 5, 11: 77, 13: 66, 15: 0x7000_0000}
CASES = {
    "at a block's start": "c.addi t0, 1\nj 1f\n1: sc.w a1, a2, (a4)\nc.addi t0, 1\necall",
    "inside a block": "addi t0, t0, 1\nc.addi t1, 1\nsc.w a1, a2, (a4)\nc.addi t0, 1\necall",
    "rs1 written before it in the block": "c.addi t0, 1\naddi a0, a0, 4\nsc.d a1, a2, (a0)\necall",
    "rs1 written before it, aligned": "c.addi t0, 1\naddi a0, a0, 8\nsc.d a1, a2, (a0)\nc.addi t0, 1\necall",
    "the second of two": "sc.w a1, a2, (a0)\nsc.w a3, a2, (a4)\necall",
    "the twelfth of twelve": "sc.w a1, a2, (a0)\n" * 11 + "sc.w a3, a2, (a4)\necall",
    "after a load fault": "c.addi t0, 1\nld a3, 0(a5)\nsc.w a1, a2, (a4)\necall",
    "lr/sc loop, aligned": ("li s0, 5\n1: lr.w t0, (a0)\naddi t0, t0, 1\nsc.w t1, t0, (a0)\n"
                            "bnez t1, 1b\naddi s0, s0, -1\nbnez s0, 1b\necall"),
}
MODES = [("block", False), ("until", False), ("block", True), ("until", True)]
_cs = capstone.Cs(capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV64 | capstone.CS_MODE_RISCVC)


def sc_offsets(code):
    """Offsets of the sc instructions in code (capstone's decoding, not the hook's)."""
    return [i.address for i in _cs.disasm(code, 0) if i.mnemonic.startswith("sc.")]


def debugging(rig):
    """Runs on this hart go through count mode, with nothing that stops them."""
    rig.hart.set_fault_filter(lambda hid, trap: False)


def one_run(mode, debug, code, budget):
    rig = Rig(mode)
    if debug:
        debugging(rig)
    rig.mem.write(rig.data_pa, bytes(range(16)))
    rig.load(code, SC_REGS)
    t = rig.hart.run(budget, 0)
    return tuple(t), rig.hart.save()[:32], rig.hart.get_pc(), rig.mem.read(rig.data_pa, 16)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_mode_and_budget_agree(name):
    code = assemble(CASES[name], rvc=True)
    whole = None
    for budget in list(range(1, 15)) + [1000]:
        runs = [one_run(mode, debug, code, budget) for mode, debug in MODES]
        assert all(r == runs[0] for r in runs), (budget, runs)
        whole = runs[0]
        assert whole[0][3] <= budget
    t, regs = H.Trap(*whole[0]), whole[1]
    if "aligned" in name:
        assert t.cause == H.CAUSE_ECALL_U
    elif "load fault" in name:
        assert t.cause == H.CAUSE_LOAD_PAGE
    else:
        assert (t.cause, t.epc, t.tval) == (H.CAUSE_STORE_MISALIGNED, CODE + sc_offsets(code)[-1],
                                            regs[10] if "rs1 written" in name else DATA + 1)
        rd = 13 if " of " in name else 11                # a3 or a1
        assert whole[3] == bytes(range(16)) and regs[rd] == SC_REGS[rd]   # the sc wrote neither
    if name == "lr/sc loop, aligned":
        assert whole[3][:4] == (0x03020100 + 5).to_bytes(4, "little")


def test_budget_ending_just_before_the_sc_is_a_budget_stop():
    """The sc is instruction 3: a budget of 2 stops before it; the next run traps at once."""
    code = assemble(CASES["inside a block"], rvc=True)
    sc = CODE + sc_offsets(code)[0]
    for mode, debug in MODES:
        rig = Rig(mode)
        if debug:
            debugging(rig)
        rig.load(code, SC_REGS)
        assert tuple(rig.hart.run(2, 0)) == (H.CAUSE_BUDGET, sc, 0, 2)
        assert tuple(rig.hart.run(5, 0)) == (H.CAUSE_STORE_MISALIGNED, sc, DATA + 1, 1)


def test_the_check_follows_the_address_space():
    """Two programs with same-sized blocks at the same address, an sc in one of them only:
    what the hook learnt of one block is not applied to the other."""
    with_sc = assemble("c.addi a3, 1\nsc.w a1, a2, (a4)\necall", rvc=True)
    without = assemble("c.addi a3, 1\nadd a1, a2, a4\necall", rvc=True)
    assert len(with_sc) == len(without)
    for mode in ("block", "until"):
        rig = Rig(mode)
        spaces = []
        for code in (with_sc, without):
            root = rig.new_space()
            rig.mem.write(rig.code_pa, code)
            spaces.append(mmu.make_satp(root))
        for i in (0, 1, 0, 1):
            rig.hart.set_satp(spaces[i])
            ctx = [0] * H.NREGS
            for n, v in SC_REGS.items():
                ctx[n] = v
            ctx[H.REG_PC] = CODE
            rig.hart.load(ctx)
            t = rig.hart.run(100, 0)
            assert t.cause == (H.CAUSE_STORE_MISALIGNED, H.CAUSE_ECALL_U)[i], (mode, i, t)


def test_a_breakpoint_on_the_sc_stops_before_its_trap():
    """The hook checks the sc before the debugger's code hooks run: the debugger still
    stops first, at a breakpoint on the sc or where the sc leaves the step range."""
    code = assemble(CASES["inside a block"], rvc=True)
    sc = CODE + sc_offsets(code)[0]
    for mode in ("block", "until"):
        rig = Rig(mode)
        rig.load(code, SC_REGS)
        rig.hart.set_breakpoints([sc])
        t = rig.hart.run(100, 0)
        assert tuple(t) == (H.CAUSE_BUDGET, sc, 0, 2) and rig.hart.debug_stop.kind == "break"
        rig.hart.skip_breakpoint_at(sc)
        t = rig.hart.run(100, 0)
        assert tuple(t) == (H.CAUSE_STORE_MISALIGNED, sc, DATA + 1, 1)
        rig.hart.set_breakpoints([])
        rig.hart.debug_stop = None
        rig.load(code, SC_REGS)
        rig.hart.set_step(inside=(CODE, sc))
        t = rig.hart.run(100, 0)
        assert tuple(t) == (H.CAUSE_BUDGET, sc, 0, 2) and rig.hart.debug_stop.kind == "range"


def test_a_mutex_under_contention_runs_the_same_with_and_without_the_check(monkeypatch, userland):
    """race: 4 threads on 4 harts take one mutex (an lr/sc loop, futex waits when contended).
    Every sc is aligned: the check changes nothing, event for event, instruction for
    instruction; and it did check (sc_checks, per hart)."""
    from tools.run import simulate

    def run(check):
        monkeypatch.setattr(blockcount, "check_sc", check)
        r = simulate("race", ["2000"], cpus=4, seed=11, trace=True)
        harts = r.machine.harts
        return (r.kernel.events, r.output, r.machine.clock.now, [h.instret for h in harts],
                [h._bc.state.sc_checks for h in harts])
    on, off = run(True), run(False)
    assert "race OK" in on[1]
    assert any(e.kind == "sleep" and e.detail.get("chan") == "futex" for e in on[0])  # contended
    assert on[:4] == off[:4]
    assert min(on[4]) > 0 and off[4] == [0, 0, 0, 0]


def test_without_unicorns_cpu_state_the_check_reads_registers_through_the_api(monkeypatch):
    """If the CPU state is not located (another unicorn version), the hook reads rs1 with
    uc_reg_read (and budgets finish with `until`): the same runs."""
    expected = {name: one_run("block", False, assemble(code, rvc=True), 1000) for name, code in CASES.items()}

    def fail():
        raise blockcount.ProbeError("not found (test)")
    monkeypatch.setattr(blockcount, "_locate_cpu", fail)
    n = blockcount._Native()
    assert n.mode == "until" and n.cpu_field is None
    monkeypatch.setattr(blockcount, "_native", n)
    for name, code in CASES.items():
        for debug in (False, True):
            got = one_run("until", debug, assemble(code, rvc=True), 1000)
            assert got == expected[name], name
    assert Rig("until").hart._bc.state.gpr is None
