"""The README is the contract: every setting a user can set is documented there, by its environment variable."""

from __future__ import annotations

import re
from pathlib import Path

from app.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)", README.read_text(encoding="utf-8")))
    variables = {name.upper() for name in Settings.model_fields}
    assert len(variables) > 40  # the settings really were read
    assert sorted(variables - documented) == []
