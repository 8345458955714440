"""Dockerfiles (hadolint plus the rules the deployment relies on) and the compose stack
(`docker-compose config` plus its shape). The images themselves are built by Cloud Build:
no Docker daemon runs on the development machines."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from app.settings import REQUIRED_SECRETS
from tests.deploy.conftest import DEPLOY, ROOT, tool

DOCKERFILES = [DEPLOY / "app.Dockerfile", DEPLOY / "rasa.Dockerfile"]
SECRETISH = re.compile(r"(TOKEN|SECRET|PASSWORD|_KEYS?|MONGODB_URL|REDIS_URL)", re.I)


def hadolint() -> str:
    return shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint(dockerfile: Path) -> None:
    result = subprocess.run([hadolint(), "--failure-threshold", "info", str(dockerfile)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_rules(dockerfile: Path) -> None:
    parsed = DockerfileParser(path=str(dockerfile))
    args = {i["value"].split("=", 1)[0]: i["value"].split("=", 1)[1]
            for i in parsed.structure if i["instruction"] == "ARG" and "=" in i["value"]}
    stages = [i for i in parsed.structure if i["instruction"] == "FROM"]
    assert len(stages) >= 2, "multi-stage: build tools stay out of the runtime image"
    for stage in stages:
        image = stage["value"].split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
        assert re.fullmatch(r"[\w./-]+:\d+(\.\d+)+[\w.-]*", image), f"unpinned base {image}"
    final = parsed.structure[parsed.structure.index(stages[-1]):]
    users = [i["value"] for i in final if i["instruction"] == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "runs as root"
    assert any(i["instruction"] == "HEALTHCHECK" for i in final)
    for i in parsed.structure:
        if i["instruction"] in ("ENV", "ARG"):
            assert not SECRETISH.search(i["value"]), f"secret in a layer: {i['value']}"
        if i["instruction"] in ("COPY", "ADD"):
            assert not re.search(r"\.env\b|secrets?\b", i["value"]), i["value"]
            assert i["instruction"] != "ADD", "COPY, not ADD (no remote fetches in layers)"


def test_dockerignore_keeps_secrets_and_environments_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".venv-rasa", "*.env", "models", "tests",
            "deploy/compose.env"} <= ignored


# ---- compose ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`docker-compose config` (Debian's docker-compose) on a copy with the example env."""
    work = tmp_path_factory.mktemp("compose") / "deploy"
    shutil.copytree(DEPLOY, work, ignore=shutil.ignore_patterns("terraform", "compose.env"))
    shutil.copy(DEPLOY / "compose.env.example", work / "compose.env")
    result = subprocess.run([tool("docker-compose"), "-f", str(work / "compose.yaml"),
                             "config"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def test_compose_is_production_like(compose: dict[str, Any]) -> None:
    services = compose["services"]
    mongos = [s for s in services.values() if s.get("command", [""])[0:1] == ["mongod"]]
    assert len(mongos) == 3 and all("--replSet" in s["command"] for s in mongos)
    roles = {name: s["environment"].get("ROLES") for name, s in services.items()
             if s.get("image") == "klinik-app:local" and "environment" in s}
    assert sorted(r for r in roles.values() if r) == ["actions", "api,bot", "api,bot",
                                                      "scheduler"]
    rasa = [n for n, s in services.items() if s.get("image") == "klinik-rasa:local"]
    assert len(rasa) == 2
    for name in rasa:
        assert any("/etc/rasa/endpoints.yml" in str(v) for v in services[name]["volumes"])
    web = services["web-1"]["environment"]
    assert web["RASA_URLS"].split(",") == [f"http://{n}:5005" for n in sorted(rasa)]
    assert web["APP_ENV"] == "production"
    published = {n for n, s in services.items() if s.get("ports")}
    assert published == {"proxy", "mailpit", "wati-sandbox"}  # actions, Rasa, data: internal
    for service in services.values():
        for port in service.get("ports", []):  # "127.0.0.1:8080:8080" or the long form
            host = port.get("host_ip") if isinstance(port, dict) else port.split(":")[0]
            assert host == "127.0.0.1", port


def test_compose_file_holds_no_secret_values() -> None:
    raw = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for anchor in ("x-app", "x-rasa"):
        for key in raw[anchor].get("environment", {}):
            assert not SECRETISH.search(key), key
    example = dict(line.split("=", 1) for line in
                   (DEPLOY / "compose.env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    assert set(REQUIRED_SECRETS.values()) <= set(example)
    ignored = (ROOT / ".gitignore").read_text()
    assert "deploy/compose.env\n" in ignored
