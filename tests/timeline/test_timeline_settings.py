"""The settings this feature reads: CAPTURE_REACTION and POSTMORTEM_TEMPLATE."""

from __future__ import annotations

import pytest

from app.settings import SettingsError, load_settings


def test_the_capture_reaction_defaults_to_pushpin():
    assert load_settings().capture_reaction == "pushpin"


@pytest.mark.parametrize(("given", "kept"), [(":Bookmark:", "bookmark"), ("white_check_mark", "white_check_mark")])
def test_the_capture_reaction_is_kept_without_colons(given, kept):
    assert load_settings(capture_reaction=given).capture_reaction == kept


def test_a_capture_reaction_that_is_not_an_emoji_name_stops_start_up():
    with pytest.raises(SettingsError, match="CAPTURE_REACTION: 'push pin' is not an emoji name"):
        load_settings(capture_reaction="push pin")


def test_the_built_in_template_is_used_unless_told(monkeypatch):
    monkeypatch.setenv("POSTMORTEM_TEMPLATE", "")
    assert load_settings().postmortem_template is None


def test_a_postmortem_template_that_does_not_exist_stops_start_up(tmp_path):
    with pytest.raises(SettingsError, match="POSTMORTEM_TEMPLATE: .*missing.md.j2 is not a file"):
        load_settings(postmortem_template=tmp_path / "missing.md.j2")


def test_a_postmortem_template_file_is_accepted(tmp_path):
    path = tmp_path / "ours.md.j2"
    path.write_text("{{ pm.ref }}")
    assert load_settings(postmortem_template=str(path)).postmortem_template == path
