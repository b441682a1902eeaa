"""Byte counts in words: the one size formatter, shared by indexed text and the agent's answers.

Binary units, named as such (``1.5 KiB``, ``3.0 MiB``): Iceberg's own size settings and lakescout's
(``write.target-file-size-bytes`` 512 MiB, ``sql.large_table_bytes`` 64 MiB) are powers of two, so a table
reported against them reads in the same units.
"""

from __future__ import annotations

import humanize


def human_bytes(size: int | None) -> str | None:
    """``3094534`` -> ``3.0 MiB``; ``500`` -> ``500 Bytes``; None stays None (the catalog does not say)."""
    if size is None:
        return None
    return humanize.naturalsize(size, binary=True, format="%.1f")
