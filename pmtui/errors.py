"""The error vocabulary of pmtui: every failure a user can see is a :class:`PmtuiError`.

Errors carry what to do (``hint``), which service failed (``service``) and whether trying again can
help (``retriable``). They are raised ``from`` their cause and converted once, at the edge: a line and
an exit code in the CLI, a toast or status line in the TUI. A leaf module: stdlib only.
"""

from __future__ import annotations

from datetime import datetime


class PmtuiError(Exception):
    """Base of every error pmtui shows to a user.

    ``exit_code`` is what the CLI exits with when this error ends a command.
    """

    exit_code: int = 1

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        service: str | None = None,
        retriable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.service = service
        self.retriable = retriable

    def __str__(self) -> str:
        prefix = f"{self.service}: " if self.service else ""
        return f"{prefix}{self.message}"

    def user_text(self) -> str:
        """The message and its hint, as one or two lines for a terminal or a toast."""
        text = str(self)
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class ConfigError(PmtuiError):
    """The settings file or an environment variable holds something pmtui cannot use."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        key: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        where = ""
        if file:
            where = file + (f":{line}" if line else "")
        if key:
            where = f"{where}: {key}" if where else key
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.file = file
        self.key = key
        self.line = line


class UsageError(PmtuiError):
    """A command was called with arguments that do not fit together."""

    exit_code = 2


class StoreError(PmtuiError):
    """The local DuckDB cache cannot be opened or used."""

    exit_code = 4


class StoreLockedError(StoreError):
    """Another process holds the DuckDB file (DuckDB allows one read-write process per file)."""

    exit_code = 5

    def __init__(self, message: str, *, holder: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.holder = holder


class StoreSchemaError(StoreError):
    """The cache was written by a newer pmtui, or its schema is damaged."""


# ------------------------------------------------------------------------------------------ services


class ServiceError(PmtuiError):
    """A call to Motion, Linear, Notion or GitLab failed."""

    def __init__(
        self,
        message: str,
        *,
        service: str,
        hint: str | None = None,
        retriable: bool = False,
        status: int | None = None,
    ) -> None:
        super().__init__(message, hint=hint, service=service, retriable=retriable)
        self.status = status


class AuthError(ServiceError):
    """The service refused the credentials; the hint names the env var to set."""

    def __init__(self, message: str, *, service: str, env_var: str, status: int | None = None) -> None:
        super().__init__(
            message,
            service=service,
            status=status,
            hint=f"set {env_var} (or run `pmtui config init`) with a valid key, then `pmtui doctor`",
        )
        self.env_var = env_var


class NotFoundError(ServiceError):
    """The object does not exist on the service (deleted, or never created)."""


class ValidationError(ServiceError):
    """The service rejected the request's content; ``message`` is the service's own words."""


class RateLimitedError(ServiceError):
    """The service throttled us; ``retry_after`` is how long it asked us to wait, in seconds."""

    def __init__(self, message: str, *, service: str, retry_after: float | None = None) -> None:
        super().__init__(
            message,
            service=service,
            retriable=True,
            status=429,
            hint="pmtui waits and retries by itself; lower the sync interval if this repeats",
        )
        self.retry_after = retry_after
        self.until: datetime | None = None
        """Set when pmtui stopped waiting: the moment the service may be called again."""


class TransientError(ServiceError):
    """A failure that may pass: a timeout, a dropped connection, a 5xx. The outcome of a write is unknown."""

    def __init__(self, message: str, *, service: str, status: int | None = None) -> None:
        super().__init__(
            message,
            service=service,
            retriable=True,
            status=status,
            hint="the service or the network is having trouble; pmtui retries with backoff",
        )


class PermanentError(ServiceError):
    """A failure that will not pass by retrying (a 4xx that is not auth, throttling or validation)."""


class NotConfiguredError(ServiceError):
    """An action needs a service that has no credentials or ids configured."""


# ------------------------------------------------------------------------------------------ planning


class PlanError(PmtuiError):
    """A request could not be turned into a plan, or a plan failed validation."""

    def __init__(self, message: str, *, problems: list[str] | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems or []
