"""The scale benchmarks' catalog-properties argument: a JSON object or a file holding one; bad ones are a
one-line usage error, not a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.scale_lake import properties_argument


def test_properties_come_from_json_text_or_a_file(tmp_path):
    properties = {"type": "sql", "uri": "sqlite:///x.db"}
    path = tmp_path / "props.json"
    path.write_text(json.dumps(properties), encoding="utf-8")
    assert properties_argument(json.dumps(properties)) == properties
    assert properties_argument(str(path)) == properties


@pytest.mark.parametrize(
    ("argument", "message"),
    [("{bad", "not valid JSON"), ("/no/such/props.json", "no such file"), ('{"a": 1} trailing', "not valid JSON")],
)
def test_bad_properties_are_a_usage_error_naming_the_problem(argument, message):
    for module in ("bench.word_pieces", "bench.scale_serve"):
        args = [argument] if module == "bench.word_pieces" else ["/tmp/unused", "--catalog-properties", argument]
        done = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert message in done.stderr.strip().splitlines()[-1]


def test_a_file_holding_a_list_is_refused(tmp_path):
    path = tmp_path / "props.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(Exception, match="must be a JSON object"):
        properties_argument(str(path))
