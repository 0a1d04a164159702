"""Build `schemas/` from the official material: per release, per service version, per message.

Output (deterministic: sorted keys, fixed indentation, LF):
  schemas/releases.json                                   release -> service -> versions
  schemas/oicp-<R>/catalog.json                           operations and message locations
  schemas/oicp-<R>/<service>/<version>/<Message>.json     corrected profile (errata applied)
  schemas/official/oicp-<R>/<service>/<version>/<Message>.json   exactly as published
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.build.assemble import assemble
from conformance.build.catalog import build_catalog
from conformance.build.errata import ErrataError, Erratum, apply_errata, load_errata
from conformance.build.files import dump, sync
from conformance.spec.model import SpecDocument
from conformance.spec.openapi import read_openapi
from conformance.spec.swagger import read_swagger

PROFILES = ("official", "corrected")


class BuildError(Exception):
    """The official material or the errata registry cannot be turned into schemas; says why."""


@dataclass
class ReleaseSource:
    """The documents of one release, in the order that decides which one defines a shared message."""

    release: str
    documents: list[SpecDocument]


def read_sources(spec: Path) -> list[ReleaseSource]:
    """Read the 2.3 OpenAPI trees (CPO first) and the 2.2 Swagger files under `spec`."""
    wanted = [spec / "openapi-2.3-cpo", spec / "openapi-2.3-emp", spec / "swagger-2.2"]
    missing = [str(p) for p in wanted if not p.is_dir()]
    if missing:
        raise BuildError(f"{spec} is not the OICP spec folder: missing {', '.join(missing)}")
    return [
        ReleaseSource("2.2", [read_swagger(p, "2.2") for p in sorted((spec / "swagger-2.2").glob("*.json"))]),
        ReleaseSource("2.3", [read_openapi(wanted[0], "2.3"), read_openapi(wanted[1], "2.3")]),
    ]


def _diff(a: Any, b: Any, pointer: str = "") -> list[str]:
    """JSON pointers where two schemas differ (a key present on one side only counts at the key)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(a.keys() | b.keys()):
            sub = f"{pointer}/{key}"
            if key not in a or key not in b:
                out.append(sub)
            else:
                out.extend(_diff(a[key], b[key], sub))
        return out
    return [] if a == b else [pointer or "/"]


def _check_conflicts(release: str, name: str, variants: list[dict[str, Any]], errata: list[Erratum]) -> None:
    """Two documents of one release that define a message differently need a `conflict` erratum."""
    covered = {
        p
        for e in errata
        if release in e.releases and e.extra.get("message") == name
        for p in e.extra.get("pointers", [])
    }
    for other in variants[1:]:
        uncovered = [p for p in _diff(variants[0], other) if p not in covered]
        if uncovered:
            raise BuildError(
                f"OICP {release}: {name} differs between the CPO and EMP documents at {', '.join(uncovered)}; "
                "add an erratum with `message` and `pointers` to schemas/errata.toml saying which the project follows"
            )


def build_release(source: ReleaseSource, errata: list[Erratum]) -> tuple[dict[str, str], dict[str, Any]]:
    """Files (relative path -> text) of one release, and its service map for releases.json."""
    catalog = build_catalog(source.release, source.documents)
    files: dict[str, str] = {}
    for profile in PROFILES:
        docs = [copy.deepcopy(doc.definitions) for doc in source.documents]
        if profile == "corrected":
            counts: dict[str, int] = defaultdict(int)
            for defs in docs:
                for erratum_id, n in apply_errata(defs, errata, source.release).items():
                    counts[erratum_id] += n
            stale = [i for i, n in counts.items() if n == 0]
            if stale:
                raise BuildError(
                    f"OICP {source.release}: errata {', '.join(sorted(stale))} match nothing in the official "
                    "text; the spec changed or the entry is wrong"
                )
        prefix = f"oicp-{source.release}" if profile == "corrected" else f"official/oicp-{source.release}"
        for name, homes in catalog["messages"].items():
            for home in homes:
                defining = [
                    d
                    for d, doc in zip(docs, source.documents, strict=True)
                    if name in d and doc.name in catalog["origins"][home]
                ]
                if not defining:
                    raise BuildError(f"OICP {source.release}: no document defines {name} for {home}")
                variants = [assemble(d, name) for d in defining]
                if profile == "official":
                    _check_conflicts(source.release, name, variants, errata)
                files[f"{prefix}/{home}/{name}.json"] = dump(variants[0])
    catalog.pop("origins")
    files[f"oicp-{source.release}/catalog.json"] = dump(catalog)
    services: dict[str, set[str]] = defaultdict(set)
    for op in catalog["operations"]:
        services[op["service"]].add(op["version"])
    return files, {s: sorted(v) for s, v in sorted(services.items())}


def build(spec: Path, out: Path, *, check: bool = False) -> list[str]:
    """Write (or with `check`, compare) the whole `schemas/` tree; returns the paths that changed."""
    errata_path = out / "errata.toml"
    if not errata_path.is_file():
        raise BuildError(f"{errata_path} not found: the errata registry lives beside the schemas")
    try:
        errata = load_errata(errata_path)
    except (ErrataError, ValueError) as exc:
        raise BuildError(str(exc)) from exc
    files: dict[str, str] = {}
    release_map: dict[str, Any] = {}
    for source in read_sources(spec):
        try:
            release_files, release_map[source.release] = build_release(source, errata)
        except ErrataError as exc:
            raise BuildError(str(exc)) from exc
        files.update(release_files)
    files["releases.json"] = dump(release_map)
    generated = {
        str(p.relative_to(out)) for tree in [*out.glob("oicp-*"), out / "official"] for p in tree.rglob("*.json")
    }
    changed = sync(out, files, check=check)
    for rel in sorted(generated - files.keys()):
        changed.append(rel)
        if not check:
            (out / rel).unlink()
    return changed
