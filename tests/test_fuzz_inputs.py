"""Every command-line input and the declaration file, fuzzed: bad input ends in one line and exit 2, never a traceback.

The CLI is called in-process (`main([...])`), each example in a fresh folder of prepared paths (missing, a folder, an
empty file, binary, not UTF-8, a name too long, a symlink loop, valid files). What would serve, run a suite or call
a SUT is replaced by `_Reached`: an input that got that far passed validation, which is all these tests judge. Name
lookups are numeric only, so no generated host name ever leaves the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import math
import os
import socket
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conformance.cli.main import main, parser
from conformance.sut.declaration import ConfigError, load, parse

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")),  # FUZZ_EXAMPLES=1000: a deeper, random search
    deadline=None,
    derandomize="FUZZ_EXAMPLES" not in os.environ,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.nested_given],
)

# --- a sandbox of prepared paths --------------------------------------------------------------------------------

CPO = {
    "name": "fuzz CPO",
    "role": "cpo",
    "release": "2.3",
    "base_url": "http://127.0.0.1:9",
    "operator_id": "DE*ACM",
    "evse_ids": ["DE*ACM*E100*1", "DE*ACM*E100*2"],
    "out_of_service_evse": "DE*ACM*E100*9",
    "provider_id": "DE-DCB",
    "time_zone": "Europe/Berlin",
    "features": ["authorize_stop", "reservation"],
    "timeout": 10.0,
    "headers": {"X-Api-Key": "secret"},
    "inbound": {"remote_start": {"url": "http://127.0.0.1:9/start?provider={providerID}", "headers": {"X-T": "a"}}},
    "probes": {"sessions": "{base_url}/admin/sessions"},
    "hub": {"host": "127.0.0.1", "port": 8080, "prefix": "/api/oicp"},
    "tls": {"verify": True},
    "outbound": {"timeout": 2.0, "max_retries": 4, "retry_window": 30.0},
    "triggers": {
        "push_evse_data": {"url": "{base_url}/push", "body": '{"action": "{action}"}', "headers": {"A": "b"}},
        "push_evse_status": {"command": "true {action}", "timeout": 5},
    },
}
EMP = {
    "role": "emp",
    "base_url": "http://127.0.0.1:9",
    "provider_id": "DE-DCB",
    "mode": "online",
    "features": ["authorize_stop"],
    "identifications": {
        "rfid": ["1234ABCD"],
        "evco_ids": ["DE-DCB-C12345678-1"],
        "evco_pins": [{"evco_id": "DE-DCB-C12345679-2", "pin": "1234"}],
        "unknown_rfid": "FFFFFFFF",
    },
    "triggers": {"remote_start": {"url": "{base_url}/start", "body": '{"evse": "{evse_id}"}'}},
    "hub": {"port": 8080},
}
SUMMARY = {"role": "cpo", "verdict": "pass", "requirements": [{"id": "CPO-START-01", "status": "pass"}]}
MESSAGE = {"ActionType": "fullLoad", "OperatorEvseStatus": {"OperatorID": "DE*ACM", "EvseStatusRecord": []}}


def toml_value(value: Any) -> str:
    """TOML text of a value tomllib can return (inline tables: one line per top-level key)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_text(data: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in data.items())


PATHS = (
    "missing.toml",
    "folder",
    "empty.toml",
    "binary.bin",
    "latin1.toml",
    "broken.toml",
    "cpo.toml",
    "emp.toml",
    "message.json",
    "run",
    "run/summary.json",
    "empty.toml/under-a-file",
    "x" * 300,
    "loop",
    "ünï/cödé.toml",
    "-",
    "/",
)


def make_sandbox(root: Path) -> None:
    """The prepared paths of `PATHS` under `root`."""
    (root / "folder").mkdir()
    (root / "empty.toml").write_bytes(b"")
    (root / "binary.bin").write_bytes(bytes(range(256)))
    (root / "latin1.toml").write_bytes('name = "Müller"\n'.encode("latin-1"))
    (root / "broken.toml").write_text('role = "cpo"\nevse_ids = [\n', encoding="utf-8")
    (root / "cpo.toml").write_text(toml_text(CPO), encoding="utf-8")
    (root / "emp.toml").write_text(toml_text(EMP), encoding="utf-8")
    (root / "message.json").write_text(json.dumps(MESSAGE), encoding="utf-8")
    (root / "run").mkdir()
    (root / "run" / "summary.json").write_text(json.dumps(SUMMARY), encoding="utf-8")
    (root / "loop").symlink_to(root / "loop")


# --- what must not really happen -------------------------------------------------------------------------------


class _Reached(Exception):
    """Raised where the command would serve, run a suite, call a SUT or start a browser."""


def _reach(*args: object, **kwargs: object) -> Any:
    raise _Reached


def _serve(server: Any, *args: object, **kwargs: object) -> Any:
    server.stop()  # the reference was built (a queue shape starts workers): stop them, then pretend to serve
    raise _Reached


def _certs_in_sandbox(directory: Any, **kwargs: Any) -> Any:
    """`certs` writes for real, but only inside the example's folder: "/" or ".." would write beside the system's own
    files (the tests may run as root)."""
    from conformance.tls import write_certs

    if not Path(directory).resolve().is_relative_to(Path.cwd().resolve()):
        raise _Reached
    return write_certs(directory, **kwargs)


_getaddrinfo = socket.getaddrinfo


def _numeric_only(host: Any, *args: Any, **kwargs: Any) -> Any:
    """No DNS: a generated host name must never become a query; numeric addresses and localhost resolve."""
    if host not in (None, "localhost"):
        flags = kwargs.pop("flags", 0)
        kwargs["flags"] = flags | socket.AI_NUMERICHOST
    return _getaddrinfo(host, *args, **kwargs)


@contextlib.contextmanager
def contained() -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for target, replacement in (
            ("conformance.runner.run_suite", _reach),
            ("conformance.sut.preflight.problems", lambda sut: []),
            ("conformance.sut.preflight.findings", lambda sut: []),
            ("conformance.hub.hub.FakeHub.start", _reach),
            ("conformance.reference.cpo.app.ReferenceCpo.start", _serve),
            ("conformance.reference.emp.app.ReferenceEmp.start", _serve),
            ("conformance.cli.schemas.build", _reach),
            ("conformance.cli.schemas.write_snippets", _reach),
            ("conformance.cli.certs.write_certs", _certs_in_sandbox),
            ("conformance.cli.report.find_browser", lambda: None),
            ("conformance.cli.report.find_allure", lambda: None),
            ("socket.getaddrinfo", _numeric_only),
        ):
            stack.enter_context(mock.patch(target, replacement))
        yield


# --- argument lists --------------------------------------------------------------------------------------------

ODD = (
    "",
    " ",
    "-",
    "--",
    "-1",
    "0",
    "1",
    "65536",
    "99999999999999999999",
    "1e309",
    "nan",
    "-inf",
    "a\x00b",
    "ü",
    "日本語",
    "a\nb",
    "\u2028",
    "\x1b[31m",
    "%s%n",
    "{}",
    "{base_url}",
    "${HOME}",
    "..",
    "x" * 5000,
    "127.0.0.1",
    "::1",
    "DE*ACM",
    "DE-DCB",
    "2.3",
    "http://127.0.0.1:9",
    "http://[::1",
    "eRoamingPushEvseStatus",
)
odd_values = st.one_of(st.sampled_from(ODD), st.sampled_from(PATHS), st.text(max_size=12))


def _commands() -> dict[str, argparse.ArgumentParser]:
    """Every subcommand (`schemas build` as one) with its parser, as `--help` lists them."""
    out: dict[str, argparse.ArgumentParser] = {}
    for action in parser()._subparsers._group_actions:  # type: ignore[union-attr]
        for name, sub in action.choices.items():
            nested = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
            if nested:
                out.update({f"{name} {n}": s for a in nested for n, s in a.choices.items()})
            else:
                out[name] = sub
    return out


COMMANDS = _commands()


# Plausible values by argparse dest: mixed with the odd ones, so that a fuzzed command line gets past its first
# check often enough to reach the later ones (a huge --count only matters with a message that exists).
GOOD = {
    "message": ["eRoamingPushEvseStatus", "eRoamingPushEvseData", "AuthorizeRemoteStart.cpo"],
    "sut": ["cpo.toml", "emp.toml"],
    "file": ["cpo.toml", "emp.toml"],
    "files": ["message.json", "-"],
    "release": ["2.3", "2.2"],
    "count": ["1", "2", "10001", "99999999999999999999"],
    "size": ["2", "100001", "-5"],
    "seed": ["1"],
    "port": ["0"],
    "host": ["127.0.0.1", "::1", "localhost"],
    "hub": ["http://127.0.0.1:8080/api/oicp"],
    "folder": ["run", "run/summary.json"],
    "old": ["run/summary.json"],
    "new": ["run/summary.json", "cpo.toml"],
    "operator_id": ["DE*ACM"],
    "provider_id": ["DE-DCB"],
    "reports": ["reports", "cpo.toml"],
}


@st.composite
def arguments(draw: st.DrawFn, command: str) -> list[str]:
    """The command, then flags it knows (required ones mostly present; odd or plausible values, repeated), its
    positionals, and now and then a stranger."""
    sub = COMMANDS[command]
    flags = [a for a in sub._actions if a.option_strings and not isinstance(a, argparse._HelpAction)]
    positionals = [a for a in sub._actions if not a.option_strings]
    required = [a for a in flags if a.required and draw(st.integers(0, 4))]
    argv = command.split()

    def value(action: argparse.Action) -> str:
        good = [str(c) for c in action.choices or ()] or GOOD.get(action.dest, [])
        return draw(st.sampled_from(good) | odd_values if good else odd_values)

    for action in required + (draw(st.lists(st.sampled_from(flags), max_size=5)) if flags else []):
        argv.append(draw(st.sampled_from(action.option_strings)))
        if action.nargs != 0:
            argv.append(value(action))
    for action in positionals:
        if draw(st.integers(0, 9)):  # now and then a positional is left out
            argv.append(value(action))
    if not draw(st.integers(0, 7)):
        argv.insert(draw(st.integers(1, len(argv))), draw(st.sampled_from(["--no-such-flag", "-Z", "extra", "--"])))
    return argv


# Exit codes a command documents besides 0 and 2 (`--help` of each says when).
EXTRA_CODES = {"diff": {1}, "schemas check": {1}, "defects": {1}, "validate": {1}}
# What a command may say on stderr besides its error line(s): a line per bad file (validate) or per problem (run).
NOTES = ("seed ", "warning: ", "report written to", "oicp-conformance: ")


def judge(argv: list[str], stdin: bytes, capsys: pytest.CaptureFixture[str], tmp: Path) -> None:
    """Run `argv` in a fresh sandbox; exit 0 or 2 (or a documented code), and an error is one line, no traceback."""
    capsys.readouterr()
    stdin_file = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    with contextlib.chdir(tmp), mock.patch("sys.stdin", stdin_file):
        try:
            code: Any = main(argv)
        except SystemExit as exc:  # argparse: --help, --version and its usage errors
            code = exc.code
        except _Reached:
            code = "reached"
    out, err = capsys.readouterr()
    assert "Traceback" not in err + out, (argv, err)
    documented = EXTRA_CODES.get(" ".join(argv[:2]), EXTRA_CODES.get(" ".join(argv[:1]), set()))
    assert code in {0, 2, "reached", *documented}, (argv, code, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert all(line.startswith(NOTES) for line in lines), (argv, err)  # no usage block, no continuation line
        if "json" not in argv:  # validate --format json says each bad input as a JSON line on stdout instead
            assert any(line.startswith("oicp-conformance: error: ") for line in lines), (argv, err)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Path]:
    with contained():
        yield tmp_path


def _fresh(tmp: Path, n: list[int]) -> Path:
    n[0] += 1
    root = tmp / f"ex{n[0]}"
    root.mkdir()
    make_sandbox(root)
    return root


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_fails_in_one_line(command: str, sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    counter = [0]

    @FUZZ
    @given(argv=arguments(command), stdin=st.sampled_from([b"", b"\xff\xfe", b'{"a": 1}\n', b"x" * 70000]))
    def fuzz(argv: list[str], stdin: bytes) -> None:
        judge(argv, stdin, capsys, _fresh(sandbox, counter))

    fuzz()


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["no-such-command"],
        ["run", "--role", "x"],
        ["run", "--role", "cpo", "--examples", "0"],
        ["validate"],
        ["generate", "--count", "many"],
        ["schemas", "bogus"],
        ["check-config", "a\nb.toml"],
        ["check-config", "x" * 300],
        ["check-config", "empty.toml/under-a-file"],
        ["check-config", "a\x00b"],
        ["diff", "x" * 300, "run/summary.json"],
        ["validate", "\r"],
        ["generate", "eRoamingPushEvseStatus", "--count", "99999999999999999999"],
        ["generate", "eRoamingPushEvseData", "--size", "100000000"],
        ["generate", "eRoamingPushEvseData", "--size", "-5"],
        ["reference", "cpo", "--host", "a" * 80],
        ["hub", "--host", "\u2028"],
        ["certs", "loop", "--operator", "DE*ABC"],
        ["run", "--role", "cpo", "--sut", "loop"],
    ],
)
def test_usage_errors_are_one_line(argv: list[str], sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each found once as a traceback, a usage block, a raw line break or a hang (generate drew every message
    before printing one: --count 99999999999999999999 filled the memory)."""
    root = sandbox / "s"
    root.mkdir()
    make_sandbox(root)
    judge(argv, b"", capsys, root)


def test_init_answers_that_are_not_utf8(sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Piped bytes in another encoding: Python's stdin raised UnicodeDecodeError out of `init`."""
    root = sandbox / "s"
    root.mkdir()
    judge(["init", "-o", "new.toml"], "Müller\n".encode("latin-1"), capsys, root)
    assert not (root / "new.toml").exists()


def test_help_is_intact(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["run", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: oicp-conformance run") and "--role {cpo,emp}" in out


def test_the_judge_catches_a_traceback_and_a_usage_block(
    sandbox: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fuzz tests can fail: an escaping exception, and argparse's multi-line usage error, are both caught."""
    root = sandbox / "s"
    root.mkdir()
    make_sandbox(root)

    def boom(args: argparse.Namespace) -> int:
        raise TypeError("escaped")

    monkeypatch.setattr("conformance.cli.catalog.run", boom)
    with pytest.raises(TypeError):
        judge(["catalog"], b"", capsys, root)
    monkeypatch.undo()
    with (
        mock.patch("conformance.cli.main.OneLineParser.error", argparse.ArgumentParser.error),
        pytest.raises(AssertionError),
    ):
        judge(["run", "--role", "x"], b"", capsys, root)


# --- the declaration file --------------------------------------------------------------------------------------

scalars = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.booleans(),
    st.datetimes(),
    st.dates(),
    st.times(),
    st.sampled_from(["http://[::1", "../../etc", "Europe", "\x00", "DE*ACM*E100*1", "{x}", "${NOPE_NOT_SET}"]),
)
toml_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)


def _key_paths(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for key, value in data.items():
        out.append((*prefix, key))
        if isinstance(value, dict):
            out += _key_paths(value, (*prefix, key))
    return out


@st.composite
def declarations(draw: st.DrawFn) -> dict[str, Any]:
    """A valid CPO or EMP declaration with one or more keys set to anything, removed, or joined by a stranger."""
    data = json.loads(json.dumps(draw(st.sampled_from([CPO, EMP]))))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_key_paths(data)))
        table = data
        for key in path[:-1]:
            table = table[key]
        how = draw(st.sampled_from(["value", "delete", "stranger"]))
        if how == "value":
            table[path[-1]] = draw(toml_values)
        elif how == "delete":
            del table[path[-1]]
        else:
            table[draw(st.text(min_size=1, max_size=8))] = draw(toml_values)
        if not _key_paths(data):
            break
    return data


def assert_one_line(exc: ConfigError, source: str) -> None:
    text = str(exc)
    assert text.startswith(source), text
    assert len(text) < 2000, text[:300]


@FUZZ
@given(data=st.one_of(declarations(), st.dictionaries(st.text(max_size=10), toml_values, max_size=6)))
@example(data={**CPO, "base_url": "http://[::1"})  # urlparse's ValueError escaped
@example(data={**CPO, "inbound": {"remote_start": {"url": "http://[::1/start"}}})
def test_parse_raises_only_config_errors(data: dict[str, Any]) -> None:
    try:
        parse(data, "fuzz.toml")
    except ConfigError as exc:
        assert_one_line(exc, "fuzz.toml")


def _raw_files() -> st.SearchStrategy[bytes]:
    texts = st.one_of(declarations().map(toml_text), st.dictionaries(st.text(max_size=8), toml_values).map(toml_text))
    return st.one_of(
        texts.map(lambda t: t.encode("utf-8")),
        texts.map(lambda t: t.encode("utf-16")),
        st.binary(max_size=200),
        st.sampled_from(
            [b"", b"\xef\xbb\xbf", b"[" * 2000, b"a = " + b"[" * 2000, b"x = 1\n" * 200_000, b'role = "cpo"\x00']
        ),
    )


@FUZZ
@given(raw=_raw_files())
@example(raw=b"a = " + b"[" * 2000)  # tomllib's RecursionError escaped
@example(raw=b"# " + b"x" * (1024 * 1024 + 1))  # read whole, however big
@example(raw='name = "Müller"'.encode("latin-1"))
def test_load_raises_only_config_errors(raw: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("decl") / "oicp-sut.toml"
    path.write_bytes(raw)
    try:
        load(path)
    except ConfigError as exc:
        assert_one_line(exc, str(path))


@FUZZ
@given(raw=_raw_files())
def test_check_config_fails_in_one_line(raw: bytes, sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = sandbox / "oicp-sut.toml"
    path.write_bytes(raw)
    judge(["check-config", str(path)], b"", capsys, sandbox)


def test_the_valid_declarations_are_valid() -> None:
    """The fuzzing starts from declarations the parser takes: otherwise every mutation would only re-find one error."""
    assert parse(json.loads(json.dumps(CPO))).operator_id == "DE*ACM"
    assert parse(json.loads(json.dumps(EMP))).provider_id == "DE-DCB"
    assert tomllib.loads(toml_text(CPO)) == CPO


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (OSError(36, "File name too long", "x" * 300), f"oicp-conformance: error: {'x' * 300}: File name too long"),
        (RuntimeError("Symlink loop from '/tmp/loop'"), "oicp-conformance: error: '/tmp/loop': a loop of symbolic"),
        (UnicodeError("not this one"), None),
        (RuntimeError("another runtime error"), None),
    ],
)
def test_what_main_turns_into_one_line(
    raised: Exception, expected: str | None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A path the system refuses is bad input (one line, exit 2); any other exception stays a bug to see."""

    def run(args: argparse.Namespace) -> int:
        raise raised

    monkeypatch.setattr("conformance.cli.catalog.run", run)
    if expected is None:
        with pytest.raises(type(raised)):
            main(["catalog"])
        return
    assert main(["catalog"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(expected) and err.count("\n") == 1, err
