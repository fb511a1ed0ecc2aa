"""tools.lab (docs/labs.md): the regions are well formed; the project, the reference
solution, scores full marks on every lab; every lab's student tree builds, its skeletons in
place of the regions, and scores zero."""
import os
import re
import subprocess

import pytest

from tests.conftest import ROOT
from tools import lab
from tools.labs import LABS

SAMPLE = """keep 1
    # LAB demo BEGIN: the part to write
    solved = 1
    # LAB demo SKELETON
    # solved = 0      # your code
    #
    # LAB demo END
# LAB other BEGIN: another lab's part
other = 1
# LAB other END
keep 2
"""


def test_strip_replaces_only_the_lab_s_regions_by_their_skeletons():
    assert lab.strip(SAMPLE, "demo") == SAMPLE.replace(
        "    solved = 1\n    # LAB demo SKELETON\n    # solved = 0      # your code\n    #\n",
        "solved = 0      # your code\n\n")
    assert lab.strip(SAMPLE, "other") == SAMPLE.replace("other = 1\n", "")
    assert lab.strip(SAMPLE, "none") == SAMPLE


@pytest.mark.parametrize("text", ["# LAB a BEGIN\n", "# LAB a END\n", "# LAB a BEGIN\n# LAB b END\n",
                                  "# LAB a BEGIN\n# LAB b BEGIN\n", "# LAB a BEGIN\n# LAB a SKELETON\nx\n# LAB a END\n"])
def test_malformed_regions_are_errors(text):
    with pytest.raises(lab.LabError):
        lab.strip(text, "a")


def test_every_lab_has_regions_and_they_are_well_formed(capsys):
    assert lab.main(["check"]) == 0
    files = lab.marked_files()
    assert set(files) == set(LABS) and len(LABS) >= 4


@pytest.mark.parametrize("name", sorted(LABS))
def test_the_project_scores_full_marks(name, userland, capsys):
    got, possible = lab.grade(name)
    out = capsys.readouterr().out
    assert possible == 100 and got == possible, out
    assert out.rstrip().endswith(f"score: {possible}/{possible}") and "FAIL" not in out


def student(name, tmp_path):
    tree = str(tmp_path / name)
    assert lab.main(["make", name, "--dir", tree]) == 0
    with open(os.path.join(tree, ".lab")) as f:
        assert f.read().strip() == name
    for rel in lab.marked_files()[name]:        # the solution is gone, the skeleton is there
        with open(os.path.join(ROOT, rel)) as a, open(os.path.join(tree, rel)) as b:
            assert a.read() != b.read(), rel
    build = subprocess.run(["make", "-C", tree, "all"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert build.returncode == 0, build.stdout[-3000:]
    g = subprocess.run(["make", "-s", "-C", tree, "grade"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert g.returncode == 0, g.stdout[-3000:]
    return g.stdout


def test_stride_student_tree_builds_and_scores_zero(tmp_path):
    out = student("stride", tmp_path)
    assert re.search(r"^score: 0/100$", out, re.M) and "OK " not in out, out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["uswitch", "syscall", "upcall"])
def test_libc_student_trees_build_and_score_zero(name, tmp_path):
    out = student(name, tmp_path)
    assert re.search(r"^score: 0/100$", out, re.M) and "OK " not in out, out


def test_make_lab_and_grade_usage(tmp_path):
    assert lab.main(["make", "nosuchlab", "--dir", str(tmp_path / "x")]) == 1
    assert lab.main(["grade", "nosuchlab"]) == 1
