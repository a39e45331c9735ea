# SPDX-License-Identifier: GPL-2.0-only
"""TAP checks for the Python parts of tests/test_*.sh (tests/tap.sh's twin):
one "ok N what" / "not ok N what" line per check; done() prints the plan and
exits 0 if all passed, else 1.  Run with PYTHONPATH=<repo>/tests."""
import sys

_num = 0
_failed = 0


def check(ok, what):
    global _num, _failed
    _num += 1
    print(("ok" if ok else "not ok"), _num, what)
    _failed += not ok


def done():
    print(f"1..{_num}")
    sys.exit(1 if _failed else 0)
