"""Fewer glibc malloc arenas for an ingest, so memory native libraries free is reused instead of held, and
that free memory handed back to the system when a phase that made it is over.

glibc gives each thread that allocates its own arena, up to eight per core; an ingest runs crawl threads,
onnxruntime's threads and Chroma's runtime side by side, and memory freed in one arena is not reused by
another, so the process's resident size kept growing with what was freed. Two arenas (as the environment
variable MALLOC_ARENA_MAX=2 sets) lowered an ingest's peak from 1,143 to 879 MB at 2,500 tables for the same
CPU (263 and 266 CPU-s). Python's own small-object allocator is not affected; elsewhere than glibc this does
nothing.
"""

from __future__ import annotations

import ctypes

M_ARENA_MAX = -8
"""glibc's ``mallopt`` parameter for the most arenas (malloc.h)."""
INGEST_ARENAS = 2


def limit_malloc_arenas(arenas: int = INGEST_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process (threads started later share them); whether it took."""
    try:
        return bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, arenas))  # the C library the process runs on
    except (OSError, AttributeError):  # no mallopt: not glibc
        return False


def release_free_memory() -> bool:
    """Hand the free memory glibc's arenas hold back to the system (``malloc_trim``): what the crawl and the
    model freed stays resident otherwise (at 2,500 tables 285 of the arenas' 459 MB when an ingest publishes),
    under what publishing allocates in fresh pages. Whether glibc was there to ask (elsewhere it does nothing)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # no malloc_trim: not glibc
        return False
    trim(0)
    return True
