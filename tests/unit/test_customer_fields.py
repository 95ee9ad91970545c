"""The quick path for plain e-mail addresses gives email-validator's answer: the same
normalized address for every address it takes, and no say on any other."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jet import customer_fields as fields

# Addresses built of pieces near the edges of what the quick path takes: atext it leaves
# to the library, dots, hyphens, case, non-ASCII, long labels, special-use names.
LOCAL = st.sampled_from(
    [*"aZ09._+-", "!", "#", "%", "'", "~", "..", "é", " ", "INFO", "info", "Sales", "x" * 30]
)
LABEL = st.sampled_from(
    [
        "example",
        "Example",
        "a",
        "b1",
        "x1",
        "ex-ample",
        "-ex",
        "ex-",
        "ab--cd",
        "xn--bcher-kva",
        "test",
        "local",
        "arpa",
        "COM",
        "au",
        "é",
        "c" * 63,
        "c" * 64,
        "",
        "1",
        "a_b",
    ]
)
ADDRESSES = st.builds(
    lambda local, labels, at: "".join(local) + at + ".".join(labels),
    st.lists(st.one_of(LOCAL, st.just("ann")), min_size=1, max_size=6),
    st.lists(st.one_of(LABEL, st.sampled_from(["example", "net", "co"])), min_size=1, max_size=5),
    st.sampled_from(["@", "@", "@", "@@", ""]),
)


def _library(value: str) -> str | None:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


@settings(max_examples=3000, deadline=None)
@given(ADDRESSES)
@example("Ann.Lee+bills@Example.COM")
@example("Postmaster@acme.example.net")
@example("a@b.c1")
@example("a@ab--cd.com")
@example("a@" + "b" * 63 + ".com")
@example("a@" + "b" * 64 + ".com")
@example("x" * 64 + "@" + ("c" * 60 + ".") * 3 + "au")
def test_quick_path_agrees_with_email_validator(value: str) -> None:
    quick = fields._plain_email(value)
    if quick is not None:
        assert quick == _library(value)


def test_common_addresses_take_the_quick_path() -> None:
    assert fields._plain_email("ann.lee42@example.net") == "ann.lee42@example.net"
    assert fields._plain_email("Sales@Globex.Example") == "sales@globex.example"
    assert fields.email(" ann@example.com ") == "ann@example.com"
