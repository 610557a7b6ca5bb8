"""One module per service behind one interface (:mod:`pmtui.integrations.base`).

:func:`build_integration` imports a service's module only when that service is used, so the client
libraries (gql, python-gitlab, notion-client) stay off the start path of `pmtui briefing` and the TUI.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pmtui.errors import NotConfiguredError
from pmtui.kinds import Service

_IMPORT_LOCK = threading.Lock()
"""One service module's import at a time under the ``httpx2`` entry: a second would save the entry as
what to restore."""


@contextmanager
def _client_imports() -> Iterator[None]:
    """Around the import of a service module: the HTTP libraries its client library gets.

    - **httpx's command line stays out.** ``import httpx`` also imports ``httpx._main``, its ``httpx``
      shell command, which pulls in click, rich and pygments whenever they are installed (Typer
      installs them): about 0.1 s of CPU in every process that syncs, for a command pmtui never runs. A
      ``None`` entry in ``sys.modules`` makes that import fail, and httpx falls back to the stub it has
      for installs without its ``cli`` extra. The entry stays.
    - **gql's HTTP transport binds httpx, not httpx2.** ``gql.transport.httpx`` imports ``httpx2`` when
      it can and falls back to ``httpx``. httpx2 is a fork that litellm's MCP extra installs; nothing
      else pmtui runs uses it. Both the Linear module and python-gitlab (for its GraphQL client, to
      which it hands an ``httpx.Client``) import that transport, whichever service's thread comes first.
      Bound to httpx2, Linear alone ran on a second HTTP stack (0.02-0.04 s of CPU in each process that
      syncs it), trusted the OS store where Motion, Notion (httpx) and GitLab (requests) trust certifi
      or ``SSL_CERT_FILE``, and logged under a name ``pmtui sync -v`` did not show. A ``None`` entry
      makes that one import fail; it is removed right after, so httpx2 stays importable for anything
      else.
    """
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    if "gql.transport.httpx" in sys.modules:
        yield
        return
    with _IMPORT_LOCK:
        saved = sys.modules.get("httpx2")
        sys.modules["httpx2"] = None  # type: ignore[assignment]
        try:
            yield
        finally:
            if saved is None:
                sys.modules.pop("httpx2", None)
            else:
                sys.modules["httpx2"] = saved


if TYPE_CHECKING:
    from pmtui.config import Settings
    from pmtui.integrations.base import Integration
    from pmtui.models import Task

_CLASSES = {
    Service.MOTION: ("pmtui.integrations.motion", "MotionIntegration"),
    Service.LINEAR: ("pmtui.integrations.linear", "LinearIntegration"),
    Service.NOTION: ("pmtui.integrations.notion", "NotionIntegration"),
    Service.GITLAB: ("pmtui.integrations.gitlab", "GitLabIntegration"),
}


def integration_class(service: Service) -> type[Integration]:
    """The class implementing ``service`` (its module is imported now)."""
    module_name, class_name = _CLASSES[service]
    with _client_imports():
        module = importlib.import_module(module_name)
    return getattr(module, class_name)  # type: ignore[no-any-return]


def build_integration(
    service: Service, settings: Settings, *, lookup: Callable[[str], Task | None] | None = None
) -> Integration:
    """A ready integration for ``service`` from the settings, or :class:`NotConfiguredError` with the fix."""
    from pmtui.config import SECRET_ENV, resolve_secret

    if service is Service.LOCAL:
        from pmtui.integrations.local import LocalIntegration

        return LocalIntegration(lookup)
    secret = resolve_secret(settings, service)
    section = settings.service(service)
    if section.enabled is False:
        raise NotConfiguredError(
            f"{service.value} is disabled",
            service=service.value,
            hint=f"set [{service.value}] enabled = true",
        )
    if secret is None:
        raise NotConfiguredError(
            "no key configured",
            service=service.value,
            hint=f"set {SECRET_ENV[service]}, or store it in the keyring; `pmtui doctor` shows how",
        )
    cls = integration_class(service)
    return cls(section, secret.value.get_secret_value())  # type: ignore[call-arg]
