"""The identities and clock one generated message shares: operator, provider, EVSEs, session, UTC offset.

`Pins` fixes any of them, so a suite can thread one session through authorize -> start -> CDR.
Every timestamp of a message carries the same UTC offset (the charge point's local one): an EMP
compares instants, and a CPO writes its own offset. `Pins(mixed_offsets=True)` gives each timestamp
its own offset instead, for testing receivers that must compare instants across offsets.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pycountry
from hypothesis import strategies as st

ALNUM_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
COUNTRIES_2 = sorted(c.alpha_2 for c in pycountry.countries)
COUNTRIES_3 = sorted(c.alpha_3 for c in pycountry.countries)
CURRENCIES = sorted(c.alpha_3 for c in pycountry.currencies)
# Real UTC offsets in minutes, from UTC-12:00 to UTC+14:00 (includes the half and quarter hours in use).
OFFSETS = (
    -720,
    -600,
    -570,
    -480,
    -300,
    -240,
    -210,
    -180,
    0,
    60,
    120,
    180,
    210,
    240,
    270,
    300,
    330,
    345,
    360,
    390,
    420,
    480,
    525,
    540,
    570,
    600,
    630,
    660,
    720,
    765,
    780,
    840,
)


@dataclass(frozen=True)
class Pins:
    """Values a strategy must use instead of generating them (None: generate)."""

    operator_id: str | None = None
    provider_id: str | None = None
    evse_ids: tuple[str, ...] | None = None
    session_id: str | None = None
    cpo_partner_session_id: str | None = None
    emp_partner_session_id: str | None = None
    identification: dict | None = None
    now: datetime | None = None
    offset: int | None = None  # UTC offset in minutes for every timestamp (None: drawn from OFFSETS)
    mixed_offsets: bool = False  # each timestamp its own drawn offset (the variant, not the default)

    def __post_init__(self) -> None:
        if self.offset is not None and not -14 * 60 <= self.offset <= 14 * 60:
            raise ValueError(f"Pins.offset {self.offset} is not a UTC offset in minutes (-840..840)")


@dataclass(frozen=True)
class Context:
    """Everything drawn once per message, so its parts agree with each other."""

    operator_id: str
    provider_id: str
    evse_ids: tuple[str, ...]
    session_id: str
    evco_id: str
    cpo_partner_session_id: str
    emp_partner_session_id: str
    now: datetime
    offset: int
    identification: dict | None = None
    fullness: str = "some"  # optional members: "some" (drawn), "all" or "none" (swarm testing)
    message: str = ""
    allowed_identifications: tuple[str, ...] = field(default=())
    mixed_offsets: bool = False  # see Pins.mixed_offsets


def _code(size: int, alphabet: str = ALNUM_UPPER) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=size, max_size=size)


@st.composite
def operator_ids(draw: st.DrawFn) -> str:
    """ISO (`DE*ABC`, `DEABC`) or DIN (`+49*536`) operator IDs."""
    if draw(st.booleans()):
        sep = draw(st.sampled_from(["*", ""]))
        return f"{draw(st.sampled_from(COUNTRIES_2))}{sep}{draw(_code(3))}"
    return f"+{draw(st.integers(1, 999))}*{draw(_code(3, '0123456789'))}"


@st.composite
def provider_ids(draw: st.DrawFn) -> str:
    """Provider IDs as `DE-DCB`, `DE*DCB` or `DEDCB`."""
    return f"{draw(st.sampled_from(COUNTRIES_2))}{draw(st.sampled_from(['-', '*', '']))}{draw(_code(3))}"


def evse_id_for(operator_id: str, local: str, index: int) -> str:
    """An EvseID of the operator, in the operator's own spelling (ISO `*E`, ISO compact, or DIN)."""
    if operator_id.startswith("+"):
        return f"{operator_id}*{''.join(ch for ch in local if ch.isdigit()) or '0'}*{index}"
    if "*" in operator_id:
        return f"{operator_id}*E{local}*{index}"
    return f"{operator_id}E{local}{index}"


def evco_id_for(provider_id: str, contract: str, check: str) -> str:
    """An EvcoID whose first five characters name the provider (how Hubject routes it)."""
    plain = provider_id.replace("-", "").replace("*", "")
    return f"{plain[:2]}-{plain[2:5]}-C{contract}-{check}"


@st.composite
def contexts(draw: st.DrawFn, pins: Pins | None = None) -> Context:
    pins = pins or Pins()
    operator = pins.operator_id or draw(operator_ids())
    provider = pins.provider_id or draw(provider_ids())
    if pins.evse_ids:
        evses = tuple(pins.evse_ids)
    else:
        local = draw(_code(4, "0123456789"))
        evses = tuple(evse_id_for(operator, local, i) for i in range(1, draw(st.integers(1, 4)) + 1))
    session = pins.session_id or str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4))
    partner = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=36)
    moment = pins.now or draw(st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC)))
    return Context(
        operator_id=operator,
        provider_id=provider,
        evse_ids=evses,
        session_id=session,
        evco_id=evco_id_for(provider, draw(_code(8)), draw(st.sampled_from(ALNUM_UPPER))),
        cpo_partner_session_id=pins.cpo_partner_session_id or draw(partner),
        emp_partner_session_id=pins.emp_partner_session_id or draw(partner),
        now=moment.replace(microsecond=moment.microsecond // 1000 * 1000),
        offset=pins.offset if pins.offset is not None else draw(st.sampled_from(OFFSETS)),
        identification=pins.identification,
        fullness=draw(st.sampled_from(["some", "all", "none"])),
        mixed_offsets=pins.mixed_offsets,
    )


def later(ctx: Context, minutes: float) -> datetime:
    return ctx.now + timedelta(minutes=minutes)
