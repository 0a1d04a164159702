"""The errata registry: complete, applied, and the only difference between the two profiles."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from conformance.build.builder import BuildError, build_release, read_sources
from conformance.build.errata import load_errata
from conformance.paths import schemas_dir

SCHEMAS = schemas_dir()
ERRATA = load_errata(SCHEMAS / "errata.toml")
IDS = {e.id for e in ERRATA}


def _corrected_files() -> list[Path]:
    return sorted(p for p in SCHEMAS.glob("oicp-*/**/*.json") if p.name != "catalog.json")


def _diff(a: object, b: object, pointer: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(a.keys() | b.keys()):
            out += [f"{pointer}/{key}"] if key not in a or key not in b else _diff(a[key], b[key], f"{pointer}/{key}")
        return out
    return [] if a == b else [pointer]


def _commented_ancestor(schema: dict, pointer: str) -> str | None:
    """The erratum named by the nearest node on the way to `pointer` that carries one."""
    node: object = schema
    found = None
    for part in pointer.strip("/").split("/"):
        if isinstance(node, dict) and "erratum" in str(node.get("$comment", "")):
            found = node["$comment"]
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and "erratum" in str(node.get("$comment", "")):
        found = node["$comment"]
    return found


def test_every_entry_is_complete() -> None:
    for e in ERRATA:
        assert e.title and e.reason and e.official is not None and e.corrected is not None, e.id
        assert set(e.releases) <= {"2.2", "2.3"}, e.id


@pytest.mark.parametrize("path", _corrected_files(), ids=lambda p: str(p.relative_to(SCHEMAS)))
def test_profiles_differ_only_where_an_erratum_says_so(path: Path) -> None:
    corrected = json.loads(path.read_text())
    official = json.loads((SCHEMAS / "official" / path.relative_to(SCHEMAS)).read_text())
    for pointer in _diff(official, corrected):
        if pointer.endswith("/$comment"):
            continue
        comment = _commented_ancestor(corrected, pointer)
        assert comment is not None, f"{path}: {pointer} differs from the official text without an erratum"
        named = {part.split()[-1] for part in comment.split(";")}
        assert named <= IDS, f"{path}: {pointer} names unknown errata {named - IDS}"


def test_a_stale_erratum_fails_the_build(spec_dir: Path) -> None:
    source = next(s for s in read_sources(spec_dir) if s.release == "2.3")
    broken = copy.deepcopy(ERRATA)
    index = next(i for i, e in enumerate(broken) if e.id == "E-P01")
    broken[index] = type(broken[index])(**{**broken[index].__dict__, "official": "no such pattern"})
    with pytest.raises(BuildError, match="E-P01"):
        build_release(source, broken)


def test_an_unregistered_document_conflict_fails_the_build(spec_dir: Path) -> None:
    source = next(s for s in read_sources(spec_dir) if s.release == "2.3")
    without = [e for e in ERRATA if e.id != "E-C01"]
    with pytest.raises(BuildError, match="HubProviderI"):
        build_release(source, without)


def test_string_maximum_becomes_maxlength_only_in_corrected_profile() -> None:
    rel = "oicp-2.3/charging/v21/eRoamingAcknowledgment.json"
    corrected = json.loads((SCHEMAS / rel).read_text())
    official = json.loads((SCHEMAS / "official" / rel).read_text())
    assert official["definitions"]["StatusCode"]["properties"]["Description"] == {"type": "string", "maximum": 200}
    assert corrected["definitions"]["StatusCode"]["properties"]["Description"]["maxLength"] == 200
