"""The embedded declaration of the bundled reference CPO: what `run --role cpo` uses without --sut."""

from __future__ import annotations

import tomllib

from conformance.sut.declaration import Sut, parse

TEMPLATE = """
name = "bundled reference CPO"
role = "cpo"
release = "{release}"
base_url = "{base_url}"
operator_id = "DE*REF"
evse_ids = ["DE*REF*E1001*1", "DE*REF*E1001*2", "DE*REF*E1002*1", "DE*REF*E1002*2"]
out_of_service_evse = "DE*REF*E1002*2"
features = ["authorize_stop", "reservation", "charging_notifications"]
timeout = 12.0

[hub]
port = {hub_port}
prefix = "/api/oicp"

[outbound]
timeout = 2.0
max_retries = 4
retry_window = 20.0

[probes]
sessions = "{{base_url}}/_trigger/state-sessions"
cdrs = "{{base_url}}/_trigger/state-cdrs"

[triggers.push_evse_data]
url = "{{base_url}}/_trigger/push-evse-data"
body = '{{"action": "{{action}}", "evse_ids": {{evse_ids}}}}'

[triggers.push_evse_status]
url = "{{base_url}}/_trigger/push-evse-status"
body = '{{"action": "{{action}}", "evse_ids": {{evse_ids}}}}'

[triggers.authorize_start]
url = "{{base_url}}/_trigger/authorize-start"
body = '{{"identification": {{identification}}, "evse_id": "{{evse_id}}"}}'

[triggers.authorize_stop]
url = "{{base_url}}/_trigger/authorize-stop"
body = '{{"session_id": "{{session_id}}"}}'

[triggers.end_session]
url = "{{base_url}}/_trigger/end-session"
body = '{{"session_id": "{{session_id}}"}}'

[triggers.send_notification]
url = "{{base_url}}/_trigger/notify"
body = '{{"session_id": "{{session_id}}", "type": "{{type}}"}}'
"""


CUSTOM = """
[headers]
X-Api-Key = "{api_key}"

[inbound.remote_start]
url = "{base_url}/oicp/remote-start?provider={{providerID}}"

[inbound.remote_stop]
url = "{base_url}/oicp/remote-stop?provider={{providerID}}"

[inbound.reservation_start]
url = "{base_url}/oicp/reservation-start?provider={{providerID}}"

[inbound.reservation_stop]
url = "{base_url}/oicp/reservation-stop?provider={{providerID}}"
"""


def reference_declaration(
    base_url: str,
    hub_port: int,
    release: str = "2.3",
    *,
    hub_prefix: str = "/api/oicp",
    custom_urls: bool = False,
    api_key: str = "${OICP_REFERENCE_API_KEY}",
) -> str:
    """The reference CPO's declaration; `custom_urls` describes it as `reference cpo --custom-urls` serves."""
    text = TEMPLATE.format(base_url=base_url, hub_port=hub_port, release=release).replace(
        'prefix = "/api/oicp"', f'prefix = "{hub_prefix}"'
    )
    return text + (CUSTOM.format(base_url=base_url, api_key=api_key) if custom_urls else "")


def reference_sut(base_url: str, hub_port: int, release: str = "2.3") -> Sut:
    return parse(tomllib.loads(reference_declaration(base_url, hub_port, release)), "(bundled reference CPO)")
