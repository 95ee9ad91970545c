"""`jet realm remote add|list|remove`: remote realms in the store, read by the RADIUS
server's view, and errors that say what to do."""

from __future__ import annotations

from click.testing import CliRunner

from jet.cli import main
from jet.network_access import load_view
from jet.remote_realms import HomeServer


def jet(*args: str):
    return CliRunner().invoke(main, list(args))


def test_add_list_remove(settings) -> None:
    added = jet(
        "realm", "remote", "add", "Partner.Example", "--server", "192.0.2.10",
        "--secret", "s3cret", "--acct-port", "1813",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "logins go to 192.0.2.10:1812, accounting is copied to port 1813" in added.output
    assert jet(
        "realm", "remote", "add", "roam", "--server", "192.0.2.20:11812", "--secret", "x",
        "--timeout", "0.5", "--retries", "0",
    ).exit_code == 0  # fmt: skip

    listed = jet("realm", "remote", "list")
    assert listed.exit_code == 0 and "s3cret" not in listed.output
    lines = listed.output.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["partner.example", "192.0.2.10:1812"],
        ["roam", "192.0.2.20:11812"],
    ]
    assert "timeout 0.5 s, 0 retries" in lines[1] and "no accounting copy" in lines[1]
    assert load_view(settings.db_url).remote_realms == {
        "partner.example": HomeServer(
            "partner.example", "192.0.2.10", 1812, 1813, b"s3cret", 2.0, 2
        ),
        "roam": HomeServer("roam", "192.0.2.20", 11812, None, b"x", 0.5, 0),
    }

    removed = jet("realm", "remote", "remove", "PARTNER.example")
    assert removed.exit_code == 0 and "realm partner.example is no longer remote" in removed.output
    assert list(load_view(settings.db_url).remote_realms) == ["roam"]


def test_errors_say_what_was_wrong(settings) -> None:
    assert (
        jet("realm", "remote", "add", "roam", "--server", "192.0.2.1", "--secret", "s").exit_code
        == 0
    )
    cases = [
        (["add", "roam", "--server", "192.0.2.2", "--secret", "t"], "already remote"),
        (["add", "@roam", "--server", "192.0.2.2", "--secret", "t"], "not a realm name"),
        (["add", "b", "--server", "radius.example:1812", "--secret", "t"], "not a RADIUS server"),
        (["add", "b", "--server", "192.0.2.2:0", "--secret", "t"], "not a RADIUS server"),
        (["add", "b", "--server", "192.0.2.2:", "--secret", "t"], "not a RADIUS server"),
        (["add", "b", "--server", "192.0.2.2", "--secret", ""], "secret is empty"),
        (["add", "b", "--server", "192.0.2.2", "--secret", "t", "--acct-port", "70000"],
         "accounting port 70000"),
        (["add", "b", "--server", "192.0.2.2", "--secret", "t", "--timeout", "0"],
         "the timeout is 0.0 s"),
        (["add", "b", "--server", "192.0.2.2", "--secret", "t", "--retries", "11"],
         "retries is 11"),
        (["remove", "nowhere"], "realm nowhere is not remote"),
    ]  # fmt: skip
    for args, message in cases:
        result = jet("realm", "remote", *args)
        assert result.exit_code == 1, args
        assert message in result.output, (args, result.output)
    assert list(load_view(settings.db_url).remote_realms) == ["roam"]
