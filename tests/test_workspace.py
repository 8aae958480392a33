"""warrant.toml: validation that names the key, environment references, empty workspaces."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import ConfigError
from engine.workspace import FileSourceConfig, Workspace


def write(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "warrant.toml").write_text(text)
    return root


def test_an_empty_folder_is_a_workspace(tmp_path: Path) -> None:
    ws = Workspace.load(tmp_path)
    assert ws.config.sources == {} and ws.ontology_files() == []


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ('path = "${DATA}/v.csv"', {"DATA": "/srv"}, "/srv/v.csv"),
        ('path = "${DATA:-data}/v.csv"', {}, "data/v.csv"),
        ('path = "${DATA:-data}/v.csv"', {"DATA": "/srv"}, "/srv/v.csv"),
        ('path = "${DATA:-}v.csv"', {}, "v.csv"),
    ],
)
def test_environment_references_and_defaults(
    tmp_path: Path, text: str, env: dict[str, str], expected: str
) -> None:
    root = write(tmp_path, f'[sources.v]\ntype = "csv"\nmapping = "m.yaml"\n{text}\n')
    source = Workspace.load(root, env=env).source("v")
    assert isinstance(source, FileSourceConfig) and source.path == expected


def test_a_missing_variable_names_the_key_and_never_the_secret(tmp_path: Path) -> None:
    root = write(tmp_path, '[sources.db]\ntype = "sql"\nmapping = "m.yaml"\nurl = "${PG_URL}"\n')
    with pytest.raises(ConfigError) as info:
        Workspace.load(root, env={})
    assert "PG_URL" in info.value.message
    assert info.value.location is not None and info.value.location.field == "sources.db.url"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('[sources.v]\ntype = "csv"\nmapping = "m.yaml"\npth = "x"\n', "sources.v.csv.pth"),
        ('[sources.v]\ntype = "excel"\n', "sources.v"),
        ("[rules]\ntime_limit_s = \"soon\"\n", "rules.time_limit_s"),
    ],
)
def test_unknown_or_wrong_keys_are_named(tmp_path: Path, text: str, where: str) -> None:
    with pytest.raises(ConfigError) as info:
        Workspace.load(write(tmp_path, text))
    assert info.value.location is not None
    assert info.value.location.field == where


def test_malformed_toml_is_located(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        Workspace.load(write(tmp_path, "[project]\nname = \n"))
    assert info.value.location is not None and info.value.location.line == 2
