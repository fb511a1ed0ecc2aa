import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds (make test-quick skips)")


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
