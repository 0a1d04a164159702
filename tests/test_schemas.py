"""The committed schemas: rebuilt from the spec without difference, self-contained, YAML-1.2-correct."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conformance.build.builder import build
from conformance.catalog import load_release, releases
from conformance.paths import schemas_dir
from conformance.spec.yaml12 import load_yaml

SCHEMAS = schemas_dir()
ALL_FILES = sorted(
    p
    for tree in [*SCHEMAS.glob("oicp-*"), SCHEMAS / "official"]
    for p in tree.rglob("*.json")
    if p.name != "catalog.json"
)


def test_rebuild_from_spec_is_identical(spec_dir: Path) -> None:
    changed = build(spec_dir, SCHEMAS, check=True)
    assert changed == [], f"schemas/ is stale, run `oicp-conformance schemas build`: {changed[:10]}"


def test_yaml_reader_keeps_the_on_key(spec_dir: Path) -> None:
    raw = load_yaml(spec_dir / "openapi-2.3-cpo" / "schemas" / "OpeningTimes.yaml")
    assert "on" in raw["properties"] and True not in raw["properties"]
    schema = json.loads((SCHEMAS / "oicp-2.3/evsepush/v23/eRoamingPushEvseData.json").read_text())
    assert "on" in schema["definitions"]["OpeningTimes"]["properties"]
    assert schema["definitions"]["OpeningTimes"]["required"] == ["Period", "on"]


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(SCHEMAS)))
def test_schema_is_self_contained_draft7(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    refs = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                refs.add(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(schema)
    for ref in refs:
        assert ref.startswith("#/definitions/"), f"{path}: non-local $ref {ref}"
        assert ref.removeprefix("#/definitions/") in schema.get("definitions", {}), f"{path}: dangling {ref}"
    text = path.read_text(encoding="utf-8")
    assert "nullable" not in text and '"example"' not in text


@pytest.mark.parametrize("release", sorted(releases()))
def test_each_message_has_one_schema_per_release(release: str) -> None:
    """The validator looks a message up by name alone: that needs every copy to be the same."""
    rel = load_release(release)
    for name, homes in rel.messages.items():
        texts = {(SCHEMAS / f"oicp-{release}" / home / f"{name}.json").read_text() for home in homes}
        assert len(texts) == 1, f"{release} {name} differs between {homes}"


def test_layout_is_release_service_version() -> None:
    assert (SCHEMAS / "oicp-2.3/charging/v21/eRoamingAuthorizeStart.json").is_file()
    assert (SCHEMAS / "oicp-2.3/cdrmgmt/v22/eRoamingChargeDetailRecord.json").is_file()
    assert (SCHEMAS / "oicp-2.2/evsepush/v22/eRoamingPushEvseData.json").is_file()
    assert releases()["2.3"]["evsepush"] == ["v21", "v23"]
    assert releases()["2.3"]["notificationmgmt"] == ["v11"]
    assert "notificationmgmt" not in releases()["2.2"]
