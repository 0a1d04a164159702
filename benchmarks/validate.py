"""Validation speed on a large PushEvseData: the project's validator against plain jsonschema and jsonschema-rs.

Baseline: `jsonschema.validate` called per message (what most integrations write). Run with
`python benchmarks/validate.py [--evses 10000] [--repeat 3]`; it prints MB/s, the ratio to the
baseline, and checks that all engines reach the same verdict and the same error pointer.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema

from conformance.validation import load_schema, validate
from conformance.validation.formats import FORMAT_CHECKER

EXAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "examples" / "push-evse-data.json"


def push_evse_data(count: int) -> dict[str, Any]:
    """A fullLoad with `count` distinct EVSEs built from the bundled example record."""
    message = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    record = message["OperatorEvseData"]["EvseDataRecord"][0]
    records = []
    for index in range(count):
        item = copy.deepcopy(record)
        item["EvseID"] = f"DE*ABC*E{index // 10:05d}*{index % 10}"
        records.append(item)
    message["OperatorEvseData"]["EvseDataRecord"] = records
    return message


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def plain_jsonschema(schema: dict[str, Any], message: Any) -> list[str]:
    try:
        jsonschema.validate(message, schema, cls=jsonschema.Draft7Validator, format_checker=FORMAT_CHECKER)
    except jsonschema.ValidationError as exc:
        return ["".join(f"/{p}" for p in exc.absolute_path)]
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evses", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    schema = load_schema("eRoamingPushEvseData", "2.3")
    good = push_evse_data(args.evses)
    bad = copy.deepcopy(good)
    bad["OperatorEvseData"]["EvseDataRecord"][-1]["EvseID"] = "not an EVSE ID"
    size_mb = len(json.dumps(good).encode()) / 1e6
    bad_pointer = f"/OperatorEvseData/EvseDataRecord/{args.evses - 1}/EvseID"
    print(f"PushEvseData with {args.evses} EVSEs: {size_mb:.1f} MB, median of {args.repeat} runs")

    candidates: dict[str, Callable[[Any], list[str]]] = {
        "jsonschema.validate (baseline)": lambda m: plain_jsonschema(schema, m),
        "project validator, engine=python": lambda m: [
            v.pointer for v in validate(m, "eRoamingPushEvseData", engine="python")
        ],
    }
    try:
        import jsonschema_rs

        rs = jsonschema_rs.Draft7Validator(schema, validate_formats=True)
        candidates["jsonschema-rs (direct)"] = lambda m: [
            "".join(f"/{p}" for p in e.instance_path) for e in rs.iter_errors(m)
        ][:1]
        candidates["project validator, engine=rust"] = lambda m: [
            v.pointer for v in validate(m, "eRoamingPushEvseData", engine="rust")
        ]
    except ImportError:
        print("jsonschema-rs not installed: `pip install jsonschema-rs` to compare it")

    baseline = None
    verdicts = {}
    print(f"{'engine':36} {'valid doc':>10} {'MB/s':>8} {'ratio':>7} {'invalid doc':>12} {'ratio':>7}")
    for name, fn in candidates.items():
        fn(good)  # warm caches: compiled validators are built once per process
        t_good, r_good = timed(lambda fn=fn: fn(good), args.repeat)
        t_bad, r_bad = timed(lambda fn=fn: fn(bad), args.repeat)
        verdicts[name] = (r_good, r_bad)
        if baseline is None:
            baseline = (t_good, t_bad)
        print(
            f"{name:36} {t_good * 1000:8.0f}ms {size_mb / t_good:8.1f} {baseline[0] / t_good:6.1f}x "
            f"{t_bad * 1000:10.0f}ms {baseline[1] / t_bad:6.1f}x"
        )
    agree = all(good_r == [] and bad_r == [bad_pointer] for good_r, bad_r in verdicts.values())
    print(f"verdicts agree (valid: no errors; invalid: exactly {bad_pointer}): {'yes' if agree else 'NO'}")
    if not agree:
        for name, result in verdicts.items():
            print(f"  {name}: {result}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
