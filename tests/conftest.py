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
