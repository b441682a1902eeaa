"""An ingest caps glibc's malloc arenas (``native_memory``); elsewhere than glibc the cap is a no-op."""

from __future__ import annotations

import platform
import subprocess
import sys

CAPPED_IN_A_FRESH_PROCESS = """
from catalog_ingest.native_memory import limit_malloc_arenas
print(limit_malloc_arenas())
"""


def test_the_arena_cap_takes_on_glibc_only():
    done = subprocess.run([sys.executable, "-c", CAPPED_IN_A_FRESH_PROCESS], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(platform.libc_ver()[0] == "glibc")
