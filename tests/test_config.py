"""Settings layer correctly and fail with the file, the line and the key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pmtui.config import (
    SECRET_ENV,
    file_is_private,
    known_secrets,
    load_settings,
    resolve_secret,
    service_enabled,
    write_template,
)
from pmtui.errors import ConfigError
from pmtui.models import Service


def test_defaults_without_file(config_file: Path) -> None:
    settings = load_settings()
    assert settings.sync.interval_seconds == 300
    assert settings.agent.planner == "rules"
    assert [rule.service for rule in settings.routing.rules] == [
        Service.LINEAR,
        Service.NOTION,
        Service.GITLAB,
        Service.MOTION,
    ]
    assert settings.motion.base_url == "https://api.usemotion.com"


def test_layering_file_then_env_then_overrides(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_file.write_text('[sync]\ninterval_seconds = 120\n[agent]\nplanner = "llm"\nmodel = "m"\n')
    assert load_settings().sync.interval_seconds == 120
    monkeypatch.setenv("PMTUI_SYNC__INTERVAL_SECONDS", "60")
    settings = load_settings()
    assert settings.sync.interval_seconds == 60
    assert settings.agent.planner == "llm"
    assert load_settings(overrides={"sync": {"interval_seconds": 30}}).sync.interval_seconds == 30


def test_typo_key_names_file_line_and_key(config_file: Path) -> None:
    config_file.write_text('timezone = "UTC"\n\n[linear]\nteam_key = "ENG"\ntem_key = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings()
    error = caught.value
    assert error.exit_code == 2
    assert error.file == str(config_file)
    assert error.line == 5
    assert error.key == "linear.tem_key"
    assert "unknown key" in str(error)
    assert "team_key" in str(error)


def test_wrong_type_names_key_and_value(config_file: Path) -> None:
    config_file.write_text('[sync]\ninterval_seconds = "soon"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.key == "sync.interval_seconds"
    assert caught.value.line == 2
    assert "'soon'" in str(caught.value)


def test_bad_toml_syntax_names_the_line(config_file: Path) -> None:
    config_file.write_text("[sync]\ninterval_seconds = = 3\n")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.line == 2
    assert "not valid TOML" in str(caught.value)


def test_bad_env_var_is_named(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMTUI_SYNC__INTERVAL_SECONDS", "3")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.key == "PMTUI_SYNC__INTERVAL_SECONDS"


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('timezone = "Mars/Olympus"\n', "timezone"),
        ('[gitlab]\nbase_url = "gitlab.com"\n', "gitlab.base_url"),
        ('[[routing.rules]]\nservice = "jira"\n', "routing.rules.0.service"),
        ('[sync.conflict_policy]\ntitle = "coin-flip"\n', "sync.conflict_policy.title"),
        ("[motion]\nscan_share = 0\n", "motion.scan_share"),
        ("[motion]\nscan_share = 1.5\n", "motion.scan_share"),
    ],
)
def test_invalid_values(config_file: Path, toml: str, key: str) -> None:
    config_file.write_text(toml)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.key == key


def test_secret_from_env_first(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMTUI_LINEAR_API_KEY", "lin_api_env")
    settings = load_settings()
    secret = resolve_secret(settings, Service.LINEAR)
    assert secret is not None
    assert secret.value.get_secret_value() == "lin_api_env"
    assert secret.source == "env PMTUI_LINEAR_API_KEY"
    assert "lin_api_env" not in repr(secret)
    assert service_enabled(settings, Service.LINEAR)
    assert not service_enabled(settings, Service.MOTION)
    assert known_secrets(settings) == ["lin_api_env"]


def test_secret_in_file_requires_private_file(config_file: Path) -> None:
    config_file.write_text('[gitlab]\napi_key = "glpat-file"\n')
    config_file.chmod(0o644)
    settings = load_settings()
    assert "glpat-file" not in settings.model_dump_json()
    with pytest.raises(ConfigError, match="other users can read"):
        resolve_secret(settings, Service.GITLAB, path=config_file)
    config_file.chmod(0o600)
    assert file_is_private(config_file)
    secret = resolve_secret(settings, Service.GITLAB, path=config_file)
    assert secret is not None
    assert secret.source == "config file"


def test_every_service_has_a_secret_env_var() -> None:
    assert set(SECRET_ENV) == {Service.MOTION, Service.LINEAR, Service.NOTION, Service.GITLAB}


def test_template_is_valid_private_and_not_overwritten(config_file: Path) -> None:
    path = write_template(config_file)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_settings(path).sync.interval_seconds == 300
    with pytest.raises(ConfigError, match="already exists"):
        write_template(config_file)
    write_template(config_file, force=True)
    assert os.path.exists(path)
