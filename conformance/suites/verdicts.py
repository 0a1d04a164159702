"""Verdicts per requirement: pass only where a check ran and held.

A suite test judges one or more requirements. What it records (`Verdict.check`) is the only way to a
pass: a requirement whose check never ran — trigger, feature or probe not declared, setup failed, an
exception in a helper thread — is *not judged*, with the reason and what to declare, never a pass.
Both roles' suites share this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance.checks.failure import Failure
from conformance.suites.requirements import Requirement

PASS, FAIL, WARN, ERROR, NOT_JUDGED, NOT_APPLICABLE = "pass", "fail", "warn", "error", "not judged", "n/a"
# Worst first: a requirement takes the worst status of its checks.
RANK = {NOT_APPLICABLE: 0, PASS: 1, NOT_JUDGED: 2, WARN: 3, ERROR: 4, FAIL: 5}

VERDICT_PASS, VERDICT_FAIL, VERDICT_INCOMPLETE = "pass", "fail", "incomplete"
VERDICT_CONFIG, VERDICT_INTERRUPTED = "configuration problem", "interrupted"
VERDICT_DEADLINE = "deadline"  # `run --deadline`: the run was cut there (conformance.runner.cut_at_deadline)


class NotJudged(pytest.skip.Exception):  # type: ignore[misc,name-defined]
    """Stop a check that cannot judge: its requirements are reported as not judged with this reason.

    `declare` says what the user can declare to have it judged; `applies=False` means the check does not
    apply to this SUT at all (e.g. no {providerID} in the URL), which never makes a run incomplete."""

    def __init__(self, reason: str, *, declare: str | None = None, applies: bool = True) -> None:
        super().__init__(msg=reason, pytrace=False)
        self.reason, self.declare, self.applies = reason, declare, applies


class ConfigurationProblem(NotJudged):
    """The declaration is wrong (a trigger URL not served, a command not found): the run exits 2."""


def blocks(requirement: Requirement, strict: bool) -> bool:
    """Whether a failure of this requirement fails the run: MUST always, SHOULD and PRACTICE under --strict."""
    return requirement.strength == "MUST" or strict


@dataclass
class Outcome:
    """One requirement as one test judged it."""

    status: str
    reason: str = ""
    declare: str | None = None


@dataclass
class Verdict:
    """Collects what one test judged: failures, judged requirements, and those it could not judge."""

    node: Any
    seed: int
    requirements: dict[str, Requirement]
    strict: bool = False
    failures: list[Failure] = field(default_factory=list)
    judged: set[str] = field(default_factory=set)
    unjudged: dict[str, Outcome] = field(default_factory=dict)
    context: list[str] = field(default_factory=list)  # e.g. what a trigger answered
    concluded: bool = False
    # Requirements the hub journal judged in this test whatever the test is about (see `record_journal`), and
    # the journal's calls it left unjudged with the reason.
    journal: set[str] = field(default_factory=set)
    journal_notes: list[str] = field(default_factory=list)

    def _known(self, requirement: str) -> None:
        if requirement not in self.requirements:
            raise KeyError(f"unknown requirement {requirement}")

    def add(self, requirement: str, title: str, body: str = "", reproduce: str = "") -> None:
        self._known(requirement)
        self.judged.add(requirement)
        if self.context:
            body = "\n".join(filter(None, [body, *self.context]))
        self.failures.append(Failure(requirement, title, body, reproduce))

    def check(self, ok: bool, requirement: str, title: str, body: str = "", reproduce: str = "") -> bool:
        """Judge `requirement`: a pass if `ok`, else a failure with title, body and reproduce command."""
        self._known(requirement)
        self.judged.add(requirement)
        if not ok:
            self.add(requirement, title, body, reproduce)
        return ok

    def about(self, answer: Any, ok: bool, requirement: str, title: str, body: str | None = None) -> bool:
        """`check` for a SUT answer: the answer is the failure's body, its curl command the reproduction."""
        return self.check(ok, requirement, title, body or answer.describe(), answer.curl)

    def not_judged(self, requirement: str, reason: str, declare: str | None = None, applies: bool = True) -> None:
        """This test could not judge `requirement` (others it judges go on)."""
        self._known(requirement)
        self.unjudged.setdefault(requirement, Outcome(NOT_JUDGED if applies else NOT_APPLICABLE, reason, declare))

    def note(self, text: str) -> None:
        """Context every later failure of this test carries (e.g. the trigger's own answer)."""
        if text and text not in self.context:
            self.context.append(text)

    def record_journal(self, judged: set[str], failures: list[Failure], notes: list[str]) -> list[Failure]:
        """What the journal-wide judgement found; returns the failures not recorded before (a journal judged
        twice, at the end of the test and after its teardown, repeats none)."""
        for rid in judged:
            self._known(rid)
        self.judged |= judged
        self.journal |= judged
        new = [f for f in failures if f not in self.failures]
        self.failures += new
        self.journal_notes += [n for n in notes if n not in self.journal_notes]
        return new

    def blocking(self) -> list[Failure]:
        return [f for f in self.failures if blocks(self.requirements[f.requirement], self.strict)]

    def conclude(self) -> None:
        """End the test: blocking failures fail it; the rest are warnings (reported, not failing)."""
        self.concluded = True
        if blocking := self.blocking():
            pytest.fail("\n\n".join(f.render(self.seed) for f in blocking), pytrace=False)

    def outcomes(self, marked: tuple[str, ...], error: str | None, stopped: NotJudged | None) -> dict[str, Outcome]:
        """Each marked requirement's outcome in this test, whatever way the test ended."""
        out: dict[str, Outcome] = {}
        not_performed = self.not_performed()
        for rid in marked:
            mine = [f for f in self.failures if f.requirement == rid]
            if mine and rid in not_performed:
                out[rid] = Outcome(NOT_JUDGED, not_performed[rid])
            elif mine:
                blocking = blocks(self.requirements[rid], self.strict)
                out[rid] = Outcome(FAIL if blocking else WARN, mine[0].title)
            elif rid in self.unjudged:
                out[rid] = self.unjudged[rid]
            elif error is not None:
                out[rid] = Outcome(ERROR, error)
            elif stopped is not None:
                status = NOT_JUDGED if stopped.applies else NOT_APPLICABLE
                out[rid] = Outcome(status, stopped.reason, stopped.declare)
            elif rid in self.judged:
                out[rid] = Outcome(PASS)
            else:
                out[rid] = Outcome(NOT_JUDGED, "its check did not run in this test")
        for rid in sorted(self.journal - set(marked)):  # judged on the journal only: judged, however the test ended
            out[rid] = self.journal_outcome(rid)
        return out

    def not_performed(self) -> dict[str, str]:
        """The requirements this test failed only because the hub refused its calls for the caller's identity, with
        why they are not judged: what the hub never performed (a push "not stored", a retry "never delivered") says
        nothing of the SUT beyond the refusal its own requirement judges."""
        refused = self.refused_identity()
        if refused is None:
            return {}
        reason = f"{refused.title}: the hub performed none of it (see {refused.requirement}; fix that first)"
        return {f.requirement: reason for f in self.failures if f.requirement != refused.requirement}

    def refused_identity(self) -> Failure | None:
        """The first failure that is the hub's StatusCode 017 for the caller's identity (CPO 1 / EMP 1 Security:
        "Hubject will not perform the operation"), None when the hub refused nothing for that in this test."""
        return next((f for f in self.failures if "with StatusCode 017" in f.title), None)

    def journal_outcome(self, rid: str) -> Outcome:
        """A requirement the journal judged: failed (or a warning) where a failure was recorded, else a pass."""
        mine = [f for f in self.failures if f.requirement == rid]
        if not mine:
            return Outcome(PASS)
        return Outcome(FAIL if blocks(self.requirements[rid], self.strict) else WARN, mine[0].title)


def combine(outcomes: list[Outcome]) -> Outcome:
    """A requirement's status over all its tests: the worst, with every reason that explains it."""
    worst = max(outcomes, key=lambda o: RANK[o.status]).status
    if worst == NOT_APPLICABLE:  # nothing applied: not judged, but never what a user must fix
        reasons = sorted({o.reason for o in outcomes if o.reason})
        return Outcome(NOT_APPLICABLE, "; ".join(reasons))
    chosen = [o for o in outcomes if o.status == worst]
    reasons = list(dict.fromkeys(o.reason for o in chosen if o.reason))
    declares = list(dict.fromkeys(o.declare for o in chosen if o.declare))
    return Outcome(worst, "; ".join(reasons), "; ".join(declares) or None)


def run_verdict(rows: list[dict[str, Any]], configuration_problems: list[str], interrupted: bool) -> str:
    """pass / fail / incomplete / configuration problem / interrupted, from the requirement rows.

    Incomplete: no failure, but a MUST of an operation the SUT must implement (or declared) was not judged,
    or a check broke (error): the run cannot vouch for the SUT."""
    if interrupted:
        return VERDICT_INTERRUPTED
    if configuration_problems:
        return VERDICT_CONFIG
    if any(r["status"] == FAIL for r in rows):
        return VERDICT_FAIL
    if any(r["status"] == ERROR for r in rows):
        return VERDICT_INCOMPLETE
    if any(r["status"] == NOT_JUDGED and r["strength"] == "MUST" and r["expected"] for r in rows):
        return VERDICT_INCOMPLETE
    return VERDICT_PASS


EXIT_CODES = {
    VERDICT_PASS: 0,
    VERDICT_FAIL: 1,
    VERDICT_CONFIG: 2,
    VERDICT_INCOMPLETE: 3,
    VERDICT_DEADLINE: 4,
    VERDICT_INTERRUPTED: 130,
}
