#!/usr/bin/env bash
# The OICP conformance gate of an EMP release pipeline; github-actions.yml and gitlab-ci.yml both run it.
#
# Starts the EMP under test (the bundled reference EMP, unless OICP_SUT names your own EMP's declaration),
# runs the EMP suite against it with the baseline of known failures, and stops what it started. Reports
# land in $OICP_REPORTS/emp/ (summary.json with its `gate` block, junit.xml, allure-results/) whatever
# the outcome, so the job can upload them.
#
# Exit code: the gate's. 0 pass; 1 a failure the baseline does not list, or an expired baseline entry;
# 2 configuration problem (a broken baseline or declaration, the SUT unreachable); 3 incomplete (a MUST
# of what the EMP implements was not judged: declare it); 130 interrupted.
#
# Arguments are passed on to `oicp-conformance run` (e.g. --seed 7, --strict, --requirement ID).
# Environment (all optional):
#   OICP_SUT            your EMP's declaration (oicp-sut.toml); the EMP must already run. Default: start the
#                       bundled reference EMP and use the declaration it prints (--print-sut)
#   OICP_BASELINE       the baseline file (default: oicp-baseline.toml beside this script)
#   OICP_REPORTS        the report folder (default: reports)
#   OICP_EMP_PORT       the reference EMP's port (default: 9100)
#   OICP_HUB_PORT       the fake hub's port, where the reference EMP calls Hubject (default: 9101)
#   OICP_CONFORMANCE    the command (default: oicp-conformance; e.g. "python3 -m conformance.cli.main")
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
read -r -a oicp <<<"${OICP_CONFORMANCE:-oicp-conformance}"
baseline=${OICP_BASELINE:-$here/oicp-baseline.toml}
reports=${OICP_REPORTS:-reports}
sut=${OICP_SUT:-}
emp_port=${OICP_EMP_PORT:-9100}
hub_port=${OICP_HUB_PORT:-9101}

emp_pid=""
scratch=""
cleanup() {
  if [[ -n $emp_pid ]]; then
    kill "$emp_pid" 2>/dev/null || true
    wait "$emp_pid" 2>/dev/null || true
  fi
  if [[ -n $scratch ]]; then rm -rf "$scratch"; fi
}
trap cleanup EXIT

if [[ -z $sut ]]; then
  hub="http://127.0.0.1:$hub_port/api/oicp"
  scratch=$(mktemp -d)
  sut=$scratch/oicp-sut.toml
  "${oicp[@]}" reference emp --port "$emp_port" --hub "$hub" --print-sut >"$sut"
  "${oicp[@]}" reference emp --port "$emp_port" --hub "$hub" &
  emp_pid=$!
  for _ in $(seq 100); do  # up to 20 s for the EMP to listen
    if (: >"/dev/tcp/127.0.0.1/$emp_port") 2>/dev/null; then break; fi
    if ! kill -0 "$emp_pid" 2>/dev/null; then
      echo "run-emp-gate: the reference EMP did not start (port $emp_port taken?)" >&2
      emp_pid=""
      exit 2
    fi
    sleep 0.2
  done
fi

status=0
"${oicp[@]}" run --role emp --sut "$sut" --baseline "$baseline" --reports "$reports" "$@" || status=$?
exit "$status"
