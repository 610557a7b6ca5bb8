"""Settings: defaults < ``config.toml`` < ``PMTUI_*`` environment variables < command-line flags.

Every field carries an attribute docstring; ``docs/configuration.md`` is generated from them. Secrets
never live in the model: :func:`resolve_secret` finds them in the environment first, then the OS
keyring, then the config file only if no one but its owner can read it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, field_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from pmtui import paths
from pmtui.errors import ConfigError
from pmtui.models import ConflictPolicy, Service, Status

ENV_PREFIX = "PMTUI_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ServiceSettings(_Section):
    """What every service section has."""

    enabled: bool | None = None
    """Use this service. Unset: enabled when a key is found for it."""
    base_url: str = ""
    """API root; point it at `pmtui sandbox serve` to use the emulators."""
    requests_per_minute: float | None = Field(default=None, gt=0)
    """Override the request budget pmtui keeps to (default: the service's published limit)."""
    timeout_seconds: float = Field(default=30.0, gt=0)
    """How long one HTTP request may take before it counts as a transient failure."""
    api_key: SecretStr | None = None
    """Prefer the env var or the keyring; a key here is only read if the file is private (chmod 600)."""

    @field_validator("base_url")
    @classmethod
    def _url_shape(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL such as https://api.example.com")
        return value.rstrip("/")


class MotionSettings(ServiceSettings):
    """Motion: deadlines and scheduling."""

    base_url: str = "https://api.usemotion.com"
    """Motion API root (the client appends /v1)."""
    workspace_id: str | None = None
    """The workspace new tasks go to; `pmtui doctor` lists them."""
    default_duration_minutes: int = Field(default=30, gt=0)
    """Duration given to tasks created without one (Motion schedules by duration)."""
    auto_schedule: bool = True
    """Let Motion auto-schedule tasks pmtui creates (they then need a due date)."""
    scan_share: float = Field(default=0.5, gt=0, le=1)
    """Share of one minute's request budget a sync spends listing tasks (0.5 at 12/min: 6 pages of 50);
    a larger workspace is scanned over several syncs, and writes never wait behind the scan."""


class LinearSettings(ServiceSettings):
    """Linear: engineering issues."""

    base_url: str = "https://api.linear.app"
    """Linear API root (the client posts to /graphql)."""
    team_key: str | None = None
    """Team for new issues, by key (e.g. ENG); the first team if unset."""


class NotionProperties(_Section):
    """Names of the task data source's properties (checked against its schema at start)."""

    title: str = "Name"
    """Title property."""
    status: str = "Status"
    """Status property (status type)."""
    due: str = "Due"
    """Date property."""
    priority: str = "Priority"
    """Select property with Urgent/High/Medium/Low."""
    labels: str = "Tags"
    """Multi-select property."""
    project: str = "Project"
    """Relation to the projects data source."""
    description: str = "Description"
    """Rich text property."""
    key: str = "pmtui key"
    """Rich text property pmtui adds to keep its idempotency marker."""


class NotionSettings(ServiceSettings):
    """Notion: documentation tasks."""

    base_url: str = "https://api.notion.com"
    """Notion API root."""
    tasks_data_source_id: str | None = None
    """The data source (Notion 2025-09-03) that holds tasks."""
    projects_data_source_id: str | None = None
    """The data source that holds projects (target of the Project relation)."""
    properties: NotionProperties = Field(default_factory=NotionProperties)
    """Property names of the tasks data source."""


class GitLabSettings(ServiceSettings):
    """GitLab: code issues, milestones, merge requests."""

    base_url: str = "https://gitlab.com"
    """GitLab instance root (the client appends /api/v4)."""
    project: str | None = None
    """Project for new issues: numeric id or `group/name` path."""
    board: str | None = None
    """Issue board to follow, by name or numeric id: its lists become statuses and kanban columns.
    Unset: only the To Do/Doing/In Progress/Review labels carry status."""
    board_lists: dict[str, Status] = Field(default_factory=dict)
    """Board list (label) name -> status (todo, in_progress, done, canceled), over the built-in names
    (To Do, Backlog -> todo; Doing, In Progress, Review -> in_progress; Done -> done). Others: in_progress."""


class RoutingRule(_Section):
    """One routing rule: when every condition given matches, the action goes to ``service``."""

    service: Service
    """Destination."""
    kind: str | None = None
    """Match the task kind: engineering, documentation, code or general."""
    label: str | None = None
    """Match a label (case-insensitive)."""
    has_due: bool | None = None
    """Match tasks with (true) or without (false) a due date."""
    project: str | None = None
    """Match a project name (case-insensitive)."""


def _default_rules() -> list[RoutingRule]:
    return [
        RoutingRule(service=Service.LINEAR, kind="engineering"),
        RoutingRule(service=Service.NOTION, kind="documentation"),
        RoutingRule(service=Service.GITLAB, kind="code"),
        RoutingRule(service=Service.MOTION, has_due=True),
    ]


class RoutingSettings(_Section):
    """How actions find their service (first matching rule wins; `@service` in a request wins over all)."""

    rules: list[RoutingRule] = Field(default_factory=_default_rules)
    """Ordered rules."""
    fallback: Service = Service.LOCAL
    """Where an action goes when no rule matches or the chosen service is unavailable."""


class SyncSettings(_Section):
    """The sync engine."""

    interval_seconds: int = Field(default=300, ge=10, le=86_400)
    """Pause between runs of `pmtui sync --watch` and the TUI's background sync."""
    conflict_policy: dict[str, ConflictPolicy] = Field(default_factory=dict)
    """Per field (title, status, due, ...): ask, prefer-local, prefer-remote or newest. Default: ask."""
    mass_deletion_share: float = Field(default=0.2, gt=0, le=1)
    """If more than this share of a service's tasks vanish in one sync, hold them for review."""
    comments_per_sync: int = Field(default=10, ge=0, le=10000)
    """Read the comments of at most this many changed tasks per sync and service (the rest are read by
    the next syncs; opening a task reads its comments at once): a busy sync never spends the service's
    budget on one comment request per changed task."""
    reconcile_minutes: int = Field(default=60, ge=0, le=60 * 24 * 7)
    """List every task of GitLab, Notion and Linear this often (their change listings never report a
    deletion), so a task deleted there leaves the cache. Motion's full scan checks on each complete pass."""
    flow_fields: list[str] = Field(
        default_factory=lambda: ["title", "status", "due", "due_all_day", "priority"]
    )
    """Fields that flow between services holding the same task (descriptions flow from the origin only)."""
    webhook_port: int | None = Field(default=None, ge=1, le=65535)
    """Serve the webhook receiver on this local port in `pmtui sync --watch`."""
    max_retry_after_seconds: float = Field(default=60, ge=0)
    """A service asking to wait longer than this is marked rate-limited for the round, not waited for."""


class MirrorSettings(_Section):
    """The Delta Lake mirror read by the Databricks notebooks."""

    enabled: bool = True
    """Mirror after syncs (see `every_minutes`)."""
    target: str | None = None
    """Folder, or s3:// abfss:// gs:// URI. Default: `mirror/` in the data folder."""
    storage_options: dict[str, str] = Field(default_factory=dict)
    """deltalake storage options; values of the form `env:NAME` are read from the environment."""
    every_minutes: int = Field(default=15, ge=0, le=60 * 24)
    """Mirror after a sync at most this often (0: after every sync); `pmtui mirror` runs it any time."""
    compact_after_files: int = Field(default=64, ge=2)
    """Compact a table once it has this many data files."""
    vacuum_retention_hours: int = Field(default=168, ge=0)
    """Files older than this are removed by vacuum."""


class AgentSettings(_Section):
    """The planner that turns requests into plans."""

    planner: Literal["rules", "llm"] = "rules"
    """`rules`: offline and instant. `llm`: litellm tool calling with `model`."""
    model: str | None = None
    """Any litellm model string, e.g. `openai/gpt-4o-mini`, `anthropic/claude-...`, `ollama_chat/llama3.1`
    (`ollama_chat/` uses Ollama's chat API with native tool calls)."""
    api_base: str | None = None
    """The model server's URL, for a local or self-hosted one: `http://localhost:11434` for Ollama,
    `http://host:port/v1` for an OpenAI-compatible server. Unset: the provider's own service."""
    timeout_seconds: float = Field(default=60.0, gt=0)
    """How long one model call may take."""


class UISettings(_Section):
    """The terminal app."""

    theme: str = "textual-dark"
    """A Textual theme name."""
    keymap: dict[str, str] = Field(default_factory=dict)
    """Binding id -> keys, e.g. `board.complete = "x,space"`."""
    views: dict[str, str] = Field(default_factory=dict)
    """Saved board views, name -> filter: `facet:value` words (status, service, label, due, sort) and
    free text, e.g. `mine = "status:open label:docs sort:priority"`; `v` on the board picks one."""


class Settings(BaseSettings):
    """Everything configurable. Build it with :func:`load_settings`, never as a module global."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    timezone: str | None = None
    """IANA time zone for "today" and due dates (e.g. Europe/Berlin). Default: the machine's."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Level of the JSON log file."""
    motion: MotionSettings = Field(default_factory=MotionSettings)
    """Motion."""
    linear: LinearSettings = Field(default_factory=LinearSettings)
    """Linear."""
    notion: NotionSettings = Field(default_factory=NotionSettings)
    """Notion."""
    gitlab: GitLabSettings = Field(default_factory=GitLabSettings)
    """GitLab."""
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    """Routing rules."""
    sync: SyncSettings = Field(default_factory=SyncSettings)
    """Sync."""
    mirror: MirrorSettings = Field(default_factory=MirrorSettings)
    """Delta mirror."""
    agent: AgentSettings = Field(default_factory=AgentSettings)
    """Planner."""
    ui: UISettings = Field(default_factory=UISettings)
    """Terminal app."""

    _source: Path | None = PrivateAttr(default=None)
    """The file these settings were read from (secrets in it are checked against its permissions)."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like Europe/Berlin") from exc
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # pydantic-settings' own TOML source, reading ``model_config["toml_file"]``: unset on this class
        # (defaults and the environment only), set on the per-file subclass :func:`load_settings` uses.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    def service(self, name: Service | str) -> ServiceSettings:
        """The section of one remote service."""
        section = getattr(self, Service(name).value, None)
        if not isinstance(section, ServiceSettings):
            raise KeyError(name)
        return section

    def tzinfo(self) -> Any:
        """The user's time zone as a ``tzinfo`` (the machine's local zone when unset)."""
        if self.timezone:
            return ZoneInfo(self.timezone)
        from datetime import datetime

        return datetime.now().astimezone().tzinfo


# ------------------------------------------------------------------------------------------- loading


def _find_line(text: str, section: tuple[str, ...], key: str) -> int | None:
    """The 1-based line of ``key`` inside ``[section]`` of a TOML text (best effort, for messages)."""
    current: tuple[str, ...] = ()
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    assign = re.compile(r"^\s*(\"?[\w .-]+\"?)\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        found = header.match(line)
        if found:
            current = tuple(part.strip().strip('"') for part in found.group(1).split("."))
            continue
        found = assign.match(line)
        if found:
            name = found.group(1).strip().strip('"')
            dotted = (*current, *name.split("."))
            if dotted[-1] == key and dotted[:-1] == section:
                return number
    return None


def _env_name(loc: tuple[str | int, ...]) -> str:
    return ENV_PREFIX + "__".join(str(part).upper() for part in loc)


@functools.cache
def _settings_from(path: Path) -> type[Settings]:
    """``Settings`` bound to one file: the TOML source reads ``toml_file`` from the class's config.

    pydantic-settings takes the file from the model config, not from the constructor, so each file gets
    its own (cached) subclass instead of a path smuggled through a mutable class attribute.
    """
    config = SettingsConfigDict(toml_file=path)
    return type("Settings", (Settings,), {"model_config": config, "__module__": __name__})


def _toml_error(exc: tomllib.TOMLDecodeError, path: Path) -> ConfigError:
    line = re.search(r"line (\d+)", str(exc))
    return ConfigError(
        f"not valid TOML ({exc})",
        file=str(path),
        line=int(line.group(1)) if line else None,
        hint="fix the syntax, or move the file away and run `pmtui config init`",
    )


def _read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The file's text and data (empty when it does not exist); ConfigError naming the line otherwise."""
    if not path.exists():
        return "", {}
    text = ""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
        return text, tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not UTF-8 text (byte {exc.object[exc.start]:#04x})",
            file=str(path),
            line=raw[: exc.start].count(b"\n") + 1,
            hint="save the file as UTF-8",
        ) from exc
    except RecursionError as exc:  # tomllib recurses once per nested array or inline table
        raise ConfigError(
            "values nested too deeply",
            file=str(path),
            line=_deepest_line(text),
            hint="a setting holds at most a list of tables; remove the extra brackets",
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc, path) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=str(path)) from exc


def load_settings(path: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Read the layered settings; raise :class:`ConfigError` naming the file, line and key on bad input."""
    path = (path or paths.config_file()).absolute()
    try:
        settings = _settings_from(path)(**(overrides or {}))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError, OSError):
        # The TOML source read the file and failed: read it again here for the message (file, line).
        _read_toml(path)
        raise
    except PydanticValidationError as exc:
        text, data = _read_toml(path)
        raise _config_error(exc, path, text, data, os.environ) from None
    settings._source = path
    return settings


def _deepest_line(text: str, limit: int = 50) -> int | None:
    """The first line where brackets and braces open more than ``limit`` deep (strings not parsed: a
    pointer for the error message, not a parser)."""
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        for char in line:
            depth += (char in "[{") - (char in "]}")
            if depth > limit:
                return number
    return None


def _config_error(
    exc: PydanticValidationError, path: Path, text: str, data: dict[str, Any], env: Any
) -> ConfigError:
    first = exc.errors()[0]
    loc = tuple(str(part) for part in first["loc"])
    env_name = _env_name(loc)
    dotted = ".".join(loc)
    problem = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
    if first["type"] == "extra_forbidden":
        parent: Any = Settings
        for part in loc[:-1]:
            annotation = (
                parent.model_fields[part].annotation if part in getattr(parent, "model_fields", {}) else None
            )
            parent = (
                annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
            )
            if parent is None:
                break
        if parent is not None:
            problem += f"; expected one of: {', '.join(sorted(parent.model_fields))}"
    value = first.get("input")
    shown = "" if first["type"] == "extra_forbidden" or isinstance(value, dict) else f" (got {value!r})"
    extra = f" (+{exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
    if env_name in env:
        return ConfigError(f"{problem}{shown}{extra}", key=env_name, hint=f"fix or unset {env_name}")
    node: Any = data
    in_file = True
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            in_file = False
            break
    if in_file or first["type"] == "extra_forbidden":
        line = _find_line(text, loc[:-1], loc[-1]) if loc else None
        return ConfigError(
            f"{problem}{shown}{extra}",
            file=str(path),
            key=dotted,
            line=line,
            hint="fix that line; every key and its type: docs/configuration.md or `pmtui config reference`",
        )
    return ConfigError(f"{problem}{shown}{extra}", key=dotted)


# ------------------------------------------------------------------------------------------- secrets

SECRET_ENV = {
    Service.MOTION: "PMTUI_MOTION_API_KEY",
    Service.LINEAR: "PMTUI_LINEAR_API_KEY",
    Service.NOTION: "PMTUI_NOTION_API_KEY",
    Service.GITLAB: "PMTUI_GITLAB_API_KEY",
}
"""The environment variable that holds each service's key (read before the keyring)."""

KEYRING_SERVICE = "pmtui"


@dataclass(frozen=True)
class Secret:
    """A service key and where it was found (never the key itself in ``source``)."""

    value: SecretStr
    source: str


def resolve_secret(settings: Settings, service: Service, *, path: Path | None = None) -> Secret | None:
    """The key for ``service``: env var, then keyring (if a backend exists), then a private config file."""
    env_name = SECRET_ENV[service]
    if os.environ.get(env_name):
        return Secret(SecretStr(os.environ[env_name]), f"env {env_name}")
    from_keyring = _keyring_get(service.value)
    if from_keyring:
        return Secret(SecretStr(from_keyring), "keyring")
    section = settings.service(service)
    if section.api_key is not None and section.api_key.get_secret_value():
        path = path or settings._source or paths.config_file()
        if not file_is_private(path):
            raise ConfigError(
                "holds an api_key but other users can read the file",
                file=str(path),
                key=f"{service.value}.api_key",
                hint=f"run `chmod 600 {path}`, or move the key to {env_name} or the keyring",
            )
        return Secret(section.api_key, "config file")
    return None


def file_is_private(path: Path) -> bool:
    """True if no one but the owner may read or write ``path``."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not mode & (stat.S_IRWXG | stat.S_IRWXO)


def _keyring_get(name: str) -> str | None:
    # Headless Linux has no keyring backend; that is normal, not an error (STACK.md).
    if os.environ.get("PMTUI_NO_KEYRING"):
        return None
    backend = _keyring()
    if backend is None:
        return None
    from keyring.errors import KeyringError

    try:
        value: str | None = backend.get_password(KEYRING_SERVICE, name)
    except (KeyringError, RuntimeError):
        return None
    return value


@functools.cache
def _keyring() -> Any | None:
    """This process's keyring backend, or None where there is none.

    Searched once per process, as keyring itself keeps its choice; skipped outright where
    :mod:`pmtui.keyring_memo` remembers that a search under the same conditions found none.
    """
    from pmtui import keyring_memo

    memo_key = keyring_memo.fingerprint()
    if keyring_memo.known_absent(memo_key):
        return None
    try:
        import keyring
        from keyring.errors import KeyringError

        backend = keyring.get_keyring()
    except (ImportError, KeyringError, RuntimeError):
        return None
    absent = type(backend).__module__ in keyring_memo.NO_BACKEND_MODULES
    keyring_memo.remember(memo_key, absent=absent)
    return None if absent else backend


def keyring_backend() -> str | None:
    """The OS keyring backend a fresh search finds (the memo forgotten first), or None if there is none.

    For `pmtui doctor`: it always searches afresh, so after installing or unlocking a keyring one doctor
    run is enough for every later command to use it.
    """
    from pmtui import keyring_memo

    keyring_memo.forget()
    _keyring.cache_clear()
    backend = _keyring()
    return None if backend is None else f"{type(backend).__module__}.{type(backend).__qualname__}"


def service_enabled(settings: Settings, service: Service) -> bool:
    """Enabled explicitly, or (when unset) because a key exists for it."""
    section = settings.service(service)
    if section.enabled is not None:
        return section.enabled
    try:
        return resolve_secret(settings, service) is not None
    except ConfigError:
        return False


def known_secrets(settings: Settings) -> list[str]:
    """Every configured secret value, for the log redaction filter."""
    values: list[str] = []
    for service in SECRET_ENV:
        try:
            secret = resolve_secret(settings, service)
        except ConfigError:
            secret = None
        if secret:
            values.append(secret.value.get_secret_value())
    return values


def save_routing_rule(settings: Settings, rule: RoutingRule, path: Path | None = None) -> Path:
    """Put ``rule`` first among the routing rules in the settings file (a user's override, remembered).

    A ``[[routing.rules]]`` entry in the file replaces the default rules, so when the file has none yet
    the current rules are written after the new one: routing stays as it was for everything else. The
    file is edited with tomlkit (comments and layout kept), the result is validated with the settings
    model, and only a valid document is written, atomically; otherwise ConfigError says why and the file
    is left exactly as it was.
    """
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    path = path or settings._source or paths.config_file()
    text, _ = _read_toml(path)
    try:
        document = tomlkit.parse(text)
        routing = document.setdefault("routing", tomlkit.table())
        rules = routing.get("rules")
        if rules is None:
            rules = tomlkit.aot()
            for item in settings.routing.rules:
                rules.append(_rule_table(item))
            routing["rules"] = rules
        if not isinstance(rules, list):
            raise ConfigError(
                "routing.rules must be an array of [[routing.rules]] tables",
                file=str(path),
                key="routing.rules",
                line=_find_line(text, ("routing",), "rules"),
            )
        rules.insert(0, _rule_table(rule))
        updated = tomlkit.dumps(document)
    except TOMLKitError as exc:
        raise ConfigError(f"cannot update: {exc}", file=str(path), key="routing.rules") from exc
    validate_document(updated, path)
    write_private(path, updated)
    return path


def _rule_table(rule: RoutingRule) -> Any:
    import tomlkit

    table = tomlkit.table()
    for key, value in rule.model_dump(mode="json").items():
        if value is not None:
            table[key] = value
    return table


def validate_document(text: str, path: Path) -> Settings:
    """``text`` as the settings file at ``path`` would load (with the environment), or ConfigError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc, path) from exc
    try:
        return Settings(**data)
    except PydanticValidationError as exc:
        raise _config_error(exc, path, text, data, os.environ) from None


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (temp file, fsync, rename), readable by the owner only.

    A crash at any point leaves either the old file or the new one, never half of one.
    """
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    with contextlib.suppress(OSError):  # the rename itself survives a power cut once the folder is synced
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


CONFIG_TEMPLATE = """\
# pmtui settings. Every key is optional; see docs/configuration.md for the full list.
# Keys (secrets) do not belong here: set PMTUI_MOTION_API_KEY, PMTUI_LINEAR_API_KEY,
# PMTUI_NOTION_API_KEY and PMTUI_GITLAB_API_KEY, or store them in the OS keyring
# (service "pmtui", user "motion" / "linear" / "notion" / "gitlab").

# timezone = "Europe/Berlin"

[motion]
# workspace_id = ""

[linear]
# team_key = "ENG"

[notion]
# tasks_data_source_id = ""
# projects_data_source_id = ""

[gitlab]
# base_url = "https://gitlab.com"
# project = "group/project"

[sync]
interval_seconds = 300

[agent]
planner = "rules"
# model = "openai/gpt-4o-mini"
"""


def write_template(path: Path | None = None, *, force: bool = False) -> Path:
    """Write a commented starter ``config.toml`` (mode 600); refuses to overwrite unless ``force``."""
    path = path or paths.config_file()
    if path.exists() and not force:
        raise ConfigError("already exists", file=str(path), hint="edit it, or pass --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CONFIG_TEMPLATE, encoding="utf-8")
    path.chmod(0o600)
    return path
