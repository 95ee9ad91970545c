"""`jet nas add|list|remove`: NAS clients in the store, and errors that say what to do."""

from __future__ import annotations

from click.testing import CliRunner

from jet.cli import main
from jet.config import PROJECT_ROOT
from jet.nas import client_secrets


def jet(*args: str):
    return CliRunner().invoke(main, list(args))


def test_add_list_remove(settings) -> None:
    assert jet("catalog", "load", str(PROJECT_ROOT / "examples/catalogs/acme.yaml")).exit_code == 0
    added = jet("nas", "add", "10.0.0.10", "--secret", "s3cret", "--realm", "acme", "--name", "b1")
    assert added.exit_code == 0, added.output
    assert jet("nas", "add", "10.0.0.9", "--secret", "x", "--realm", "acme").exit_code == 0

    listed = jet("nas", "list")
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert [line.split()[:2] for line in lines] == [["10.0.0.9", "acme"], ["10.0.0.10", "acme"]]
    assert "b1" in lines[1] and "s3cret" not in listed.output
    assert client_secrets(settings.db_url) == {"10.0.0.9": b"x", "10.0.0.10": b"s3cret"}

    removed = jet("nas", "remove", "10.0.0.10")
    assert removed.exit_code == 0 and "removed NAS 10.0.0.10" in removed.output
    assert client_secrets(settings.db_url) == {"10.0.0.9": b"x"}


def test_errors_say_what_was_wrong(settings) -> None:
    jet("catalog", "load", str(PROJECT_ROOT / "examples/catalogs/acme.yaml"))
    assert jet("nas", "add", "10.0.0.1", "--secret", "s", "--realm", "acme").exit_code == 0
    cases = [
        (["add", "10.0.0.1", "--secret", "t", "--realm", "acme"], "already exists"),
        (["add", "10.0.0.2", "--secret", "t", "--realm", "nope"], "unknown realm 'nope'"),
        (["add", "10.0.0.256", "--secret", "t", "--realm", "acme"], "not an IPv4 address"),
        (["add", "fe80::1", "--secret", "t", "--realm", "acme"], "not an IPv4 address"),
        (["add", "10.0.0.3", "--secret", "", "--realm", "acme"], "secret is empty"),
        (["remove", "10.0.0.7"], "no NAS with address 10.0.0.7"),
        (["remove", "nas-1"], "not an IPv4 address"),
    ]
    for args, message in cases:
        result = jet("nas", *args)
        assert result.exit_code == 1, args
        assert message in result.output, (args, result.output)
    assert client_secrets(settings.db_url) == {"10.0.0.1": b"s"}
