"""The sample lake's semantic layer file (``sample/semantic.yaml``) and putting it where lakescout reads it."""

from __future__ import annotations

from pathlib import Path

from catalog_ingest.semantic import install_layer

SAMPLE_LAYER = Path(__file__).with_name("semantic.yaml")


def install_sample_layer(data_dir: Path) -> Path | None:
    """Copy the sample layer to ``data_dir/semantic.yaml`` (the default path) unless a layer is already there."""
    return install_layer(SAMPLE_LAYER, data_dir)
