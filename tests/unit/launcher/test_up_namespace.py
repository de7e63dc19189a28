"""`careplan up --namespace NAME`: a stack of its own on shared servers, every topic, consumer group and
database prefixed, removed on stop only when asked; a name that cannot prefix a database is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.cli import build_parser
from launcher.up_options import platform_for


def test_a_namespace_prefixes_topics_groups_and_databases(tmp_path: Path) -> None:
    args = build_parser().parse_args(["--state-dir", str(tmp_path), "up", "--namespace", "staging-anna"])
    platform = platform_for(args)

    assert platform.topic_prefix == platform.database_prefix == "staging-anna_"
    assert platform.namespace.topic("careplan.plans.v1") == "staging-anna_careplan.plans.v1"
    assert platform.keyring_database == "staging-anna_careplan_keyring"
    assert platform.remove_namespace_on_stop is False  # data stays unless asked


def test_without_a_namespace_the_registrys_names_are_used_and_removal_is_opt_in(tmp_path: Path) -> None:
    plain = platform_for(build_parser().parse_args(["--state-dir", str(tmp_path), "up"]))
    assert (plain.topic_prefix, plain.database_prefix) == ("", "")
    removing = build_parser().parse_args(["up", "--namespace", "ci-42", "--remove-on-stop"])
    assert platform_for(removing).remove_namespace_on_stop is True


@pytest.mark.parametrize("name", ["", "has space", "slash/no", "x" * 31, "dollar$"])
def test_a_namespace_that_cannot_prefix_a_database_is_refused(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["up", "--namespace", name])
    assert "--namespace" in capsys.readouterr().err
