"""The operation catalogue covers every official operation, with the roles the project assigns."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.build.catalog import _split
from conformance.catalog import load_release
from conformance.catalog.legs import STATUS_BY_REQUEST
from conformance.spec.openapi import read_openapi
from conformance.spec.swagger import read_swagger
from tests.helpers import cli


def _official_operations(spec: Path) -> list[tuple[str, str, str]]:
    """(release, normalised path, request message) of every operation the official files define."""
    out = []
    for side in ("cpo", "emp"):
        for op in read_openapi(spec / f"openapi-2.3-{side}", "2.3").operations:
            for request in op.requests:
                path = op.path
                if request in STATUS_BY_REQUEST and len(op.requests) > 1:
                    suffix = {
                        "eRoamingPullEVSEStatus": "",
                        "eRoamingPullEVSEStatusByID": "-by-id",
                        "eRoamingPullEVSEStatusByOperatorID": "-by-operator-id",
                    }[request]
                    path = f"{path}{suffix}"
                out.append(("2.3", path, request))
    for file in sorted((spec / "swagger-2.2").glob("*.json")):
        for op in read_swagger(file, "2.2").operations:
            out.extend(("2.2", op.path, request) for request in op.requests)
    return out


def test_every_official_operation_is_catalogued(spec_dir: Path) -> None:
    official = _official_operations(spec_dir)
    assert len(official) > 40
    for release, path, request in official:
        service, version, tail = _split(path)
        normalised = f"/{service}/{version}/{tail}"
        ops = [op for op in load_release(release).operations if op.path == normalised]
        assert ops, f"OICP {release} {path} missing from the catalogue"
        assert any(request in op.request for op in ops), f"OICP {release} {path}: request {request} not catalogued"


def test_forwarded_legs_and_obligations() -> None:
    rel = load_release("2.3")
    start = rel.operation("AuthorizeRemoteStart.cpo")
    assert (start.called_by, start.served_by, start.cpo) == ("hub", "cpo", "mandatory")
    assert start.path == "/charging/v21/providers/{providerID}/authorize-remote/start"
    stop = rel.operation("AuthorizeRemoteStop.hub")
    assert stop.path == "/charging/v21/providers/{providerID}/authorize-remote/stop"  # erratum E-A01
    cdr = rel.operation("ChargeDetailRecord.emp")
    assert (cdr.emp_online, cdr.emp_offline) == ("mandatory", "-")
    get_cdrs = rel.operation("GetChargeDetailRecords.hub")
    assert (get_cdrs.emp_online, get_cdrs.emp_offline) == ("optional", "mandatory")
    assert rel.operation("AuthorizeStop.hub").cpo == "optional"
    mandatory_cpo = {op.id for op in rel.operations if op.cpo == "mandatory"}
    assert mandatory_cpo == {
        "AuthorizeStart.hub",
        "AuthorizeRemoteStart.cpo",
        "AuthorizeRemoteStop.cpo",
        "ChargeDetailRecord.hub",
        "PushEvseData.hub",
        "PushEvseStatus.hub",
    }


def test_role_filter_keeps_what_the_role_serves_or_calls() -> None:
    rel = load_release("2.3")
    assert all("cpo" in (op.served_by, op.called_by) for op in rel.for_role("cpo"))
    assert {op.id for op in rel.for_role("emp")} >= {"PullEvseData.hub", "AuthorizeStart.emp"}
    offline = {op.id for op in rel.for_role("emp_offline")}
    assert "AuthorizeStart.emp" not in offline and "ChargeDetailRecord.emp" not in offline  # no endpoint
    assert "GetChargeDetailRecords.hub" in offline


@pytest.mark.parametrize("release", ["2.2", "2.3"])
def test_catalog_command_prints_a_table(release: str) -> None:
    done = cli("catalog", "--release", release, "--role", "cpo")
    assert done.returncode == 0, done.stderr
    assert f"OICP {release}:" in done.stdout
    assert "PushEvseData.hub" in done.stdout and "/charging/v21/operators/{operatorID}/authorize/start" in done.stdout
    assert "PullEvseData.hub" not in done.stdout


def test_catalog_command_rejects_unknown_release() -> None:
    done = cli("catalog", "--release", "9.9")
    assert done.returncode == 2
    assert "unknown OICP release '9.9'" in done.stderr and "Traceback" not in done.stderr
