"""`pmtui doctor`: one check per concern (config, folders, cache, each service), each with a fix."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from pmtui import paths
from pmtui.config import SECRET_ENV, Settings, load_settings, resolve_secret
from pmtui.errors import ConfigError, PmtuiError
from pmtui.models import Service

CheckStatus = Literal["ok", "warn", "fail", "off"]

SERVICE_SETUP = {
    Service.MOTION: "create a key in Motion > Settings > API, then `export PMTUI_MOTION_API_KEY=...`",
    Service.LINEAR: "create a personal API key in Linear > Settings > API, "
    "then `export PMTUI_LINEAR_API_KEY=...`",
    Service.NOTION: "create an internal integration at notion.so/my-integrations, share your tasks database "
    "with it, then `export PMTUI_NOTION_API_KEY=...` and set [notion] tasks_data_source_id",
    Service.GITLAB: "create a personal access token (scope `api`), then `export PMTUI_GITLAB_API_KEY=...` "
    "and set [gitlab] project",
}
"""How to configure each service, shown when it is not configured (docs/services/*.md has the detail)."""

SERVICE_IDS = {
    Service.MOTION: ("workspace_id",),
    Service.LINEAR: ("team_key",),
    Service.NOTION: ("tasks_data_source_id",),
    Service.GITLAB: ("project",),
}


@dataclass
class Check:
    """The outcome of one doctor check."""

    name: str
    status: CheckStatus
    detail: str
    hint: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def check_config() -> tuple[Check, Settings | None]:
    """Parse the settings file and the environment."""
    path = paths.config_file()
    try:
        settings = load_settings()
    except ConfigError as exc:
        return Check("config", "fail", str(exc), exc.hint), None
    if path.exists():
        return Check("config", "ok", f"{path} parsed"), settings
    return (
        Check(
            "config",
            "ok",
            f"no file at {path}; using defaults and PMTUI_* variables",
            "`pmtui config init` writes a commented starter file",
        ),
        settings,
    )


def check_folders() -> list[Check]:
    """Each pmtui folder exists or can be created, and is writable."""
    checks = []
    for label, folder in (
        ("data folder", paths.data_dir()),
        ("log folder", paths.log_dir()),
        ("cache folder", paths.cache_dir()),
    ):
        if _writable(folder):
            checks.append(Check(label, "ok", str(folder)))
        else:
            checks.append(
                Check(
                    label,
                    "fail",
                    f"{folder} is not writable",
                    "fix its permissions, or set PMTUI_HOME to a folder you own",
                )
            )
    return checks


def check_store() -> Check:
    """Open the cache (creating or migrating it) and count its rows."""
    from pmtui.core.store import Store, store_path

    path = store_path(paths.data_dir())
    try:
        with Store(path) as store:
            counts = store.table_counts()
            version = store.version()
    except PmtuiError as exc:
        return Check("cache", "fail", str(exc), exc.hint)
    return Check(
        "cache",
        "ok",
        f"{path} (schema {version}; {counts['tasks']} tasks, "
        f"{counts['journal']} journal steps, {counts['conflicts']} conflicts)",
    )


def check_service(settings: Settings, service: Service) -> Check:
    """Whether a service is configured: its key and the ids pmtui needs."""
    name = service.value
    section = settings.service(service)
    try:
        secret = resolve_secret(settings, service)
    except ConfigError as exc:
        return Check(name, "fail", str(exc), exc.hint)
    if section.enabled is False:
        return Check(name, "off", "disabled in the config", f"set [{name}] enabled = true to use it")
    if secret is None:
        return Check(name, "off", f"not configured (no {SECRET_ENV[service]})", SERVICE_SETUP[service])
    missing = [key for key in SERVICE_IDS[service] if not getattr(section, key, None)]
    detail = f"key from {secret.source}; {section.base_url}"
    if missing:
        return Check(
            name,
            "warn",
            f"{detail}; {', '.join(missing)} not set (the first one found is used)",
            f"set [{name}] {missing[0]} in {paths.config_file()}",
        )
    return Check(name, "ok", detail)


def run_checks() -> list[Check]:
    """Every check, in the order a user should fix them."""
    config_check, settings = check_config()
    checks = [config_check, *check_folders(), check_store()]
    if settings is not None:
        checks.extend(check_service(settings, service) for service in SECRET_ENV)
    return checks
