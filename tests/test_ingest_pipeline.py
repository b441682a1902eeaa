"""The ingest's pipeline: a group is embedded while the group before it is written, groups are written in
the order they were added, each with its own vectors, and a failure leaves nothing running."""

from __future__ import annotations

import threading

import pytest

from catalog_ingest.ingest_pipeline import EmbedAhead


def test_the_next_group_is_embedded_while_the_one_before_is_written_in_order():
    second_embedding = threading.Event()
    written: list[tuple[str, str]] = []

    def embed(group: str) -> str:
        if group == "second":
            second_embedding.set()
        return f"vectors of {group}"

    def write(group: str, vectors: str) -> int:
        if group == "first":  # the second group's embedding starts before this write ends
            assert second_embedding.wait(timeout=30), "the next group was not embedded during this write"
        written.append((group, vectors))
        return len(group)

    with EmbedAhead(embed, write) as groups:
        counts = [groups.add("first"), groups.add("second"), groups.add("third"), groups.finish()]
    assert written == [("first", "vectors of first"), ("second", "vectors of second"), ("third", "vectors of third")]
    assert counts == [0, 5, 6, 5]  # each add writes the group before it; finish writes the last


def test_embedding_runs_beside_the_caller_and_a_failed_write_stops_the_pipeline():
    threads: list[str] = []
    embedded: list[str] = []

    def embed(group: str) -> str:
        threads.append(threading.current_thread().name)
        embedded.append(group)
        return group

    def write(group: str, vectors: str) -> int:
        raise OSError(f"disk full writing {group}")

    with pytest.raises(OSError, match="disk full writing first"):
        with EmbedAhead(embed, write) as groups:
            groups.add("first")
            groups.add("second")
            groups.add("third")  # never reached
    assert embedded in (["first"], ["first", "second"])  # the second's embedding cancelled or finished; no third
    assert threads and all(name.startswith("embed-ahead") for name in threads)
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("embed-ahead")]  # none left
