"""The enumerations of the canonical vocabulary: services, statuses, priorities, entity and step kinds.

A leaf of the stdlib only (no pydantic), so the instant commands (``pmtui briefing``) can name a service
or a priority without importing the model layer; :mod:`pmtui.models` re-exports every name.
"""

from __future__ import annotations

from enum import StrEnum


class Service(StrEnum):
    """Where a task can live."""

    MOTION = "motion"
    LINEAR = "linear"
    NOTION = "notion"
    GITLAB = "gitlab"
    LOCAL = "local"

    @property
    def label(self) -> str:
        """The service's name as its makers write it (GitLab, not Gitlab)."""
        return _SERVICE_LABELS[self]


_SERVICE_LABELS = {
    Service.MOTION: "Motion",
    Service.LINEAR: "Linear",
    Service.NOTION: "Notion",
    Service.GITLAB: "GitLab",
    Service.LOCAL: "Local",
}

REMOTE_SERVICES: tuple[Service, ...] = (Service.MOTION, Service.LINEAR, Service.NOTION, Service.GITLAB)


class Status(StrEnum):
    """Canonical task status; each service maps its own states onto these four."""

    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELED = "canceled"

    @property
    def is_closed(self) -> bool:
        return self in (Status.DONE, Status.CANCELED)


class Priority(StrEnum):
    """Canonical priority, ordered from least to most pressing."""

    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """0 (none) to 4 (urgent), for sorting."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {
    Priority.NONE: 0,
    Priority.LOW: 1,
    Priority.MEDIUM: 2,
    Priority.HIGH: 3,
    Priority.URGENT: 4,
}


class EntityType(StrEnum):
    TASK = "task"
    PROJECT = "project"
    MILESTONE = "milestone"
    COMMENT = "comment"


class JournalState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    COMPENSATED = "compensated"
