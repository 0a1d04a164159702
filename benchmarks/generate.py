"""Generation speed: the project's OICP strategies against raw hypothesis-jsonschema, same run.

Baseline: `hypothesis_jsonschema.from_schema` on the same committed schema. Prints, per message of
the release, valid messages per second for both and the ratio; then how long one PushEvseData with
100 and 1 000 EVSEs takes. Run: `python benchmarks/generate.py [--release 2.3] [--count 30]`.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from hypothesis import strategies as st

from conformance.catalog import load_release
from conformance.strategies import draw_many, raw, valid
from conformance.validation import validate


def rate(strategy: st.SearchStrategy[Any], count: int) -> tuple[float, int, str]:
    """(messages per second, messages drawn, note) for `count` draws of `strategy`."""
    start = time.perf_counter()
    try:
        drawn = draw_many(strategy, count, 0)
    except Exception as exc:  # a raw schema strategy can be unsatisfiable or overrun
        return 0.0, 0, type(exc).__name__
    elapsed = time.perf_counter() - start
    return len(drawn) / elapsed, len(drawn), ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", default="2.3")
    parser.add_argument("--count", type=int, default=30)
    args = parser.parse_args()
    print(f"OICP {args.release}: {args.count} valid messages per strategy, baseline = raw from_schema")
    print(f"{'message':42} {'project/s':>10} {'raw/s':>9} {'ratio':>8}  note")
    ratios = []
    for name in load_release(args.release).messages:
        ours, _, _ = rate(valid(name, args.release), args.count)
        base, n_base, note = rate(raw(name, args.release), args.count)
        ratio = ours / base if base else float("inf")
        if base:
            ratios.append(ratio)
        print(f"{name:42} {ours:10.1f} {base:9.1f} {ratio:7.1f}x  {note or ('' if n_base else 'no examples')}")
    if ratios:
        ratios.sort()
        print(f"median ratio {ratios[len(ratios) // 2]:.1f}x over {len(ratios)} messages the baseline could generate")
    for size in (100, 1000):
        start = time.perf_counter()
        [message] = draw_many(valid("eRoamingPushEvseData", args.release, size=size), 1, 0)
        generated = time.perf_counter() - start
        start = time.perf_counter()
        verdict = "valid" if not validate(message, "eRoamingPushEvseData", args.release) else "INVALID"
        print(
            f"PushEvseData with {size} EVSEs: generated in {generated:.2f}s, "
            f"validated in {time.perf_counter() - start:.3f}s ({verdict})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
