"""Routing-rule saves: tomlkit keeps the user's comments and layout, and only a valid file is ever written."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from pmtui.config import RoutingRule, load_settings, save_routing_rule
from pmtui.errors import ConfigError
from pmtui.models import Service

COMMENTED = """\
# my settings: keep this comment
timezone = "Europe/Berlin"  # where I live

[sync]
interval_seconds = 120   # faster than the default

[[routing.rules]]
service = "linear"
kind = "engineering"   # engineers live in Linear
"""


def test_save_keeps_comments_and_layout_and_puts_the_rule_first(config_file: Path) -> None:
    config_file.write_text(COMMENTED, encoding="utf-8")
    settings = load_settings()
    save_routing_rule(settings, RoutingRule(service=Service.GITLAB, kind="engineering"))
    text = config_file.read_text(encoding="utf-8")
    for kept in ("# my settings: keep this comment", "# where I live", "interval_seconds = 120   # faster"):
        assert kept in text
    assert "# engineers live in Linear" in text
    rules = load_settings().routing.rules
    assert [(r.service, r.kind) for r in rules] == [
        (Service.GITLAB, "engineering"),
        (Service.LINEAR, "engineering"),
    ]


def test_save_into_a_file_without_rules_keeps_the_defaults_after_the_new_rule(config_file: Path) -> None:
    config_file.write_text("[sync]\ninterval_seconds = 60\n", encoding="utf-8")
    before = load_settings().routing.rules
    save_routing_rule(load_settings(), RoutingRule(service=Service.NOTION, label="docs"))
    after = load_settings().routing.rules
    assert after[0] == RoutingRule(service=Service.NOTION, label="docs")
    assert after[1:] == before
    assert load_settings().sync.interval_seconds == 60


def test_save_creates_a_private_file(config_file: Path) -> None:
    assert not config_file.exists()
    save_routing_rule(load_settings(), RoutingRule(service=Service.MOTION, has_due=True))
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    first = tomllib.loads(config_file.read_text())["routing"]["rules"][0]
    assert first == {"service": "motion", "has_due": True}
    assert not [p for p in config_file.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_save_that_would_be_invalid_is_refused_and_changes_no_byte(config_file: Path) -> None:
    config_file.write_text(COMMENTED, encoding="utf-8")
    settings = load_settings()
    # The file was edited after pmtui read it: an unknown key now sits in the rules.
    edited = COMMENTED + 'colour = "blue"\n'
    config_file.write_text(edited, encoding="utf-8")
    before = config_file.read_bytes()
    with pytest.raises(ConfigError) as caught:
        save_routing_rule(settings, RoutingRule(service=Service.GITLAB, kind="code"))
    assert "unknown key" in caught.value.message
    assert caught.value.key == "routing.rules.1.colour"
    assert config_file.read_bytes() == before


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
def test_an_invalid_rule_is_refused_and_changes_no_byte(config_file: Path) -> None:
    config_file.write_text(COMMENTED, encoding="utf-8")
    before = config_file.read_bytes()
    bogus = RoutingRule.model_construct(service="jira", kind="engineering")  # skips validation on purpose
    with pytest.raises(ConfigError) as caught:
        save_routing_rule(load_settings(), bogus)
    assert caught.value.key == "routing.rules.0.service"
    assert config_file.read_bytes() == before


def test_a_broken_file_is_refused_with_its_line_and_changes_no_byte(config_file: Path) -> None:
    config_file.write_text(COMMENTED, encoding="utf-8")
    settings = load_settings()
    config_file.write_text(COMMENTED + "[sync\n", encoding="utf-8")
    before = config_file.read_bytes()
    with pytest.raises(ConfigError) as caught:
        save_routing_rule(settings, RoutingRule(service=Service.GITLAB, kind="code"))
    assert caught.value.line == 10
    assert config_file.read_bytes() == before


def test_rules_that_are_not_a_table_array_are_refused(config_file: Path) -> None:
    config_file.write_text('[routing]\nfallback = "local"\n', encoding="utf-8")
    settings = load_settings()
    config_file.write_text("[routing]\nrules = 5\n", encoding="utf-8")
    before = config_file.read_bytes()
    with pytest.raises(ConfigError, match="array of"):
        save_routing_rule(settings, RoutingRule(service=Service.GITLAB, kind="code"))
    assert config_file.read_bytes() == before
