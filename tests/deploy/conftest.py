"""Deployment artifacts (deploy/, cloudbuild.yaml), checked without a cluster, a Docker
daemon or a cloud account: kustomize builds, schema validation, the rules docs/deploy.md
promises, compose config, Dockerfile lint, Terraform formatting and consistency.
`make deploy-check` runs just these."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
OVERLAYS = ("base", "overlays/local", "overlays/gke")
KUBERNETES_VERSION = "1.31.0"  # GKE's regular channel at the time of writing


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is required for the deployment checks (see .ci/run)"
    return path


@functools.cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    """`kubectl kustomize <overlay>`: every object it renders."""
    out = subprocess.run([tool("kubectl"), "kustomize", str(K8S / overlay)], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    return tuple(d for d in yaml.safe_load_all(out) if d)


def of_kind(objs: tuple[dict[str, Any], ...], kind: str) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] == kind]


def named(objs: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    [obj] = [o for o in of_kind(objs, kind) if o["metadata"]["name"] == name]
    return obj


def pod_specs(objs: tuple[dict[str, Any], ...]) -> list[tuple[str, dict[str, Any]]]:
    """(workload name, pod spec) of every Deployment, StatefulSet and CronJob."""
    out = []
    for o in objs:
        if o["kind"] in ("Deployment", "StatefulSet"):
            out.append((o["metadata"]["name"], o["spec"]["template"]["spec"]))
        elif o["kind"] == "CronJob":
            out.append((o["metadata"]["name"],
                        o["spec"]["jobTemplate"]["spec"]["template"]["spec"]))
    return out
