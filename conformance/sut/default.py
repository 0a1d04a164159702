"""The embedded declaration of the bundled reference CPO: what `run --role cpo` uses without --sut, and what
`reference cpo --shape NAME --print-sut` prints. Each shape (conformance/reference/cpo/shapes.py) is described
as it serves: its inbound URLs, its trigger bodies, its optional features and its EVSEs."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path

from conformance.sut.declaration import Sut, parse

HEAD = """
name = "{name}"
role = "cpo"
release = "{release}"
base_url = "{base_url}"
operator_id = "{operator_id}"
evse_ids = {evse_ids}
out_of_service_evse = "{out_of_service}"
time_zone = "Europe/Berlin"
features = {features}
timeout = 12.0
{sub_operators}
[hub]
{hub_host}port = {hub_port}
prefix = "{hub_prefix}"
{hub_tls}
[outbound]
timeout = 2.0
max_retries = 4
retry_window = 12.0

[probes]
sessions = "{{base_url}}/_trigger/state-sessions"
cdrs = "{{base_url}}/_trigger/state-cdrs"
"""

# Declaration trigger -> the reference CPO's trigger path, its body (sync, relay and queue modes), and the
# optional feature it needs. In forward mode every body is the generated OICP message itself.
TRIGGERS = (
    ("push_evse_data", "push-evse-data", '{"action": "{action}", "evse_ids": {evse_ids}}', None),
    ("push_evse_status", "push-evse-status", '{"action": "{action}", "evse_ids": {evse_ids}}', None),
    ("authorize_start", "authorize-start", '{"identification": {identification}, "evse_id": "{evse_id}"}', None),
    ("authorize_stop", "authorize-stop", '{"session_id": "{session_id}"}', "authorize_stop"),
    ("end_session", "end-session", '{"session_id": "{session_id}"}', None),
    ("send_notification", "notify", '{"session_id": "{session_id}", "type": "{type}"}', "charging_notifications"),
    ("push_pricing", "push-pricing", '{"action": "{action}"}', "dynamic_pricing"),
    ("push_evse_pricing", "push-evse-pricing", '{"action": "{action}", "evse_ids": {evse_ids}}', "dynamic_pricing"),
)

# Inbound operation -> the reference CPO's `custom_urls` path, and the optional feature it needs.
CUSTOM_ROUTES = (
    ("remote_start", "remote-start", None),
    ("remote_stop", "remote-stop", None),
    ("reservation_start", "reservation-start", "reservation"),
    ("reservation_stop", "reservation-stop", "reservation"),
)

DEFAULT_API_KEY = "${OICP_REFERENCE_API_KEY}"


def reference_declaration(
    base_url: str,
    hub_port: int,
    release: str = "2.3",
    *,
    hub_prefix: str = "/api/oicp",
    custom_urls: bool = False,
    api_key: str | None = DEFAULT_API_KEY,
    shape: str = "official",
    api_key_header: bool | None = None,
    hub_host: str = "127.0.0.1",
    tls: str | None = None,
) -> str:
    """The reference CPO's declaration (TOML) as `reference cpo --shape SHAPE [--tls DIR]` serves.

    `custom_urls` describes it as `--custom-urls` serves (the shape may imply custom URLs too);
    `api_key` is what the declaration sends in X-Api-Key (a ${VAR} keeps the secret out of the file),
    declared when `api_key_header` is true; None (the default) declares it exactly when `custom_urls` is set,
    as the reference's custom-URL deployment always ran behind a key. `hub_host` is where the suite's fake hub
    listens. `tls`: the folder of `oicp-conformance certs` for mutual TLS (see `tls_sections`).
    Raises KeyError for an unknown shape."""
    from conformance.reference.cpo.shapes import SHAPES

    config = SHAPES[shape].build()
    custom = custom_urls or config.custom_urls
    on = [
        f
        for f in ("authorize_stop", "reservation", "charging_notifications", "dynamic_pricing")
        if f in config.features
    ]
    text = HEAD.format(
        name="bundled reference CPO" if shape == "official" else f"bundled reference CPO, shape {shape}",
        release=release,
        base_url=base_url,
        operator_id=config.operator_id,
        evse_ids=_array(config.all_evse_ids),
        out_of_service=config.out_of_service[0],
        features=_array(on),
        sub_operators=f"sub_operators = {_array([config.sub_operator])}\n" if config.sub_operator else "",
        hub_host="" if hub_host == "127.0.0.1" else f"host = {json.dumps(hub_host)}\n",
        hub_port=hub_port,
        hub_prefix=hub_prefix,
        hub_tls=tls_sections(tls)[0],
    )
    for name, path, body, feature in TRIGGERS:
        if feature is None or feature in config.features:
            body = "{message}" if config.trigger_mode == "forward" else body
            text += f"\n[triggers.{name}]\nurl = \"{{base_url}}/_trigger/{path}\"\nbody = '{body}'\n"
    if api_key and (custom_urls if api_key_header is None else api_key_header):
        text += f"\n[headers]\nX-Api-Key = {json.dumps(api_key)}\n"
    if custom:
        for name, path, feature in CUSTOM_ROUTES:
            if feature is None or feature in config.features:
                text += f'\n[inbound.{name}]\nurl = "{base_url}/oicp/{path}?provider={{providerID}}"\n'
    return text + tls_sections(tls)[1]


def tls_sections(directory: str | None) -> tuple[str, str]:
    """The `[hub] tls` line and the `[tls]` table of a reference run over mutual TLS with the certificates
    `oicp-conformance certs DIR` wrote: the fake hub serves with DIR/hub.pem and takes the reference's
    DIR/client.pem; the suite calls the reference trusting DIR/ca.pem and presenting the hub's certificate, as
    Hubject does. ("", "") without a folder."""
    if directory is None:
        return "", ""
    files = {"ca_file": "ca.pem", "cert_file": "hub.pem", "key_file": "hub.key"}
    table = "".join(f"{key} = {json.dumps(str(Path(directory) / name))}\n" for key, name in files.items())
    return f"tls = {json.dumps(str(directory))}\n", f"\n[tls]\n{table}"


def _array(values: Iterable[str]) -> str:
    return json.dumps(list(values))


def reference_sut(
    base_url: str,
    hub_port: int,
    release: str = "2.3",
    *,
    shape: str = "official",
    hub_prefix: str = "/api/oicp",
    custom_urls: bool = False,
    api_key: str | None = DEFAULT_API_KEY,
    api_key_header: bool | None = None,
) -> Sut:
    """The parsed declaration of the bundled reference CPO in `shape`."""
    text = reference_declaration(
        base_url,
        hub_port,
        release,
        hub_prefix=hub_prefix,
        custom_urls=custom_urls,
        api_key=api_key,
        shape=shape,
        api_key_header=api_key_header,
    )
    return parse(tomllib.loads(text), "(bundled reference CPO)" if shape == "official" else f"(reference {shape})")


EMP_TEMPLATE = """
name = "bundled reference EMP{title}"
role = "emp"
release = "{release}"
mode = "{mode}"
base_url = "{base_url}"
provider_id = "DE-REF"
features = [{features}]
timeout = 12.0

[identifications]
rfid = ["AABBCCDD", "04A1B2C3D4E5F6"]
evco_pins = [{{ evco_id = "DE-REF-C00000001-1", pin = "1234" }}]
evco_ids = ["DE-REF-C00000002-2"]
unknown_rfid = "DEADBEEF"

[hub]
port = {hub_port}
prefix = "/api/oicp"
{hub_tls}
[outbound]
timeout = 2.0
max_retries = 4
retry_window = 20.0

[probes]
authorizations = "{{base_url}}/_trigger/state-authorizations"
sessions = "{{base_url}}/_trigger/state-sessions"
cdrs = "{{base_url}}/_trigger/state-cdrs"
evses = "{{base_url}}/_trigger/state-evses"
notifications = "{{base_url}}/_trigger/state-notifications"
outcomes = "{{base_url}}/_trigger/state-last-calls"

[triggers.pull_evse_data]
url = "{{base_url}}/_trigger/pull-evse-data"
body = '{{}}'

[triggers.pull_evse_data_search]
url = "{{base_url}}/_trigger/pull-evse-data"
body = '{{"filters": {{"OperatorIds": ["{{operator_id}}"]}}}}'

[triggers.pull_evse_status]
url = "{{base_url}}/_trigger/pull-evse-status"
body = '{{}}'

[triggers.pull_evse_status_by_id]
url = "{{base_url}}/_trigger/pull-evse-status-by-id"
body = '{{"evse_ids": {{evse_ids}}}}'

[triggers.remote_start]
url = "{{base_url}}/_trigger/remote-start"
body = '{{"evse_id": "{{evse_id}}"}}'

[triggers.remote_stop]
url = "{{base_url}}/_trigger/remote-stop"
body = '{{"session_id": "{{session_id}}", "evse_id": "{{evse_id}}"}}'

[triggers.get_cdrs]
url = "{{base_url}}/_trigger/get-cdrs"
body = '{{"from": "{{from}}", "to": "{{to}}"}}'

[triggers.get_new_cdrs]
url = "{{base_url}}/_trigger/get-cdrs"
body = '{{}}'

[triggers.push_auth_data]
url = "{{base_url}}/_trigger/push-auth-data"
body = '{{"action": "{{action}}"}}'
"""

EMP_FEATURES_BY_MODE = {
    "online": '"authorize_stop", "charging_notifications", "pull_evse_status_by_id"',
    "offline": '"get_charge_detail_records", "push_authentication_data", "pull_evse_status_by_id"',
}


EMP_CUSTOM = """
[inbound.authorize_start]
url = "{base_url}/oicp/authorize-start?operator={{operatorID}}"

[inbound.authorize_stop]
url = "{base_url}/oicp/authorize-stop?operator={{operatorID}}"

[inbound.charge_detail_record]
url = "{base_url}/oicp/charge-detail-record?operator={{operatorID}}"

[inbound.charging_notification]
url = "{base_url}/oicp/charging-notifications"
"""


def reference_emp_declaration(
    base_url: str,
    hub_port: int,
    mode: str = "online",
    release: str = "2.3",
    shape: str = "official",
    tls: str | None = None,
) -> str:
    """The reference EMP's declaration in `shape` (a name of conformance.reference.emp.shapes), as
    `oicp-conformance reference emp --print-sut [--tls DIR]` prints it (`tls`: see `tls_sections`)."""
    from conformance.reference.emp.shapes import SHAPES

    config = SHAPES[shape].build()
    mode = config.mode if "mode" in SHAPES[shape].config else mode
    text = EMP_TEMPLATE.format(
        title=("" if mode == "online" else " (offline)") + ("" if shape == "official" else f", shape {shape}"),
        release=release,
        mode=mode,
        base_url=base_url,
        hub_port=hub_port,
        features=EMP_FEATURES_BY_MODE[mode],
        hub_tls=tls_sections(tls)[0],
    )
    if config.custom_urls and mode == "online":
        text += EMP_CUSTOM.format(base_url=base_url)
    if config.trigger_mode == "forward":  # every trigger takes the OICP request itself and forwards it
        text = re.sub(r"(?m)^body = '.*'$", "body = '{message}'", text)
    return text + tls_sections(tls)[1]
