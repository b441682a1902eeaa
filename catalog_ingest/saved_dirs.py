"""Index directories saved whole and labelled with the record-store generation they were built from.

A save writes a sibling staging directory, then renames it into place: a save killed half-way leaves the
previous directory intact, and one killed between the two renames leaves it under ``.old``, where readers
look too. The lexical index and the vector file are both saved this way.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from catalog_ingest.faults import fault_point

GENERATION_FILE = "generation"


def save_directory(path: Path, fill: Callable[[Path], None], generation: str | None, fault: str) -> None:
    """Replace the directory ``path`` with what ``fill`` writes into an empty staging directory, labelled
    with ``generation`` when given; ``fault`` names the kill point between the two renames."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f"{path.name}.tmp-{uuid.uuid4().hex}")
    previous = path.with_name(f"{path.name}.old")
    staging.mkdir()
    try:
        fill(staging)
        if generation is not None:
            (staging / GENERATION_FILE).write_text(generation, encoding="utf-8")
        shutil.rmtree(previous, ignore_errors=True)
        if path.exists():
            os.replace(path, previous)
            fault_point(fault)
        os.replace(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(previous, ignore_errors=True)


def write_synced(path: Path, write: Callable[[object], None], mode: str = "w") -> None:
    """Write a file through ``write(handle)`` and flush it to disk before the rename that publishes it."""
    encoding = None if "b" in mode else "utf-8"
    with open(path, mode, encoding=encoding) as out:
        write(out)
        out.flush()
        os.fsync(out.fileno())


def write_json(path: Path, value: object, **options: object) -> None:
    """``write_synced`` of ``value`` as JSON (``json.dumps`` options): encoded in one piece, since ``json.dump``
    runs Python's encoder, not the C one, and took 12 CPU-s on a vector file's header of 110,000 documents."""
    text = json.dumps(value, **options)  # type: ignore[arg-type]
    write_synced(path, lambda out: out.write(text))  # type: ignore[attr-defined]


def write_parts(out: object, dtype: type, parts: Iterable[np.ndarray]) -> int:
    """Write row blocks of ``dtype`` to the open binary file ``out``, one after the other; returns the rows written."""
    written = 0
    for part in parts:
        out.write(np.ascontiguousarray(part, dtype=dtype).tobytes())  # type: ignore[attr-defined]
        written += len(part)
    return written


def write_rows(path: Path, dtype: type, shape: tuple[int, int], parts: Iterable[np.ndarray]) -> None:
    """Save a ``shape`` matrix of ``dtype`` as ``.npy``, written part by part (row blocks, in order) and flushed
    to disk: a matrix copied from a memory-mapped one never has to be whole in memory."""

    def write(out: object) -> None:
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(out, header)
        written = write_parts(out, dtype, parts)
        if written != shape[0]:
            raise ValueError(f"{path.name}: {written} rows written for a matrix of {shape[0]}")

    write_synced(path, write, "wb")


def write_counted_rows(path: Path, dtype: type, parts: Iterable[np.ndarray]) -> int:
    """Write row blocks of ``dtype`` with no header, flushed to disk; returns how many rows were written (what a
    header written after them records), so the rows need not be counted first."""
    written = 0

    def write(out: object) -> None:
        nonlocal written
        written = write_parts(out, dtype, parts)

    write_synced(path, write, "wb")
    return written


def candidates(path: Path) -> tuple[Path, Path]:
    """Where a save may live: ``path``, or its ``.old`` twin if a save died mid-swap."""
    path = Path(path)
    return path, path.with_name(f"{path.name}.old")


def saved_location(path: Path, marker: str) -> Path | None:
    """The last complete save (one holding the file ``marker``), or None."""
    return next((candidate for candidate in candidates(path) if (candidate / marker).is_file()), None)


def generation_of(location: Path) -> str | None:
    label = location / GENERATION_FILE
    return label.read_text(encoding="utf-8") if label.is_file() else None


def location_for_generation(path: Path, marker: str, generation: str) -> Path | None:
    """The complete save labelled ``generation`` (at ``path`` or mid-swap under ``.old``), or None."""
    for candidate in candidates(path):
        if (candidate / marker).is_file() and generation_of(candidate) == generation:
            return candidate
    return None
