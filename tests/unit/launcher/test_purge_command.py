"""`careplan purge`: how its arguments parse (the bulk form and `verify` side by side), where it gets
retention and its token from, and what it prints and returns."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import httpx
import jwt
import pytest

from launcher import purge_api
from launcher.cli import build_parser
from launcher.purge_command import DEV_DATA_ADMIN, run_bulk_purge
from launcher.purge_verify import run_verify
from shared.kernel.principals import Staff
from shared.kernel.roles import Role
from shared.security.tokens import generate_signing_key, issue_token
from tests.unit.launcher.fake_retention import FakeRetention

UNIT = "SE2321000016-PURG01"


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(purge_api, "RETRY_BACKOFF_SECONDS", 0)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """A state directory as `careplan up` leaves it: endpoints.json and the dev signing key."""
    private_pem, _ = generate_signing_key()
    key = tmp_path / "keys" / "signing-key.pem"
    key.parent.mkdir()
    key.write_bytes(private_pem)
    endpoints = {"services": {"retention": "http://retention.test"}, "signing_key": str(key)}
    (tmp_path / "endpoints.json").write_text(json.dumps(endpoints))
    return tmp_path


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def bulk(state_dir: Path, *extra: str) -> argparse.Namespace:
    return parse("--state-dir", str(state_dir), "purge", "--unit", UNIT, "--ended-before", "2026-01-01", *extra)


def token_for(unit: str, *roles: Role) -> str:
    principal = Staff(hsa_id="SE2321000016-X", unit_id=unit, roles=frozenset(roles))
    return issue_token(principal, generate_signing_key()[0], audience="careplan", issuer="careplan-dev")


def test_the_bulk_form_and_verify_both_parse() -> None:
    args = parse("purge", "--unit", UNIT, "--ended-before", "2026-01-01", "--force", "--reason", "closed", "--yes")
    assert args.run is run_bulk_purge and args.purge_command is None
    assert (args.unit, args.ended_before.isoformat(), args.force, args.reason, args.yes) == (
        UNIT,
        "2026-01-01",
        True,
        "closed",
        True,
    )
    verify = parse("purge", "verify", "plan-1", "--no-topics")
    assert verify.run is run_verify and verify.plan_id == "plan-1" and verify.no_topics


def test_a_date_that_is_not_one_is_refused_naming_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse("purge", "--unit", UNIT, "--ended-before", "2026-02-30")
    assert exit_.value.code == 2
    assert "--ended-before: '2026-02-30' is not a date (YYYY-MM-DD)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, message",
    [
        (("--force",), "--force needs --reason"),
        (("--reason", "why"), "--reason goes with --force"),
        (("--concurrency", "0"), "--concurrency and --window must be at least 1"),
        (("--window", "0"), "--concurrency and --window must be at least 1"),
    ],
)
def test_inconsistent_options_exit_2_before_anything_is_sent(
    state_dir: Path, extra: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeRetention(ended=["p1"])
    assert run_bulk_purge(bulk(state_dir, "--yes", *extra), fake.transport()) == 2
    assert message in capsys.readouterr().err and fake.requests == []


def test_without_the_unit_or_an_action_it_says_what_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse("purge")
    assert args.run(args) == 2
    assert "give --unit and --ended-before" in capsys.readouterr().err


def test_a_running_platform_gets_a_dev_signed_data_admin_token_for_the_unit(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeRetention(ended=["p1", "p2", "p3"])
    assert run_bulk_purge(bulk(state_dir, "--force", "--reason", "closed", "--yes"), fake.transport()) == 0
    out = capsys.readouterr().out
    assert f"listed 3 ended plans of unit {UNIT} (ended before 2026-01-01)" in out
    assert "listed 3  requested 3  completed 3  refused 0  failed 0" in out
    assert {r.url.host for r in fake.requests} == {"retention.test"}
    claims = jwt.decode(fake.requests[0].headers["Authorization"].split()[1], options={"verify_signature": False})
    assert (claims["unit"], claims["roles"], claims["sub"]) == (UNIT, ["data_admin"], DEV_DATA_ADMIN)


def test_a_plan_not_purged_makes_the_exit_code_1(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeRetention(ended=["p1", "p2"], unexported={"p2"})
    assert run_bulk_purge(bulk(state_dir, "--yes"), fake.transport()) == 1
    assert "refused 1: HTTP 409: the plan has not been exported" in capsys.readouterr().out


def test_a_given_token_and_url_are_used_as_they_are(tmp_path: Path) -> None:
    fake = FakeRetention(ended=["p1"])
    token = token_for(UNIT, Role.DATA_ADMIN)
    args = bulk(tmp_path, "--yes", "--retention-url", "https://retention.example", "--token", token)
    assert run_bulk_purge(args, fake.transport()) == 0
    assert {r.url.host for r in fake.requests} == {"retention.example"}
    assert {r.headers["Authorization"] for r in fake.requests} == {f"Bearer {token}"}


@pytest.mark.parametrize(
    "token, message",
    [
        (token_for("SE2321000016-OTHER", Role.DATA_ADMIN), "the token is for unit 'SE2321000016-OTHER'"),
        (token_for(UNIT, Role.THERAPIST), "no data_admin role"),
        ("not-a-token", "--token is not a bearer token"),
    ],
)
def test_a_token_that_cannot_purge_the_unit_is_refused_before_anything_is_sent(
    tmp_path: Path, token: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeRetention(ended=["p1"])
    args = bulk(tmp_path, "--yes", "--retention-url", "https://r.example", "--token", token)
    assert run_bulk_purge(args, fake.transport()) == 2
    assert message in capsys.readouterr().err and fake.requests == []


def test_without_a_platform_or_a_url_it_says_how_to_get_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_bulk_purge(bulk(tmp_path, "--yes")) == 2
    assert "start the platform with 'careplan up', or give --retention-url and --token" in capsys.readouterr().err


def test_a_retention_that_does_not_answer_is_named(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    assert run_bulk_purge(bulk(state_dir, "--yes"), httpx.MockTransport(refuse)) == 2
    assert "retention did not answer: ConnectError connection refused" in capsys.readouterr().err


def test_without_a_terminal_it_does_not_purge_unless_told_yes(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeRetention(ended=["p1"])
    assert run_bulk_purge(bulk(state_dir), fake.transport()) == 2
    assert "add --yes" in capsys.readouterr().err and fake.posts() == []


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("answer, code, purged", [("yes\n", 0, 1), ("no\n", 1, 0)])
def test_on_a_terminal_it_asks_first(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch, answer: str, code: int, purged: int
) -> None:
    monkeypatch.setattr("sys.stdin", Terminal(answer))
    fake = FakeRetention(ended=["p1"])
    assert run_bulk_purge(bulk(state_dir, "--force", "--reason", "closed"), fake.transport()) == code
    assert len(fake.posts()) == purged
