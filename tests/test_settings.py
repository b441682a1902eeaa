"""Settings: environment, config file and defaults, and errors that name the setting."""

from pathlib import Path

import pytest

from catalog_ingest.settings import ConfigError, Settings, load_settings


def test_defaults_point_at_the_sample_lake(tmp_path):
    settings = load_settings(data_dir=tmp_path)
    (catalog,) = settings.effective_catalogs()
    assert catalog.properties["type"] == "sql"
    assert str(tmp_path.resolve() / "lake" / "catalog.db") in catalog.properties["uri"]
    assert settings.model.name == "offline"
    assert settings.api.host == "127.0.0.1"


def test_environment_overrides_config_file(tmp_path, monkeypatch):
    config = tmp_path / "lakescout.toml"
    config.write_text(
        '[sql]\nrow_limit = 50\n\n[[catalogs]]\nname = "prod"\ntype = "glue"\nproperties = { region = "eu-west-1" }\n'
    )
    monkeypatch.setenv("LAKESCOUT_SQL__ROW_LIMIT", "7")
    settings = load_settings(config_file=config)
    assert settings.sql.row_limit == 7
    assert settings.catalogs[0].name == "prod"
    assert settings.catalogs[0].properties == {"region": "eu-west-1"}


def test_bad_value_names_setting_and_variable(monkeypatch):
    monkeypatch.setenv("LAKESCOUT_SQL__ROW_LIMIT", "many")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "sql.row_limit" in str(err.value)
    assert "LAKESCOUT_SQL__ROW_LIMIT" in str(err.value)


def test_unknown_embedding_and_missing_config_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKESCOUT_INDEX__EMBEDDING", "word2vec")
    with pytest.raises(ConfigError, match="minilm"):
        load_settings()
    monkeypatch.delenv("LAKESCOUT_INDEX__EMBEDDING")
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config_file=Path(tmp_path / "nope.toml"))


def test_duplicate_catalog_names_refused(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[[catalogs]]\nname = "a"\n\n[[catalogs]]\nname = "a"\n')
    with pytest.raises(ConfigError, match="repeated: a"):
        load_settings(config_file=config)


def test_with_section_changes_only_the_given_fields():
    settings = Settings(api={"port": 9000, "workers": 2})
    changed = settings.with_section("api", host="0.0.0.0", port=None, workers=3)
    assert (changed.api.host, changed.api.port, changed.api.workers) == ("0.0.0.0", 9000, 3)
    assert settings.api.workers == 2 and changed.sql == settings.sql


def test_malformed_toml_is_one_line_with_file_line_and_column(tmp_path):
    config = tmp_path / "lakescout.toml"
    config.write_text('[sql]\nrow_limit = 50\nengine = = "duckdb"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(config_file=config)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{config}: not valid TOML") and "line 3, column" in message


@pytest.mark.parametrize(
    ("toml", "unknown", "suggestion"),
    [
        ("[sql]\nrow_limt = 5\n", "sql.row_limt", "sql.row_limit"),
        ('[model]\nnmae = "offline"\n', "model.nmae", "model.name"),
        ('data_dri = "x"\n', "data_dri", "data_dir"),
        ('[[catalogs]]\nname = "a"\nincldue = ["x.*"]\n', "catalogs.0.incldue", "catalogs.0.include"),
    ],
)
def test_unknown_key_is_refused_with_the_closest_known_one(tmp_path, toml, unknown, suggestion):
    config = tmp_path / "lakescout.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError) as err:
        load_settings(config_file=config)
    assert str(err.value) == f"invalid configuration: unknown setting {unknown} (did you mean {suggestion}?)"


def test_unknown_nested_environment_variable_is_refused(monkeypatch):
    monkeypatch.setenv("LAKESCOUT_SQL__ROW_LIMT", "5")
    with pytest.raises(ConfigError, match=r"unknown setting sql\.row_limt \(did you mean sql\.row_limit\?\)"):
        load_settings()
