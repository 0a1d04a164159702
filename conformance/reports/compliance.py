"""The compliance report: `compliance.json` and a self-contained `compliance.html` beside a run's summary.

A certification lead reads the verdict, then the evidence of each failure, then every requirement with the
sentence of the spec it rests on, then what was exercised and how the run was set up. Everything comes from
`summary.json`, the requirement catalogue (quotes), the operation catalogue (service versions), the errata
registry and the SUT's declaration, which is described without a single secret: header values, passwords in
URLs, trigger URLs and commands never enter the report, and every secret the declaration holds is scrubbed
from the evidence before it is written, should a body ever carry one.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import sys
import tomllib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from conformance.catalog import load_release, releases
from conformance.redact import current, url_secrets

FORMAT = "oicp-conformance compliance report"
FORMAT_VERSION = 1
JSON_NAME, HTML_NAME = "compliance.json", "compliance.html"
# The schemas every check validates against: the official definitions with the errata applied.
SCHEMA_PROFILE = "corrected"
STATUSES = ("fail", "error", "warn", "not judged", "pass", "n/a")
# Header values of these are protocol words, not secrets; scrubbing them would garble the evidence.
_PLAIN_HEADERS = {"content-type", "accept", "accept-encoding", "content-encoding", "user-agent", "connection"}
_REDACTED = "<redacted>"
_PACKAGE = Path(__file__).resolve().parent.parent
_BUNDLED = re.compile(r"^\(bundled reference (CPO|EMP), (?:shape )?([\w-]+)\)$")


# --- the verdict -----------------------------------------------------------------------------------------


def shown_verdict(summary: dict[str, Any]) -> dict[str, str]:
    """The verdict as the report shows it: pass, pass with warnings, fail, incomplete or configuration problem.

    `interrupted` and `aborted` runs are incomplete: they cannot vouch for the SUT, whatever they judged."""
    raw = str(summary.get("verdict") or "unknown")
    rows = _rows(summary)
    warnings = sum(r.get("status") == "warn" for r in rows)
    reason = str(summary.get("reason") or "")
    if raw == "pass" and warnings:
        key = "pass with warnings"
        text = (
            f"Every MUST requirement the SUT must meet was judged and held; {warnings} SHOULD or PRACTICE "
            "requirement(s) did not hold (warnings: they do not fail the run, --strict would)."
        )
    elif raw == "pass":
        key, text = "pass", "Every MUST requirement the SUT must meet was judged and held."
    elif raw == "fail":
        key = "fail"
        text = "At least one requirement failed that fails the run (a MUST, or a SHOULD/PRACTICE under --strict)."
    elif raw == "configuration problem":
        key = "configuration problem"
        text = (
            "The declaration does not fit the SUT (a trigger or probe not served, a command not found): "
            "fix it and run again."
        )
    elif raw == "incomplete":
        key = "incomplete"
        text = (
            "Nothing failed, but a MUST requirement of what the SUT must implement was not judged, or a check "
            "broke: the run cannot vouch for the SUT."
        )
    elif raw == "interrupted":
        key, text = "incomplete", "The run was interrupted before it finished: it cannot vouch for the SUT."
    elif raw == "aborted":
        key, text = "incomplete", "The suite could not run to its end: it cannot vouch for the SUT."
    elif raw == "deadline":
        key, text = "incomplete", "The run was cut at its deadline (--deadline): it cannot vouch for the SUT."
    else:
        key, text = "incomplete", f"The summary's verdict {raw!r} is not one this report knows."
    if reason and reason not in text:
        text += f" {reason}"
    return {"key": key, "label": key.upper(), "run_verdict": raw, "explanation": text}


def _rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    rows = summary.get("requirements") or []
    return [r for r in rows if isinstance(r, dict)]


# --- the declaration, without secrets --------------------------------------------------------------------


def _safe_url(url: str) -> str:
    """A URL as a report may show it: no user or password, no query (where tokens hide)."""
    try:
        parts = urlparse(url)
    except ValueError:
        return _REDACTED
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    shown = f"{parts.scheme}://{host}{parts.path}" if parts.scheme else parts.path
    return shown + ("?…" if parts.query else "")


def _secrets_of(sut: Any) -> set[str]:
    """Every value of the declaration that must never be shown: header values, URL passwords and tokens."""
    found = set(sut.redacted)
    for table in [sut.headers, *(route.headers for route in sut.inbound.values())]:
        found |= set(table.values())
    for trigger in sut.triggers.values():
        found |= {v for k, v in trigger.headers.items() if k.lower() not in _PLAIN_HEADERS}
        found |= url_secrets(trigger.url)
    for url in [sut.base_url, *sut.probes.values(), *(route.url for route in sut.inbound.values())]:
        found |= url_secrets(url)
    return {s for s in found if isinstance(s, str) and len(s) >= 4 and "{" not in s}


def _describe_sut(sut: Any, read: str) -> dict[str, Any]:
    """What the declaration says, as names and flags: no header value, no URL beyond the base URL's host."""
    from conformance.sut.declaration import ROLES

    spec = ROLES.get(sut.role, ROLES["cpo"])
    triggers = list(spec["placeholders"])
    probes = list(spec["probes"])
    header_names = sorted(
        {*sut.headers, *(name for route in sut.inbound.values() for name in route.headers)}, key=str.lower
    )
    described: dict[str, Any] = {
        "name": sut.name,
        "declaration": sut.source,
        "declaration_read": read,
        "role": sut.role,
        "release": sut.release,
        "base_url": _safe_url(sut.base_url),
        "mode": sut.mode if sut.role == "emp" else None,
        "operator_id": sut.operator_id,
        "provider_id": sut.provider_id,
        "evse_ids": len(sut.evse_ids),
        "sub_operators": list(sut.sub_operators),
        "features": sorted(sut.features),
        "features_not_declared": [f for f in spec["features"] if f not in sut.features],
        "triggers": {name: ("command" if t.command else "http") for name, t in sorted(sut.triggers.items())},
        "triggers_not_declared": [t for t in triggers if t not in sut.triggers],
        "probes": sorted(sut.probes),
        "probes_not_declared": [p for p in probes if p not in sut.probes],
        "inbound_routes": sorted(sut.inbound),
        "headers": {name: _REDACTED for name in header_names},
        "tls": {
            "verify": sut.tls_verify,
            "ca_file": bool(sut.tls_ca_file),
            "client_certificate": bool(sut.tls_cert_file),
        },
    }
    if sut.role == "emp":
        ids = sut.identifications
        described["identifications"] = {
            "rfid": len(ids.get("rfid", [])),
            "evco_ids": len(ids.get("evco_ids", [])),
            "evco_pins": len(ids.get("evco_pins", [])),
        }
    return described


def describe_declaration(
    role: str, sut: Path | None = None, shape: str | None = None, mode: str | None = None
) -> tuple[dict[str, Any] | None, set[str]]:
    """The declaration a run used, described without secrets, and the secret values to scrub from evidence.

    A user's declaration is read from its file; the bundled reference's is the embedded one of its shape."""
    from conformance.sut import ConfigError, load, parse

    try:
        if sut is not None:
            loaded = load(sut)
        elif role == "emp":
            from conformance.sut.default import reference_emp_declaration

            text = reference_emp_declaration("http://127.0.0.1:1", 0, mode or "online", shape=shape or "official")
            loaded = parse(tomllib.loads(text), f"(bundled reference EMP, {mode or 'online'})")
        else:
            from conformance.sut.default import reference_declaration

            text = reference_declaration("http://127.0.0.1:1", 0, shape=shape or "official")
            loaded = parse(tomllib.loads(text), f"(bundled reference CPO, shape {shape or 'official'})")
    except (ConfigError, KeyError, OSError, ValueError) as exc:
        return {"declaration_read": f"could not be read: {exc}"}, set()
    described = _describe_sut(loaded, "at run time" if sut is not None else "the bundled reference's own")
    if sut is None:
        described["base_url"] = None  # the reference's port is the run's, from summary.json
        described["shape"] = shape or "official"
    return described, _secrets_of(loaded)


def _declaration_for_rebuild(summary: dict[str, Any], folder: Path) -> tuple[dict[str, Any] | None, set[str]]:
    """For `report`: the declaration as the run recorded it, else as its file or the reference says now."""
    previous = _load_json(folder / JSON_NAME)
    before = previous.get("sut") if isinstance(previous, dict) else None
    recorded = before.get("declaration_summary") if isinstance(before, dict) else None
    sut = summary.get("sut") if isinstance(summary.get("sut"), dict) else {}
    source = str(sut.get("declaration") or "")
    secrets: set[str] = set()
    if source and not source.startswith("(") and Path(source).is_file():
        described, secrets = describe_declaration(str(summary.get("role") or "cpo"), Path(source))
        if recorded is None and described is not None:
            if "name" in described:  # read now, not at run time: say so
                described["declaration_read"] = "when this report was built (the file may have changed since the run)"
            recorded = described
    elif recorded is None and (match := _BUNDLED.match(source)):
        role, what = match.group(1).lower(), match.group(2)
        shape, mode = (what, None) if role == "cpo" else (None, what)
        recorded, secrets = describe_declaration(role, None, shape, mode)
    return (recorded if isinstance(recorded, dict) else None), secrets


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# --- the spec: quotes, service versions, errata ----------------------------------------------------------


def _requirement_catalogue() -> dict[str, Any]:
    from conformance.suites.emp_requirements import EMP
    from conformance.suites.requirements import CPO

    return {**CPO, **EMP}


def _errata(release: str) -> dict[str, Any]:
    from conformance.build.errata import ErrataError, load_errata
    from conformance.paths import schemas_dir

    try:
        found = [e for e in load_errata(schemas_dir() / "errata.toml") if release in e.releases]
    except (OSError, ErrataError, ValueError) as exc:
        return {"count": None, "ids": [], "note": f"the errata registry could not be read: {exc}"}
    return {"count": len(found), "ids": [e.id for e in found], "note": "oicp-conformance errata --release " + release}


def _catalogue_role(role: str, declaration: dict[str, Any] | None) -> str:
    if role != "emp":
        return "cpo"
    mode = (declaration or {}).get("mode")
    return f"emp_{mode}" if mode in ("online", "offline") else "emp"


# --- coverage: which operations the tests exercised --------------------------------------------------------


@cache
def _module_constants(path: Path, follow: bool = True) -> dict[str, str]:
    """Module-level string constants of a suite module; with `follow`, names it imports from the suites too."""
    if not path.is_file():
        return {}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in tree.body:
        if follow and isinstance(node, ast.ImportFrom) and (node.module or "").startswith("conformance.suites."):
            source = _PACKAGE.parent.joinpath(*str(node.module).split(".")).with_suffix(".py")
            imported = _module_constants(source, False)  # one level: where the operation names are defined
            found |= {a.asname or a.name: imported[a.name] for a in node.names if a.name in imported}
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names = target.elts if isinstance(target, ast.Tuple) else [target]
                values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                for name, value in zip(names, values, strict=False):
                    if isinstance(name, ast.Name) and isinstance(value, ast.Constant) and isinstance(value.value, str):
                        found[name.id] = value.value
    return found


@cache
def operations_of_tests(role: str) -> dict[str, str]:
    """Suite test function -> the catalogue operation its `operation` marker names, read from the source.

    Read, not imported: importing the suite's test modules here would put them, un-rewritten, into the
    modules a forked run inherits."""
    folder = _PACKAGE / "suites" / role
    found: dict[str, str] = {}
    for path in sorted(folder.glob("test_*.py")):
        try:
            constants = _module_constants(path)
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
                continue
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr == "operation"
                    and decorator.args
                ):
                    arg = decorator.args[0]
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found[node.name] = arg.value
                    elif isinstance(arg, ast.Name) and arg.id in constants:
                        found[node.name] = constants[arg.id]
    return found


def _allure_outcomes(results: Path, role: str) -> dict[str, str] | None:
    """Test name -> Allure status of the suite's own results (not the per-requirement ones), if there are any."""
    if not results.is_dir():
        return None
    found: dict[str, str] = {}
    for path in results.glob("*-result.json"):
        data = _load_json(path)
        if not isinstance(data, dict) or str(data.get("fullName", "")).startswith(f"{role.upper()}.requirements."):
            continue
        if isinstance(data.get("name"), str):
            found[data["name"]] = str(data.get("status", "unknown"))
    return found or None


def _worst(statuses: list[str]) -> str | None:
    return next((s for s in STATUSES if s in statuses), None)


def coverage(summary: dict[str, Any], role: str, declaration: dict[str, Any] | None, folder: Path) -> dict[str, Any]:
    """Per operation of the role: the test cases that exercised it and the verdicts of what they judged."""
    release = str(summary.get("release") or (declaration or {}).get("release") or "2.3")
    marked = operations_of_tests(role)
    rows = _rows(summary)
    tests: list[str] = list(dict.fromkeys(t for r in rows for t in r.get("tests") or []))
    allure = _allure_outcomes(folder / "allure-results", role)
    per_test_requirements: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        for test in row.get("tests") or []:
            per_test_requirements.setdefault(test, []).append(row)
    notes = [
        "A test case counts under the one operation its `operation` marker names; flow tests also pass through "
        "other operations (e.g. a session through AuthorizeStop and the CDR), which are not counted here.",
        "Cases are the suite's test cases that judged a requirement; a property-based case sends several generated "
        "messages, whose number summary.json does not record.",
        "Calls per operation are not recorded in summary.json: only the total of requests the suite sent to the SUT.",
    ]
    try:
        operations = load_release(release).for_role(_catalogue_role(role, declaration))
    except (KeyError, OSError, ValueError) as exc:
        operations = []
        notes.append(f"the operation catalogue of OICP {release} could not be read: {exc}")
    need_role = _catalogue_role(role, declaration)
    out = []
    for op in operations:
        mine = [t for t in tests if marked.get(t.split("[", 1)[0]) == op.id]
        judged = list(dict.fromkeys(r["id"] for t in mine for r in per_test_requirements.get(t, []) if "id" in r))
        statuses = [r.get("status", "") for t in mine for r in per_test_requirements.get(t, [])]
        tally: dict[str, int] = {}
        for test in mine:
            if allure is not None:
                outcome = allure.get(test, "unknown")
            else:
                outcome = _worst([r.get("status", "") for r in per_test_requirements.get(test, [])]) or "unknown"
            tally[outcome] = tally.get(outcome, 0) + 1
        out.append(
            {
                "id": op.id,
                "name": op.name,
                "direction": f"{op.called_by} -> {op.served_by}",
                "service": op.service,
                "version": op.version,
                "path": f"{op.method} {op.path}",
                "need": op.need(need_role),
                "exercised": bool(mine),
                "cases": len(mine),
                "calls": None,
                "tests": mine,
                "case_outcomes": tally,
                "requirements": judged,
                "worst_requirement_status": _worst(statuses),
            }
        )
    known = {op.id for op in operations}
    unmarked = [t for t in tests if marked.get(t.split("[", 1)[0]) not in known]
    inbound = summary.get("inbound") if isinstance(summary.get("inbound"), dict) else {}
    return {
        "release": release,
        "catalogue_role": need_role,
        "case_outcomes_from": "allure-results (test outcomes)"
        if allure is not None
        else "summary.json (the worst verdict of the requirements each case judged)",
        "operations": out,
        "exercised": sum(o["exercised"] for o in out),
        "total": len(out),
        "cases": len(tests),
        "other_cases": unmarked,
        "requests_sent_to_sut": inbound.get("requests"),
        "notes": notes,
    }


# --- the report ------------------------------------------------------------------------------------------


def _requirement_rows(summary: dict[str, Any], declaration: dict[str, Any] | None) -> list[dict[str, Any]]:
    catalogue = _requirement_catalogue()
    features = set((declaration or {}).get("features") or [])
    known_features = declaration is not None and "features" in declaration
    out = []
    for row in _rows(summary):
        spec = catalogue.get(str(row.get("id")))
        feature = row.get("feature")
        out.append(
            {
                "id": row.get("id"),
                "title": row.get("title", ""),
                "strength": row.get("strength", ""),
                "quote": spec.quote if spec else "",
                "chapter": spec.chapter if spec else "",
                "section": spec.section if spec else "",
                "place": (spec.place if spec else "") or "",
                "basis": (spec.basis if spec else "") or "",
                "source": row.get("source", ""),
                "feature": feature,
                "feature_declared": (feature in features) if feature and known_features else None,
                "expected": row.get("expected"),
                "status": row.get("status", "unknown"),
                "reason": row.get("reason") or "",
                "declare": row.get("declare"),
                "tests": list(row.get("tests") or []),
            }
        )
    return out


def _evidence(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Every failure and warning with its evidence; a failed row without one still says why."""
    out = []
    for row in _rows(summary):
        if row.get("status") not in ("fail", "warn"):
            continue
        failures = [f for f in row.get("failures") or [] if isinstance(f, dict)]
        if not failures:
            failures = [{"title": row.get("reason") or "failed (no evidence recorded)", "body": "", "reproduce": ""}]
        for failure in failures:
            out.append(
                {
                    "requirement": row.get("id"),
                    "strength": row.get("strength", ""),
                    "status": row.get("status"),
                    "title": failure.get("title", ""),
                    "body": failure.get("body", ""),
                    "reproduce": failure.get("reproduce", ""),
                }
            )
    return sorted(out, key=lambda e: e["status"] != "fail")  # failures first, each kind in table order


def _repeat(role: str, summary: dict[str, Any], sut: Path | None, options: dict[str, Any]) -> str:
    parts = ["oicp-conformance", "run", "--role", role]
    if sut is not None:
        parts += ["--sut", str(sut)]
    else:
        for flag in ("mode", "shape"):
            if options.get(flag):
                parts += [f"--{flag}", str(options[flag])]
        for defect in options.get("defects") or []:
            parts += ["--defect", defect]
    if summary.get("seed") is not None:
        parts += ["--seed", str(summary["seed"])]
    if summary.get("strict"):
        parts.append("--strict")
    for requirement in options.get("requirements") or []:
        parts += ["--requirement", requirement]
    if options.get("keyword"):
        parts += ["-k", str(options["keyword"])]
    return shlex.join(parts)


def build(
    summary: dict[str, Any],
    folder: Path,
    *,
    declaration: dict[str, Any] | None = None,
    repeat: str | None = None,
) -> dict[str, Any]:
    """The compliance report of a run, as compliance.json stores it (secrets not yet scrubbed)."""
    catalogue = _requirement_catalogue()
    role = str(summary.get("role") or (declaration or {}).get("role") or folder.name or "cpo").lower()
    if role not in ("cpo", "emp"):
        role = "cpo"
    release = str(summary.get("release") or (declaration or {}).get("release") or "2.3")
    rows = _rows(summary)
    counts = {status: sum(r.get("status") == status for r in rows) for status in STATUSES}
    evidence = _evidence(summary)
    of_role = sum(1 for rid in catalogue if rid.startswith(f"{role.upper()}-"))
    sut = summary.get("sut") if isinstance(summary.get("sut"), dict) else {}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "role": role,
        "verdict": shown_verdict(summary),
        "counts": {
            "requirements": len(rows),
            **counts,
            "failure_evidence": sum(e["status"] == "fail" for e in evidence),
            "warning_evidence": sum(e["status"] == "warn" for e in evidence),
        },
        "scope": {
            "judged": len(rows),
            "of_role": of_role,
            "partial": len(rows) < of_role,
            "note": "" if len(rows) >= of_role else "a narrowed run (--requirement or -k): it reports only what it ran",
        },
        "sut": {
            "name": sut.get("name") or (declaration or {}).get("name"),
            "base_url": _safe_url(str(sut["base_url"])) if sut.get("base_url") else None,
            "declaration": sut.get("declaration"),
            "role": role,
            "declaration_summary": declaration,
        },
        "spec": {
            "release": release,
            "service_versions": releases().get(release, {}),
            "schema_profile": SCHEMA_PROFILE,
            "schema_profile_note": "the official OICP definitions with the project's errata applied",
            "errata": _errata(release),
        },
        "run": {
            "tool": summary.get("tool", "oicp-conformance"),
            "tool_version": summary.get("tool_version"),
            "seed": summary.get("seed"),
            "started": summary.get("started"),
            "duration_s": summary.get("duration_s"),
            "strict": bool(summary.get("strict")),
            "repeat": repeat,
            "reason": summary.get("reason"),
        },
        "configuration_problems": [str(p) for p in summary.get("configuration_problems") or []],
        "broken_checks": [
            {"requirement": r.get("id"), "reason": r.get("reason", ""), "tests": r.get("tests") or []}
            for r in rows
            if r.get("status") == "error"
        ],
        "evidence": evidence,
        "requirements": _requirement_rows(summary, declaration),
        "coverage": coverage(summary, role, declaration, folder),
    }


def scrub(value: Any, secrets: set[str]) -> Any:
    """`value` with every secret replaced by <redacted>, however deep it sits."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in sorted(secrets, key=len, reverse=True):
            value = value.replace(secret, _REDACTED)
        return value
    if isinstance(value, dict):
        return {scrub(k, secrets): scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, secrets) for v in value]
    return value


def write(report: dict[str, Any], folder: Path, secrets: set[str] = frozenset()) -> tuple[Path, Path]:
    """compliance.json and compliance.html into `folder`; returns their paths."""
    from conformance.reports.compliance_html import render

    clean = current().json(scrub(report, set(secrets)))  # and PINs, credentials, keys (conformance.redact)
    json_path, html_path = folder / JSON_NAME, folder / HTML_NAME
    json_path.write_text(json.dumps(clean, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    html_path.write_text(render(clean), encoding="utf-8")
    return json_path, html_path


def run_options(args: list[str]) -> dict[str, Any]:
    """What a run was asked for, read back from the pytest arguments the runner built (runner.pytest_args)."""
    options: dict[str, Any] = {"sut": None, "shape": None, "mode": None, "defects": [], "requirements": []}
    single = {"--oicp-sut=": "sut", "--oicp-reference-shape=": "shape", "--oicp-mode=": "mode"}
    many = {"--oicp-reference-defect=": "defects", "--oicp-requirement=": "requirements"}
    for index, arg in enumerate(args):
        for prefix, key in single.items():
            if arg.startswith(prefix):
                options[key] = arg[len(prefix) :]
        for prefix, key in many.items():
            if arg.startswith(prefix):
                options[key].append(arg[len(prefix) :])
        if arg == "-k" and index + 1 < len(args):
            options["keyword"] = args[index + 1]
    return options


def write_run_report(summary: dict[str, Any], folder: Path, role: str, args: list[str]) -> None:
    """What the runner calls after each run, with the pytest arguments it built.

    A report that cannot be built never costs the run its summary: one line on stderr instead."""
    try:
        options = run_options(args)
        sut = Path(options["sut"]) if options["sut"] else None
        declaration, secrets = describe_declaration(role, sut, options["shape"], options["mode"])
        repeat = _repeat(role, summary, sut, options)
        write(build(summary, folder, declaration=declaration, repeat=repeat), folder, secrets)
    except Exception as exc:  # the run's own reports are written; this one is extra
        print(f"oicp-conformance: the compliance report could not be written: {exc}", file=sys.stderr)


def rebuild(folder: Path, summary: dict[str, Any]) -> tuple[Path, Path]:
    """For `oicp-conformance report`: the report again from a run's folder (its summary.json)."""
    declaration, secrets = _declaration_for_rebuild(summary, folder)
    previous = _load_json(folder / JSON_NAME)
    run = previous.get("run") if isinstance(previous, dict) else None
    repeat = run.get("repeat") if isinstance(run, dict) else None
    source = str((summary.get("sut") or {}).get("declaration") or "")
    if repeat is None and source and not source.startswith("(") and Path(source).is_file():
        # a user's declaration says all there is to repeat; a bundled reference's planted defects are not recorded
        repeat = _repeat(str(summary.get("role") or "cpo"), summary, Path(source), {})
    report = build(summary, folder, declaration=declaration, repeat=repeat)
    return write(report, folder, secrets)
