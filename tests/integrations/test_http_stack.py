"""Which HTTP library each client library runs on: one stack (httpx) for gql, as for Motion and Notion."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


@pytest.mark.parametrize(
    ("httpx2_first", "service"), [(False, "LINEAR"), (True, "LINEAR"), (False, "GITLAB"), (True, "GITLAB")]
)
def test_gqls_transport_binds_httpx_and_httpx2_is_left_as_it_was(httpx2_first: bool, service: str) -> None:
    """gql picks httpx2 when it can import it; pmtui makes it take httpx, whichever service's module
    imports it first (python-gitlab imports it too, for its GraphQL client). httpx2 stays importable (or
    imported, as it was) for anything else in the process."""
    pytest.importorskip("httpx2")  # without it gql takes httpx anyway
    code = (
        "import sys\n" + ("import httpx2\n" if httpx2_first else "") + "before = sys.modules.get('httpx2')\n"
        "from pmtui.integrations import integration_class\n"
        "from pmtui.models import Service\n"
        f"integration_class(Service.{service})\n"
        "import gql.transport.httpx as transport\n"
        "print(transport.httpx.__name__)\n"
        "print(sys.modules.get('httpx2') is before)\n"
        "import httpx2\n"
        "print(httpx2.__name__)\n"
    )
    assert _run(code) == ["httpx", "True", "httpx2"]
