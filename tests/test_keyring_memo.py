"""A machine without an OS keyring pays for keyring's backend search once, not in every command.

Real processes and the real keyring package: the "no backend" case is this machine's own (the child's
environment has no D-Bus session and no display), and the backend that holds a key is an ordinary
third-party keyring backend, loaded the way keyring documents (``PYTHON_KEYRING_BACKEND`` or
``keyringrc.cfg``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pmtui import keyring_memo

BACKEND_MODULE = '''
"""A file-backed keyring backend, as a user's own or a package's (keyrings.alt) would be."""
import json, os
from pathlib import Path
from keyring.backend import KeyringBackend

STORE = Path(os.environ["TEST_KEYRING_FILE"])


class FileKeyring(KeyringBackend):
    priority = 1

    def get_password(self, service, username):
        data = json.loads(STORE.read_text()) if STORE.exists() else {}
        return data.get(f"{service}/{username}")

    def set_password(self, service, username, password):
        data = json.loads(STORE.read_text()) if STORE.exists() else {}
        data[f"{service}/{username}"] = password
        STORE.write_text(json.dumps(data))

    def delete_password(self, service, username):
        raise NotImplementedError
'''

PROBE = """
import json, sys
from pmtui.config import load_settings, resolve_secret
from pmtui.models import Service
secret = resolve_secret(load_settings(), Service.NOTION)
print(json.dumps({
    "source": secret.source if secret else None,
    "value": secret.value.get_secret_value() if secret else None,
    "keyring_imported": "keyring" in sys.modules,
}))
"""

HEADLESS_DROP = ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY", "PYTHON_KEYRING_BACKEND")


@pytest.fixture
def headless(tmp_path: Path) -> dict[str, str]:
    """A child environment with no keyring backend: no session bus, no display, empty XDG folders."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k not in HEADLESS_DROP and not k.startswith("PMTUI_")}
    env.update(
        PMTUI_HOME=str(tmp_path / "home"),
        XDG_RUNTIME_DIR=str(runtime),
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        TEST_KEYRING_FILE=str(tmp_path / "keys.json"),
    )
    (tmp_path / "backends").mkdir()
    (tmp_path / "backends" / "filekeyring.py").write_text(BACKEND_MODULE, encoding="utf-8")
    (tmp_path / "keys.json").write_text(json.dumps({"pmtui/notion": "secret_from_the_keyring"}))
    return env


def _probe(env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _memo(env: dict[str, str]) -> Path:
    return Path(env["PMTUI_HOME"]) / "cache" / keyring_memo.MEMO_NAME


def test_a_machine_without_a_keyring_searches_once(headless: dict[str, str]) -> None:
    first = _probe(headless)
    assert first == {"source": None, "value": None, "keyring_imported": True}
    assert _memo(headless).exists()
    second = _probe(headless)
    assert second == {"source": None, "value": None, "keyring_imported": False}
    assert "secret" not in _memo(headless).read_text()


def test_a_backend_named_in_the_environment_is_found_despite_the_memo(
    headless: dict[str, str], tmp_path: Path
) -> None:
    _probe(headless)
    assert _memo(headless).exists()
    with_backend = {
        **headless,
        "PYTHON_KEYRING_BACKEND": "filekeyring.FileKeyring",
        "PYTHONPATH": str(tmp_path / "backends"),
    }
    found = _probe(with_backend)
    assert found["source"] == "keyring"
    assert found["value"] == "secret_from_the_keyring"
    assert not _memo(headless).exists()


def test_a_keyring_config_file_written_later_is_found_despite_the_memo(
    headless: dict[str, str], tmp_path: Path
) -> None:
    _probe(headless)
    assert _memo(headless).exists()
    rc = Path(headless["XDG_CONFIG_HOME"]) / "python_keyring" / "keyringrc.cfg"
    rc.parent.mkdir(parents=True)
    rc.write_text(
        f"[backend]\ndefault-keyring = filekeyring.FileKeyring\nkeyring-path = {tmp_path / 'backends'}\n",
        encoding="utf-8",
    )
    found = _probe(headless)
    assert (found["source"], found["value"]) == ("keyring", "secret_from_the_keyring")


def test_a_desktop_session_is_never_remembered(headless: dict[str, str], tmp_path: Path) -> None:
    # A bus address that leads nowhere: Secret Service is not reachable now, but a daemon could start
    # on that bus later without anything pmtui can see changing.
    session = {**headless, "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path / 'no-bus'}"}
    for _ in range(2):
        assert _probe(session) == {"source": None, "value": None, "keyring_imported": True}
        assert not _memo(session).exists()
    (Path(headless["XDG_RUNTIME_DIR"]) / "bus").touch()  # libdbus's fallback socket appears
    assert _probe(headless)["keyring_imported"] is True
    assert not _memo(headless).exists()


def test_the_environment_key_wins_without_asking_the_keyring(headless: dict[str, str]) -> None:
    result = _probe({**headless, "PMTUI_NOTION_API_KEY": "secret_from_env"})
    assert result == {
        "source": "env PMTUI_NOTION_API_KEY",
        "value": "secret_from_env",
        "keyring_imported": False,
    }
    assert not _memo(headless).exists()


@pytest.mark.parametrize(
    "name",
    ["PYTHON_KEYRING_BACKEND", "DISPLAY", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "HOME"],
)
def test_every_input_of_the_search_is_in_the_key(name: str, tmp_path: Path) -> None:
    base = {"HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    assert keyring_memo.fingerprint(base) != keyring_memo.fingerprint({**base, name: str(tmp_path / "other")})


def test_installing_a_package_changes_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.setattr(sys, "path", ["", str(site)])
    env = {"HOME": str(tmp_path)}
    before = keyring_memo.fingerprint(env)
    assert keyring_memo.fingerprint(env) == before
    (site / "keyrings.alt-5.0.dist-info").mkdir()
    os.utime(site, ns=(1, 1))  # another mtime whatever the file system's clock granularity
    assert keyring_memo.fingerprint(env) != before


def test_doctor_searches_afresh_and_names_what_it_found(headless: dict[str, str], tmp_path: Path) -> None:
    _probe(headless)
    memo = _memo(headless)
    stale = json.loads(memo.read_text())
    memo.write_text(json.dumps({"key": "0" * 64}))  # a memo from other inputs: doctor must not trust it
    doctor = [sys.executable, "-m", "pmtui.cli", "doctor", "--offline", "--json"]
    done = subprocess.run(doctor, env=headless, capture_output=True, text=True, timeout=120, check=False)
    checks = {check["name"]: check for check in json.loads(done.stdout)}
    assert checks["keyring"]["status"] == "off"
    assert "no OS keyring" in checks["keyring"]["detail"]
    assert json.loads(memo.read_text()) == stale  # the fresh search remembered this machine's answer
    env = {
        **headless,
        "PYTHON_KEYRING_BACKEND": "filekeyring.FileKeyring",
        "PYTHONPATH": str(tmp_path / "backends"),
    }
    done = subprocess.run(doctor, env=env, capture_output=True, text=True, timeout=120, check=False)
    checks = {check["name"]: check for check in json.loads(done.stdout)}
    assert checks["keyring"] == {
        "name": "keyring",
        "status": "ok",
        "detail": "filekeyring.FileKeyring",
        "hint": None,
    }
    assert checks["notion"]["detail"].startswith("key from keyring")
    assert not memo.exists()


def test_every_name_of_the_same_interpreter_shares_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `pmtui` starts bin/python3 and `python -m pmtui` bin/python: one interpreter, one answer.
    alias = tmp_path / "python"
    alias.symlink_to(os.path.realpath(sys.executable))
    env = {"HOME": str(tmp_path)}
    direct = keyring_memo.fingerprint(env)
    monkeypatch.setattr(sys, "executable", str(alias))
    assert keyring_memo.fingerprint(env) == direct
