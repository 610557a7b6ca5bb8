"""`pmtui doctor`: one check per concern (config, folders, cache, each service), each with a fix."""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from pmtui import paths
from pmtui.config import SECRET_ENV, Settings, load_settings, resolve_secret
from pmtui.errors import ConfigError, PmtuiError
from pmtui.models import Service

log = logging.getLogger("pmtui.doctor")

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
        """The check as plain fields for `pmtui doctor --json`; ``hint`` is None when nothing needs fixing."""
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
    from pmtui.config import known_secrets
    from pmtui.logs import redaction_filter

    redaction_filter().add_secrets(known_secrets(settings))
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


def check_scan(settings: Settings) -> Check | None:
    """Motion's full scan spread over syncs: how far the pass is and when it completes (from the cache)."""
    from pmtui.core.scan import scan_progress
    from pmtui.core.store import Store, store_path

    path = store_path(paths.data_dir())
    if not path.exists():
        return None
    try:
        with Store(path) as store:
            progress = scan_progress(store, settings)
    except PmtuiError:
        return None  # check_store already reported why the cache cannot be opened
    if progress is None:
        return None
    return Check("motion scan", "ok", progress.line())


def check_service(settings: Settings, service: Service, *, online: bool = True) -> Check:
    """Whether a service is configured (its key and ids) and, ``online``, whether it answers."""
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
    if online:
        return _health_check(settings, service, detail, missing)
    if missing:
        return _missing_ids(name, detail, missing)
    return Check(name, "ok", detail)


def _missing_ids(name: str, detail: str, missing: list[str]) -> Check:
    return Check(
        name,
        "warn",
        f"{detail}; {', '.join(missing)} not set (the first one found is used)",
        f"set [{name}] {missing[0]} in {paths.config_file()}",
    )


def _health_check(settings: Settings, service: Service, detail: str, missing: list[str]) -> Check:
    """Ask the service itself: reachable, authenticated as whom, ids resolved, rate budget left."""
    from pmtui.integrations import build_integration

    name = service.value
    try:
        integration = build_integration(service, settings)
        try:
            health = integration.health()
        finally:
            integration.close()
    except PmtuiError as exc:
        return Check(name, "fail", f"{detail}; {exc.message}", exc.hint)
    except Exception as exc:
        log.info("doctor: %s health check crashed", name, exc_info=True)
        return Check(
            name,
            "fail",
            f"{detail}; unexpected {type(exc).__name__} (details in the log)",
            "please report it with the log file from `pmtui config path`",
        )
    parts = [f"as {health.account}" if health.account else None, health.detail]
    if health.ids:
        parts.append(", ".join(f"{k} {v}" for k, v in health.ids.items()))
    if health.rate_remaining is not None:
        # Whole requests: a refilling bucket reports fractions ("0.00042") that mean nothing to a person.
        budget = f"{int(health.rate_remaining)}"
        if health.rate_limit is not None:
            budget += f"/{health.rate_limit:g}"
        parts.append(f"rate budget {budget}")
    text = f"{settings.service(service).base_url}: " + "; ".join(p for p in parts if p)
    if not health.ok:
        return Check(name, "fail", text, health.hint)
    if missing:
        return _missing_ids(name, text, missing)
    return Check(name, "ok", text)


def check_keyring() -> Check:
    """Which OS keyring holds keys, searched afresh (a remembered "none" is forgotten first)."""
    if os.environ.get("PMTUI_NO_KEYRING"):
        return Check("keyring", "off", "skipped: PMTUI_NO_KEYRING is set")
    from pmtui.config import keyring_backend

    backend = keyring_backend()
    if backend is None:
        return Check(
            "keyring",
            "off",
            "no OS keyring on this machine",
            "keys come from the PMTUI_*_API_KEY variables or a private config file",
        )
    return Check("keyring", "ok", backend)


def run_checks(*, online: bool = True) -> list[Check]:
    """Every check, in the order a user should fix them; ``online`` also asks each configured service."""
    keyring = check_keyring()  # first: the secrets the config check resolves use its fresh search
    config_check, settings = check_config()
    checks = [config_check, keyring, *check_folders(), check_store()]
    scan = check_scan(settings) if settings is not None else None
    if scan is not None:
        checks.append(scan)
    if settings is not None:
        from concurrent.futures import ThreadPoolExecutor

        # Each service is asked in its own thread: Motion's 12/min budget alone spaces its calls 5 s apart.
        with ThreadPoolExecutor(max_workers=len(SECRET_ENV)) as pool:
            checks.extend(pool.map(lambda s: check_service(settings, s, online=online), SECRET_ENV))
    return checks
