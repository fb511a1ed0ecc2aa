import os
import shutil
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds (make test-quick skips)")
    config.addinivalue_line("markers", "needs(program, apt=package): runs an outside program that pip "
                            "does not install (see require)")


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


def require(program: str, apt: str = None) -> str:
    """The path of PROGRAM, an outside program (not from pip) that a test runs. Missing, the
    test is skipped with the command that installs it (Debian package apt, default PROGRAM);
    under CI (CI=true, as .ci/run sets) it fails instead: CI must run every test."""
    path = shutil.which(program)
    if path is not None:
        return path
    install = f"apt-get install -y {apt or program}"
    if under_ci():
        pytest.fail(f"{program} is missing under CI (CI=true): {install}", pytrace=False)
    pytest.skip(f"{program} is not installed: {install}")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """@pytest.mark.needs("gdb-multiarch"): require() before the test and its fixtures."""
    for mark in item.iter_markers("needs"):
        require(*mark.args, **mark.kwargs)


@pytest.fixture(scope="session")
def userland():
    """The built /bin programs (make builds them before the tests run)."""
    from tools.run import bin_files
    files = bin_files()
    assert "/bin/init" in files and "/bin/sh" in files, "run make first"
    return files


@pytest.fixture(scope="session")
def base_image(tmp_path_factory, userland):
    """A disk image with every /bin program, made once; tests boot from copies of it."""
    from tools.mkfs import make_image
    path = str(tmp_path_factory.mktemp("disk") / "base.img")
    total = sum(len(v) for v in userland.values())
    make_image(path, userland, size_mib=total * 3 // 2 // (1 << 20) + 24)
    return path
