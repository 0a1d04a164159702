"""compliance.html: the compliance report as one self-contained page, readable on screen and on paper.

No script, no network, no external asset: inline CSS only, with print rules. Every value shown passes through
`html.escape`, since evidence carries whatever the SUT answered. Order is the reader's: the verdict, then the
failures with their evidence, then every requirement, then coverage and how the run was set up."""

from __future__ import annotations

from html import escape
from typing import Any

CSS = """
:root { --pass: #1b7f3b; --warn: #a86200; --fail: #b3261e; --muted: #5f6368; --line: #d7dbe0; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1f2328; margin: 0; background: #fff; }
main, header.banner > div { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header.banner { padding: 22px 0 18px; color: #fff; background: var(--muted); }
header.banner.v-pass { background: var(--pass); }
header.banner.v-pass-with-warnings { background: #4d7a1f; }
header.banner.v-fail { background: var(--fail); }
header.banner.v-incomplete { background: #6b4fa0; }
header.banner.v-configuration-problem { background: #8a5a00; }
.kicker { margin: 0; font-size: 13px; letter-spacing: .04em; text-transform: uppercase; opacity: .9; }
h1 { margin: 4px 0 6px; font-size: 30px; }
.banner p { margin: 4px 0; }
.counts { display: flex; flex-wrap: wrap; gap: 8px; padding: 0; margin: 10px 0 0; list-style: none; }
.counts li { background: rgba(255,255,255,.18); border-radius: 4px; padding: 2px 10px; }
h2 { margin: 30px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); font-size: 21px; }
h3 { margin: 0 0 6px; font-size: 16px; }
h4 { margin: 10px 0 4px; font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.finding { border: 1px solid var(--line); border-left: 6px solid var(--fail); border-radius: 4px;
  padding: 12px 14px; margin: 0 0 14px; }
.finding.warn { border-left-color: var(--warn); }
pre { margin: 0; padding: 8px 10px; background: #f6f8fa; border: 1px solid var(--line); border-radius: 4px;
  font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap;
  overflow-wrap: anywhere; }
blockquote { margin: 4px 0; padding: 2px 10px; border-left: 3px solid var(--line); color: #333; }
.place, .muted { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
th { background: #f0f2f5; position: sticky; top: 0; }
td.id { white-space: nowrap; font-weight: 600; }
td { overflow-wrap: anywhere; }
#requirements td:nth-child(2) { width: 34%; }
#requirements td:nth-child(7) { width: 20%; }
.status { display: inline-block; min-width: 76px; text-align: center; padding: 1px 6px; border-radius: 3px;
  font-size: 12px; font-weight: 700; text-transform: uppercase; color: #fff; background: var(--muted); }
.s-pass { background: var(--pass); } .s-fail { background: var(--fail); } .s-warn { background: var(--warn); }
.s-error { background: #7a1f5c; } .s-not-judged { background: #6b4fa0; } .s-n-a { background: #9aa0a6; }
.s-passed { background: var(--pass); } .s-failed { background: var(--fail); } .s-broken { background: #7a1f5c; }
.s-skipped { background: #9aa0a6; } .s-unknown { background: #9aa0a6; }
dl.details { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
dl.details dt { font-weight: 600; } dl.details dd { margin: 0; }
ul.plain { margin: 4px 0; padding-left: 18px; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
footer { max-width: 1180px; margin: 30px auto; padding: 0 24px; color: var(--muted); font-size: 12px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 10pt; }
  header.banner, .status { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  main, header.banner > div { max-width: none; padding: 0; }
  header.banner { padding: 10px 12px; }
  th { position: static; }
  .finding, tr, dl.details { break-inside: avoid; }
  h2 { break-after: avoid; }
  pre { font-size: 8.5pt; }
}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _yes(value: Any) -> str:
    return "yes" if value else "no"


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower())


def _status(status: Any) -> str:
    text = str(status or "unknown")
    return f'<span class="status s-{_e(_slug(text))}">{_e(text)}</span>'


def _list(items: list[Any], empty: str = "none") -> str:
    return ", ".join(f"<code>{_e(i)}</code>" for i in items) if items else f'<span class="muted">{_e(empty)}</span>'


def _banner(report: dict[str, Any]) -> str:
    verdict, counts, sut, run = report["verdict"], report["counts"], report["sut"], report["run"]
    spec, scope = report["spec"], report["scope"]
    shown = [f"<li>{counts.get(s, 0)} {_e(s)}</li>" for s in ("pass", "fail", "warn", "error", "not judged", "n/a")]
    partial = (
        f"<p><strong>Partial run:</strong> {scope['judged']} of the role's {scope['of_role']} requirements "
        f"({_e(scope['note'])}).</p>"
        if scope.get("partial")
        else ""
    )
    where = f" at {_e(sut['base_url'])}" if sut.get("base_url") else ""
    return f"""<header class="banner v-{_e(_slug(verdict["key"]))}" id="verdict" data-verdict="{_e(verdict["key"])}">
<div>
<p class="kicker">OICP {_e(spec["release"])} {_e(str(sut["role"]).upper())} conformance · compliance report</p>
<h1>Verdict: {_e(verdict["label"])}</h1>
<p>{_e(verdict["explanation"])}</p>
{partial}<p>SUT: <strong>{_e(sut.get("name") or "unnamed")}</strong>{where}
 · started {_e(run.get("started"))} · {_e(run.get("duration_s"))} s · seed {_e(run.get("seed"))}</p>
<ul class="counts"><li>{counts["requirements"]} requirements</li>{"".join(shown)}</ul>
</div>
</header>"""


def _findings(report: dict[str, Any]) -> str:
    requirements = {r["id"]: r for r in report["requirements"]}
    seed = report["run"].get("seed")
    parts = []
    evidence = report["evidence"]
    fails = sum(e["status"] == "fail" for e in evidence)
    heading = f"Failures and warnings ({fails} failure(s), {len(evidence) - fails} warning(s))"
    parts.append(f'<section id="failures"><h2>{_e(heading)}</h2>')
    for problem in report["configuration_problems"]:
        parts.append(f'<article class="finding"><h3>Configuration problem</h3><pre>{_e(problem)}</pre></article>')
    for broken in report["broken_checks"]:
        parts.append(
            f'<article class="finding"><h3>{_e(broken["requirement"])}: a check broke (not judged)</h3>'
            f"<pre>{_e(broken['reason'])}</pre><p class='muted'>tests: {_list(broken['tests'])}</p></article>"
        )
    if report["run"].get("reason") and report["verdict"]["run_verdict"] in ("interrupted", "aborted", "deadline"):
        reason = _e(report["run"]["reason"])
        parts.append(f'<article class="finding"><h3>The run did not finish</h3><pre>{reason}</pre></article>')
    if not evidence:
        parts.append("<p>No requirement failed and none gave a warning.</p>")
    for item in evidence:
        spec = requirements.get(item["requirement"], {})
        quote = (
            f"<blockquote>{_e(spec['quote'])}</blockquote><p class='place'>{_e(spec.get('place'))}</p>"
            if spec.get("quote")
            else f"<p class='place'>{_e(spec.get('source') or spec.get('basis'))}</p>"
        )
        kind = "warn" if item["status"] == "warn" else "fail"
        parts.append(
            f'<article class="finding {kind}" id="finding-{_e(item["requirement"])}">'
            f"<h3>{_status(item['status'])} {_e(item['requirement'])} ({_e(item['strength'])}): "
            f"{_e(item['title'])}</h3>"
            f"<p>{_e(spec.get('title'))}</p>{quote}"
            + (f"<h4>Evidence</h4><pre>{_e(item['body'])}</pre>" if item.get("body") else "")
            + (f"<h4>Reproduce</h4><pre>{_e(item['reproduce'])}</pre>" if item.get("reproduce") else "")
            + (f"<p class='muted'>seed {_e(seed)}</p>" if seed is not None else "")
            + "</article>"
        )
    parts.append("</section>")
    return "\n".join(parts)


def _feature(row: dict[str, Any]) -> str:
    if not row.get("feature"):
        return '<span class="muted">mandatory operation</span>'
    declared = row.get("feature_declared")
    state = "declared" if declared else "not declared" if declared is False else "declaration unknown"
    return f"<code>{_e(row['feature'])}</code><br><span class='muted'>{_e(state)}</span>"


def _requirements(report: dict[str, Any]) -> str:
    rows = []
    for row in report["requirements"]:
        if row.get("quote"):
            source = f"<blockquote>{_e(row['quote'])}</blockquote><span class='place'>{_e(row.get('place'))}</span>"
        else:
            source = f"<span class='place'>{_e(row.get('source') or ('practice: ' + str(row.get('basis'))))}</span>"
        reason = ""
        if row["status"] != "pass" and row.get("reason"):
            reason = _e(row["reason"])
            if row.get("declare"):
                reason += f"<br><span class='muted'>declare {_e(row['declare'])} to judge it</span>"
        must = "" if row.get("expected") in (True, None) else "<br><span class='muted'>not required of this SUT</span>"
        rows.append(
            f"<tr id='req-{_e(row['id'])}'><td class='id'>{_e(row['id'])}</td>"
            f"<td><strong>{_e(row['title'])}</strong>{source}</td>"
            f"<td>{_e(row['strength'])}</td><td>{_feature(row)}{must}</td><td>{_status(row['status'])}</td>"
            f"<td>{_list(row['tests'], 'no check')}</td><td>{reason}</td></tr>"
        )
    return (
        f'<section id="requirements"><h2>Requirements ({len(rows)})</h2>'
        "<table><thead><tr><th>ID</th><th>Requirement and the sentence it rests on</th><th>Strength</th>"
        "<th>Feature</th><th>Verdict</th><th>Checks</th><th>Reason (when not judged or not held)</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _coverage(report: dict[str, Any]) -> str:
    cov = report["coverage"]
    rows = []
    for op in cov["operations"]:
        outcomes = ", ".join(f"{n} {_e(k)}" for k, n in sorted(op["case_outcomes"].items())) or "—"
        rows.append(
            f"<tr><td class='id'>{_e(op['id'])}</td><td>{_e(op['direction'])}</td>"
            f"<td><code>{_e(op['service'])} {_e(op['version'])}</code><br>"
            f"<span class='muted'>{_e(op['path'])}</span></td>"
            f"<td>{_e(op['need'])}</td><td>{'yes' if op['exercised'] else '<strong>no</strong>'}</td>"
            f"<td>{op['cases']}</td><td>{outcomes}</td><td>{_list(op['requirements'], '—')}</td></tr>"
        )
    requests = cov.get("requests_sent_to_sut")
    notes = "".join(f"<li>{_e(n)}</li>" for n in cov["notes"])
    other = (
        f"<p>Cases marked with no operation of this role: {_list(cov['other_cases'])}</p>" if cov["other_cases"] else ""
    )
    return (
        f'<section id="coverage"><h2>Coverage: {cov["exercised"]} of {cov["total"]} operations of the role '
        f"exercised, {cov['cases']} test case(s)</h2>"
        f"<p class='muted'>OICP {_e(cov['release'])}, operations of <code>{_e(cov['catalogue_role'])}</code> "
        f"in the catalogue. Case outcomes from {_e(cov['case_outcomes_from'])}. Requests the suite sent to the SUT "
        f"(all operations): {_e(requests if requests is not None else 'not recorded')}; calls per operation: not "
        "recorded.</p>"
        "<table><thead><tr><th>Operation</th><th>Calls → serves</th><th>Service version and path</th>"
        "<th>Need</th><th>Exercised</th><th>Cases</th><th>Case outcomes</th><th>Requirements judged</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{other}<ul class='plain muted'>{notes}</ul></section>"
    )


def _declaration(decl: dict[str, Any] | None) -> str:
    if not decl:
        return "<dt>Declaration</dt><dd class='muted'>not recorded</dd>"
    if "name" not in decl:
        return f"<dt>Declaration</dt><dd class='muted'>{_e(decl.get('declaration_read'))}</dd>"
    triggers = [f"{name} ({kind})" for name, kind in decl.get("triggers", {}).items()]
    headers = [f"{name}: {value}" for name, value in decl.get("headers", {}).items()]
    tls = decl.get("tls", {})
    items = [
        ("Declaration read", decl.get("declaration_read")),
        ("Mode", decl.get("mode")) if decl.get("mode") else None,
        ("Shape", decl.get("shape")) if decl.get("shape") else None,
        ("OperatorID", decl.get("operator_id")),
        ("ProviderID", decl.get("provider_id")),
        ("EVSEs declared", decl.get("evse_ids")),
    ]
    html = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in (i for i in items if i))
    html += f"<dt>Features declared</dt><dd>{_list(decl.get('features', []))}</dd>"
    html += f"<dt>Features not declared</dt><dd>{_list(decl.get('features_not_declared', []))}</dd>"
    html += f"<dt>Triggers declared</dt><dd>{_list(triggers)}</dd>"
    html += f"<dt>Triggers not declared</dt><dd>{_list(decl.get('triggers_not_declared', []))}</dd>"
    html += f"<dt>Probes declared</dt><dd>{_list(decl.get('probes', []))}</dd>"
    html += f"<dt>Probes not declared</dt><dd>{_list(decl.get('probes_not_declared', []))}</dd>"
    routes = _list(decl.get("inbound_routes", []), "the OICP paths under the base URL")
    html += f"<dt>Inbound routes</dt><dd>{routes}</dd>"
    html += f"<dt>Headers (values redacted)</dt><dd>{_list(headers)}</dd>"
    html += (
        f"<dt>TLS</dt><dd>verify certificates: {_yes(tls.get('verify'))}, own CA: {_yes(tls.get('ca_file'))}, "
        f"client certificate: {_yes(tls.get('client_certificate'))}</dd>"
    )
    if "identifications" in decl:
        ids = decl["identifications"]
        html += (
            f"<dt>Customers declared</dt><dd>{_e(ids.get('rfid'))} RFID, {_e(ids.get('evco_ids'))} EvcoID, "
            f"{_e(ids.get('evco_pins'))} EvcoID+PIN (values not shown)</dd>"
        )
    return html


def _details(report: dict[str, Any]) -> str:
    sut, spec, run = report["sut"], report["spec"], report["run"]
    errata = spec["errata"]
    services = ", ".join(f"{s} {'/'.join(v)}" for s, v in spec["service_versions"].items()) or "unknown"
    rows = [
        ("SUT", sut.get("name")),
        ("Role", str(sut.get("role")).upper()),
        ("Base URL", sut.get("base_url")),
        ("Declaration", sut.get("declaration")),
    ]
    html = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows)
    html += _declaration(sut.get("declaration_summary"))
    more = [
        ("OICP release", spec["release"]),
        ("Service versions of the release", services),
        ("Schema profile", f"{spec['schema_profile']} ({spec['schema_profile_note']})"),
        ("Errata", f"{errata.get('count')} for this release ({errata.get('note')})"),
        ("Tool", f"{run.get('tool')} {run.get('tool_version')}"),
        ("Seed", run.get("seed")),
        ("Started", run.get("started")),
        ("Duration", f"{run.get('duration_s')} s"),
        ("Strict", "yes: SHOULD and PRACTICE failures fail the run" if run.get("strict") else "no"),
        ("Run verdict (summary.json)", report["verdict"]["run_verdict"]),
        ("Report generated", report.get("generated")),
    ]
    html += "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in more)
    if run.get("repeat"):
        html += f"<dt>Repeat this run</dt><dd><pre>{_e(run['repeat'])}</pre></dd>"
    return f'<section id="run"><h2>Run details</h2><dl class="details">{html}</dl></section>'


def render(report: dict[str, Any]) -> str:
    """The whole page; `report` is compliance.json's content."""
    sut = report["sut"]
    title = f"OICP {str(sut.get('role')).upper()} compliance: {sut.get('name') or 'SUT'} — {report['verdict']['label']}"
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{_banner(report)}\n<main>\n{_findings(report)}\n{_requirements(report)}\n{_coverage(report)}\n"
        f"{_details(report)}\n</main>\n<footer>Written by {_e(report['run'].get('tool'))} "
        f"{_e(report['run'].get('tool_version'))}. compliance.json beside this page holds the same data; "
        "summary.json, junit.xml and allure-results hold the run's own records.</footer>\n</body>\n</html>\n"
    )
