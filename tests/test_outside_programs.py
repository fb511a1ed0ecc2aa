"""tests/conftest.py's require() and @pytest.mark.needs: a test that runs an outside program
(chromium, gdb-multiarch) is skipped, with the install command, where it is missing, and
fails there under CI (CI=true)."""
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT, require

FAKE = "pvtos-no-such-program"


def test_missing_program_skips_with_the_install_command(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"^{FAKE} is not installed: apt-get install -y pvtos-fake-pkg$"):
        require(FAKE, apt="pvtos-fake-pkg")


def test_missing_program_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=f"apt-get install -y {FAKE}$"):
        require(FAKE)


def test_present_program_is_its_path(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert require("make") == shutil.which("make")


@pytest.mark.parametrize("ci, outcome", [("", "1 skipped"), ("true", "1 error")])   # error: in setup
def test_the_marker_in_a_pytest_run(tmp_path, ci, outcome):
    (tmp_path / "test_fake.py").write_text(
        "import pytest\n\n"
        f"@pytest.mark.needs({FAKE!r}, apt='pvtos-fake-pkg')\n"
        "def test_uses_it():\n"
        "    raise AssertionError('ran without its program')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    if ci:
        env["CI"] = ci
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rsf", "-p", "tests.conftest", "-p", "no:cacheprovider",
                        str(tmp_path / "test_fake.py")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert outcome in r.stdout.splitlines()[-1], r.stdout
    assert (r.returncode == 0) == (not ci)
    assert "apt-get install -y pvtos-fake-pkg" in r.stdout and "ran without its program" not in r.stdout
