"""`jet realm brand`: the realm brand file, validated before it is written."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from jet.cli import main
from jet.realm_branding import read_brand

LOGO = Path(__file__).parents[2] / "examples" / "brands" / "acme-logo.png"


def jet(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_brand_writes_the_file_and_copies_the_logo(settings) -> None:
    out = jet("realm", "brand", "acme", "--logo", str(LOGO), "--primary-colour", "#112233",
              "--locale", "en_NZ", "--footer", "Acme {{ number }}", "--no-einvoice")  # fmt: skip
    path = settings.root / "realms" / "acme" / "brand.yaml"
    assert str(path) in out
    data = yaml.safe_load(path.read_text())
    assert data == {"logo": "logo.png", "primary_colour": "#112233", "locale": "en_NZ",
                    "footer": "Acme {{ number }}", "einvoice": False}  # fmt: skip
    assert (path.parent / "logo.png").read_bytes() == LOGO.read_bytes()
    brand = read_brand(settings.root, "acme")
    assert brand.logo.startswith("data:image/png;base64,") and brand.locale == "en_NZ"
    jet("realm", "brand", "acme", "--accent-colour", "#EEEEEE")  # merges
    assert yaml.safe_load(path.read_text())["primary_colour"] == "#112233"
    assert "accent_colour" in jet("realm", "brand", "acme")


def test_bad_values_are_refused_and_leave_the_file(settings, tmp_path) -> None:
    jet("realm", "brand", "acme", "--primary-colour", "#112233")
    path = settings.root / "realms" / "acme" / "brand.yaml"
    before = path.read_text()
    for args, message in [
        (["--primary-colour", "blue"], "#RRGGBB"),
        (["--locale", "xx_YY"], "locale"),
        (["--logo", str(tmp_path / "none.png")], "does not exist"),
        (["--font-regular", str(tmp_path / "none.ttf")], "does not exist"),
        (["--footer", "{{ broken"], "Jinja2"),
    ]:
        out = jet("realm", "brand", "acme", *args, code=1)
        assert message in out and "nothing changed" in out, out
        assert path.read_text() == before
