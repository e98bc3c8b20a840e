"""The deployment files: the systemd unit passes ``systemd-analyze verify`` and holds the
hardening the deployment guide promises; the Dockerfile and compose file say what the guide
says (base image as a build argument, a non-root user, /data and /practice volumes, a health
check on /healthz, SIGTERM, polling by default, a webhook profile behind Caddy)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.storage import SCHEMA_VERSION

REPO = Path(__file__).resolve().parents[1]
UNIT = REPO / "deploy" / "triage-bot.service"
INSTALL = "/opt/triage-bot"


def unit_settings() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text("utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_the_unit_is_hardened_as_documented() -> None:
    unit = unit_settings()
    expected = {
        "User": "triage-bot", "WorkingDirectory": INSTALL,
        "EnvironmentFile": f"{INSTALL}/.env", "Restart": "on-failure",
        "ProtectSystem": "strict", "ReadWritePaths": f"{INSTALL}/data",
        "NoNewPrivileges": "yes", "PrivateTmp": "yes", "ProtectHome": "yes",
        "PrivateDevices": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "StandardOutput": "journal",
        "StandardError": "journal", "ExecStart": f"{INSTALL}/.venv/bin/triage-bot run",
    }  # fmt: skip
    for key, value in expected.items():
        assert unit.get(key) == [value], key


NO_SYSTEMD = "systemd-analyze is not installed here (it comes with systemd)"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason=NO_SYSTEMD)
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    # verify checks that ExecStart exists: lay out the install under tmp_path and point the
    # unit there, changing nothing else.
    root = tmp_path / INSTALL.lstrip("/")
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / "data").mkdir()
    executable = root / ".venv" / "bin" / "triage-bot"
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    unit = tmp_path / "triage-bot.service"
    unit.write_text(UNIT.read_text("utf-8").replace(INSTALL, str(root)), "utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # not even a warning


def test_the_dockerfile_and_compose_file_say_what_the_guide_says() -> None:
    dockerfile = (REPO / "Dockerfile").read_text("utf-8")
    assert "\nARG BASE_IMAGE=" in dockerfile.split("\nFROM ")[0]
    assert "FROM ${BASE_IMAGE}" in dockerfile
    assert "\nUSER triage-bot" in dockerfile
    assert 'VOLUME ["/data", "/practice"]' in dockerfile
    assert "HEALTH_PORT=8080" in dockerfile and "HEALTHCHECK" in dockerfile
    check = dockerfile.split("\nHEALTHCHECK", 1)[1].split("\n\n")[0]
    assert "deploy/healthcheck.py" in check
    assert "/healthz" in (REPO / "deploy" / "healthcheck.py").read_text("utf-8")
    assert "STOPSIGNAL SIGTERM" in dockerfile
    instructions = [line for line in dockerfile.splitlines() if not line.startswith("#")]
    assert not [line for line in instructions if "WEBHOOK_URL" in line]  # polling by default
    compose = yaml.safe_load((REPO / "compose.yaml").read_text("utf-8"))
    services = compose["services"]
    assert "profiles" not in services["bot"]  # the bot runs by default
    assert services["caddy"]["profiles"] == ["webhook"]
    # PostgreSQL and several bots only when asked for; one bot on SQLite by default.
    assert services["postgres"]["profiles"] == ["postgres"]
    assert "ports" not in services["postgres"]  # never published on the host
    assert services["bot"]["deploy"]["replicas"] == "${BOT_REPLICAS:-1}"
    caddyfile = (REPO / "deploy" / "Caddyfile").read_text("utf-8")
    assert "dynamic a bot 8443" in caddyfile  # every replica, looked up again and again
    assert any(str(v).startswith("/data") or ":/data" in str(v) for v in services["bot"]["volumes"])


def test_the_guides_sample_output_names_the_current_schema_version() -> None:
    # The samples of `triage-bot doctor` and of a refused downgrade show real numbers: they
    # must move with the schema, or an operator reads a version the bot never had.
    for guide in (REPO / "README.md", REPO / "docs" / "deploy.md"):
        text = guide.read_text("utf-8")
        shown = re.findall(r"✓ migrations: schema version (\d+), current", text)
        assert shown and set(shown) == {str(SCHEMA_VERSION)}, guide
    newer = re.findall(
        r"has schema version (\d+), but this version of the bot knows only\s+up to (\d+)",
        (REPO / "docs" / "deploy.md").read_text("utf-8"),
    )
    assert newer and set(newer) == {(str(SCHEMA_VERSION + 1), str(SCHEMA_VERSION))}


def test_the_guide_and_the_example_settings_run_the_practices_own_copy() -> None:
    # A copy made by `flows init` has the origin that `flows diff` and safety rule S7 need; a
    # plain copy of flows/sciatica.yaml has none.
    guide = (REPO / "docs" / "deploy.md").read_text("utf-8")
    assert "cp flows/" not in guide
    server = guide.split("\n## 3. The practice's flow\n", 1)[1].split("\n## ", 1)[0]
    assert "\ntb flows init\n" in server
    assert "FLOW_FILE=/opt/triage-bot/practice/sciatica.yaml" in guide
    container = guide.split("\n## Run it in a container\n", 1)[1].split("\n## ", 1)[0]
    assert "bot triage-bot flows init --to /copy" in container
    example = (REPO / ".env.example").read_text("utf-8")
    assert "\nFLOW_FILE=practice/sciatica.yaml\n" in example
