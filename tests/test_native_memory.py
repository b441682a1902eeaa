"""An ingest caps glibc's malloc arenas and, before publishing, lets its model go and hands free memory back
(``native_memory``, ``MiniLMEmbedder.release``); elsewhere than glibc the cap and the trim are no-ops."""

from __future__ import annotations

import platform
import subprocess
import sys

import numpy as np

from catalog_ingest.embeddings import MemoizedEmbedder, MiniLMEmbedder
from catalog_ingest.native_memory import release_free_memory

CAPPED_IN_A_FRESH_PROCESS = """
from catalog_ingest.native_memory import limit_malloc_arenas
print(limit_malloc_arenas())
"""


def test_the_arena_cap_takes_on_glibc_only():
    done = subprocess.run([sys.executable, "-c", CAPPED_IN_A_FRESH_PROCESS], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(platform.libc_ver()[0] == "glibc")


def test_free_memory_is_handed_back_on_glibc_only():
    assert release_free_memory() == (platform.libc_ver()[0] == "glibc")


def test_a_released_model_loads_again_and_embeds_the_same():
    model = MiniLMEmbedder()
    texts = ["Column refund_amount. Values: 10, 20", "Iceberg table finance.refunds: money given back", "order_id"]
    before = model.embed(texts)
    model.release()
    assert model._session is None and model._runners is None
    assert np.array_equal(model.embed(texts), before)


def test_a_forgotten_memo_embeds_its_texts_again():
    memo = MemoizedEmbedder(MiniLMEmbedder())
    memo.embed(["order_id", "customer_id"])
    memo.forget()
    assert memo.remembered() == {}
    memo.embed(["order_id"])
    assert memo.texts_embedded == 3
