"""JUnit XML per requirement, from a run's summary: what CI shows agrees with the terminal table.

Each requirement is one test case named by its ID and title: a failure for `fail`, an error for `error`,
a skip with its reason for `not judged` and `n/a`, and warnings kept as readable text in system-out."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from conformance.checks.failure import Failure


def _failure_text(row: dict[str, Any], seed: Any) -> str:
    return "\n\n".join(Failure(**f).render(seed) for f in row.get("failures", []))


def write_junit(summary: dict[str, Any], path: Path) -> None:
    role = (summary.get("role") or "oicp").upper()
    rows = summary.get("requirements", [])
    seed = summary.get("seed")
    suite = ET.Element(
        "testsuite",
        name=f"OICP {summary.get('release') or ''} {role} conformance".replace("  ", " "),
        tests=str(len(rows)),
        failures=str(sum(r["status"] == "fail" for r in rows)),
        errors=str(sum(r["status"] == "error" for r in rows)),
        skipped=str(sum(r["status"] in ("not judged", "n/a") for r in rows)),
        time=str(summary.get("duration_s", 0)),
        timestamp=str(summary.get("started", "")),
    )
    properties = ET.SubElement(suite, "properties")
    for name in ("verdict", "seed", "tool_version", "release", "strict"):
        ET.SubElement(properties, "property", name=name, value=str(summary.get(name)))
    for row in rows:
        case = ET.SubElement(
            suite, "testcase", classname=f"{role}.{row['strength']}", name=f"{row['id']} {row['title']}"
        )
        status = row["status"]
        if status == "fail":
            node = ET.SubElement(case, "failure", message=(row["failures"] or [{"title": row["reason"]}])[0]["title"])
            node.text = _failure_text(row, seed)
        elif status == "error":
            ET.SubElement(case, "error", message=row.get("reason") or "the check broke").text = row.get("reason")
        elif status in ("not judged", "n/a"):
            reason = row.get("reason") or "not judged"
            if row.get("declare"):
                reason += f" (declare {row['declare']} to judge it)"
            ET.SubElement(case, "skipped", message=f"{status}: {reason}")
        elif status == "warn":
            ET.SubElement(case, "system-out").text = "warning (does not fail the run):\n\n" + _failure_text(row, seed)
    if summary.get("reason"):
        ET.SubElement(suite, "system-err").text = str(summary["reason"])
    tree = ET.ElementTree(ET.Element("testsuites"))
    tree.getroot().append(suite)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
