"""tools.exercise: at least 3 exercises per section of the tour; seeds change their parameters;
`check` accepts the answer computed by running the experiment and rejects a wrong one (every
exercise and two seeds: slow; a quick subset otherwise); the answer comes from the run's output,
and is cached per seed; bad input and missing run options are reported, not guessed."""
import os
import re
import subprocess

import pytest

from tests.conftest import ROOT
from tools import exercise as ex_tool
from tools.exercises import EXERCISES, SECTIONS, Exact, OneOf, Within


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(ex_tool, "CACHE", str(tmp_path / "exercises"))


def number(key):
    return next(i for i, e in enumerate(EXERCISES, 1) if e.key == key)


def check(n, answer, seed, capsys):
    status = ex_tool.main(["check", str(n), str(answer), "--seed", str(seed)])
    return status, capsys.readouterr().out


def test_at_least_three_exercises_per_section_and_unique_keys():
    for section in SECTIONS:
        assert sum(e.section == section for e in EXERCISES) >= 3, section
    assert len(EXERCISES) >= 21
    assert len({e.key for e in EXERCISES}) == len(EXERCISES)


def test_seeds_change_every_exercise_parameters_and_questions_name_them():
    for e in EXERCISES:
        variants = [ex_tool.params(e, seed) for seed in range(6)]
        assert len({tuple(sorted(v.items())) for v in variants}) > 1, e.key
        assert ex_tool.params(e, 4) == ex_tool.params(e, 4)                  # a seed is reproducible
        e.question.format(**variants[0])
        commands = " ".join(ex_tool.shown(a) for a in e.commands(variants[0]))
        assert f"--seed {variants[0]['mseed']}" in commands, e.key
        e.explain.format(**variants[0])


def test_check_kinds():
    assert Exact().accepts(Exact().parse(" 1,024 "), 1024) and not Exact().accepts(1025, 1024)
    w = Within(rel=0.02)
    assert w.accepts(w.parse("101.9"), 100.0) and not w.accepts(w.parse("102.1"), 100.0)
    assert Within(abs=0.05).accepts(0.54, 0.5) and not Within(abs=0.05).accepts(0.56, 0.5)
    one = OneOf("first", "second")
    assert one.parse("SECOND") == "second" and one.wrong("second") == "first"
    with pytest.raises(ValueError):
        one.parse("third")
    for kind, right in ((Exact(), 7), (Within(rel=0.02), 6206.0), (Within(abs=0.1), 0.0), (one, "first")):
        assert not kind.accepts(kind.wrong(right), right)


def check_exercise(n, seed, capsys):
    e = EXERCISES[n - 1]
    right = ex_tool.answer_of(e, seed)
    status, out = check(n, right, seed, capsys)
    assert status == 0 and out.startswith("right:"), (e.key, seed, right, out)
    assert ex_tool.SECTIONS[e.section][1] in out
    status, out = check(n, e.check.wrong(right), seed, capsys)
    assert status == 1 and out.startswith("not right"), (e.key, seed, right, out)
    assert "experiment gives" not in out                                  # the answer is not given away


QUICK = ("s2-siblings", "s10-m1", "s14-two-level")


@pytest.mark.parametrize("key", QUICK)
def test_check_accepts_the_computed_answer_and_rejects_a_wrong_one(key, capsys, userland):
    check_exercise(number(key), 1, capsys)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 7])
def test_check_every_exercise_for_two_seeds(seed, capsys, userland):
    ex_tool.answers(seed, jobs=2)                         # computes them all, in parallel, into the cache
    capsys.readouterr()
    for n, e in enumerate(EXERCISES, 1):
        if ex_tool.missing(e):
            continue
        check_exercise(n, seed, capsys)


def test_the_answer_is_read_from_the_run_and_cached(monkeypatch, capsys, userland):
    n = number("s10-mn")
    runs = []

    def fake(argv, timeout=None):
        runs.append(argv)
        out = "  chunks of work done by threads 2-4: 3 before the sleep, 4242 during it\n"
        return subprocess.CompletedProcess(argv, 0, stdout=out, stderr="")
    monkeypatch.setattr(ex_tool, "tools_run", fake)
    assert check(n, 4242, 5, capsys)[0] == 0
    assert runs == EXERCISES[n - 1].commands(ex_tool.params(EXERCISES[n - 1], 5))
    assert check(n, 4243, 5, capsys)[0] == 1 and len(runs) == 1          # the second check used the cache
    assert check(n, 4242, 6, capsys)[0] == 0 and len(runs) == 2          # another seed runs again


def test_an_experiment_that_fails_is_an_error_not_an_answer(monkeypatch, capsys, userland):
    monkeypatch.setattr(ex_tool, "tools_run", lambda argv, timeout=None: subprocess.CompletedProcess(
        argv, 0, stdout="S10 FAILED: uthread_init\n", stderr=""))
    assert ex_tool.main(["check", str(number("s10-m1")), "0"]) == 1
    assert "the experiment did not give an answer" in capsys.readouterr().err


def test_an_exercise_that_needs_a_missing_option_is_skipped(monkeypatch, capsys):
    """A tree without the option (a lab's student tree, an older checkout) skips the exercise."""
    needing = [n for n, e in enumerate(EXERCISES, 1) if e.needs]
    assert needing, "the S18 cost exercises need --cost"
    assert not any(ex_tool.missing(EXERCISES[n - 1]) for n in needing)
    monkeypatch.setattr(ex_tool, "run_options", lambda: {})
    for n in needing:
        e = EXERCISES[n - 1]
        status, out = check(n, e.check.choices[0] if isinstance(e.check, OneOf) else 1, 0, capsys)
        assert status == ex_tool.SKIPPED and f"needs tools.run {e.needs}" in out


@pytest.mark.parametrize("args, says", [
    (["check", "99", "1"], "no exercise 99"),
    (["show", "x"], "not an exercise number"),
    (["check", "2", "two"], "expected an integer"),
    (["check", "2"], "check needs an answer"),
    (["show"], "needs an exercise number"),
    (["grade"], "invalid choice"),
])
def test_bad_input_is_one_line_and_status_2(args, says, capsys):
    try:
        status = ex_tool.main(args)
    except SystemExit as e:                                       # argparse's own errors
        status = e.code
    err = capsys.readouterr().err
    assert status == 2 and len(err.splitlines()) == 1 and says in err


def test_list_and_show(capsys):
    assert ex_tool.main(["list"]) == 0
    listing = capsys.readouterr().out
    assert all(f"{s}. {SECTIONS[s][0]}" in listing for s in SECTIONS)
    n = number("s20-time")
    assert ex_tool.main(["show", str(n), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    p = ex_tool.params(EXERCISES[n - 1], 3)
    assert f"s20_parallel {p['iters']}" in out and f"--cpus {p['cpus']}" in out
    assert f"check {n} ANSWER --seed 3" in out and "docs/tour/7-summary.md" in out


def test_docs_list_every_exercise_and_are_linked():
    with open(os.path.join(ROOT, "docs", "exercises.md")) as f:
        text = f.read()
    for n, e in enumerate(EXERCISES, 1):
        assert re.search(rf"^\| {n} \|.*\| {e.claim} \| {re.escape(e.title)}", text, re.MULTILINE), (n, e.title)
    for page, link in (("README.md", "docs/exercises.md"), ("docs/tour/README.md", "../exercises.md")):
        with open(os.path.join(ROOT, page)) as f:
            assert f"({link})" in f.read(), page
