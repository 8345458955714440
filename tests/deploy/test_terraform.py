"""Terraform (formatting; the providers cannot be downloaded here, so `terraform validate`
does not run) and the consistency of Terraform, the manifests, Cloud Build and the app:
names that must match across them, checked from the parsed files."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from app.metrics import REGISTRY
from tests.deploy.conftest import DEPLOY, ROOT, named, of_kind, rendered, tool

TF = DEPLOY / "terraform"


def test_terraform_is_formatted() -> None:
    result = subprocess.run([tool("terraform"), "fmt", "-check", "-recursive", "-diff",
                             str(TF)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def plain(value: Any) -> Any:
    """python-hcl2 keeps HCL's quotes on strings and marks blocks: drop both."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@pytest.fixture(scope="module")
def tf() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in sorted(TF.glob("*.tf")):
        with path.open() as f:
            for block, items in plain(hcl2.load(f)).items():
                merged.setdefault(block, []).extend(items)
    return merged


def resources(tf: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: body for r in tf["resource"] for k, v in r.items() if k == kind
            for name, body in v.items()}


def locals_(tf: dict[str, Any]) -> dict[str, Any]:
    return {k: v for block in tf["locals"] for k, v in block.items()}


def test_one_google_service_account_per_kubernetes_one(tf: dict[str, Any]) -> None:
    roles = set(locals_(tf)["roles"])
    ksas = {sa["metadata"]["name"] for sa in of_kind(rendered("overlays/gke"), "ServiceAccount")}
    assert {f"klinik-{r}" for r in roles} | {"external-secrets-reader"} == ksas
    for sa in of_kind(rendered("overlays/gke"), "ServiceAccount"):
        gsa = sa["metadata"]["annotations"]["iam.gke.io/gcp-service-account"].split("@")[0]
        assert gsa == ("klinik-secrets" if sa["metadata"]["name"] == "external-secrets-reader"
                       else sa["metadata"]["name"])


def test_every_external_secret_exists_in_secret_manager(tf: dict[str, Any]) -> None:
    created = set(locals_(tf)["app_secrets"])
    wanted = {d["remoteRef"]["key"] for e in of_kind(rendered("overlays/gke"), "ExternalSecret")
              for d in e["spec"]["data"]}
    assert wanted == created


def test_config_env_keys_match_the_terraform_output(tf: dict[str, Any]) -> None:
    [output] = [o["k8s_config_env"] for o in tf["output"] if "k8s_config_env" in o]
    from_tf = {line.split("=", 1)[0].strip() for line in output["value"].splitlines()[1:]
               if "=" in line}
    committed = {line.split("=", 1)[0] for line in
                 (DEPLOY / "k8s/overlays/gke/config.env").read_text().splitlines()
                 if line and not line.startswith("#")}
    assert from_tf == committed


def test_the_buckets_and_addresses_the_manifests_name(tf: dict[str, Any]) -> None:
    assert resources(tf, "google_compute_global_address")["klinik"]["name"] == "klinik-ip"
    assert resources(tf, "google_compute_ssl_policy")["klinik"]["name"] == "klinik-modern-tls"
    objs = rendered("overlays/gke")
    [ingress] = of_kind(objs, "Ingress")
    assert ingress["metadata"]["annotations"][
        "kubernetes.io/ingress.global-static-ip-name"] == "klinik-ip"
    assert named(objs, "FrontendConfig", "klinik")["spec"]["sslPolicy"] == "klinik-modern-tls"
    redis = resources(tf, "google_redis_instance")["klinik"]
    assert redis["transit_encryption_mode"] == "SERVER_AUTHENTICATION"
    assert redis["auth_enabled"] is True
    backups = resources(tf, "google_storage_bucket")["backups"]
    assert backups["versioning"][0]["enabled"] is True and backups["lifecycle_rule"]
    cluster = resources(tf, "google_container_cluster")["klinik"]
    assert cluster["enable_autopilot"] is True and cluster["location"] == "${var.region}"
    [region] = [v["region"] for v in tf["variable"] if "region" in v]
    assert region["default"] == "asia-southeast2"


def test_alerts_watch_metrics_the_app_exports(tf: dict[str, Any]) -> None:
    alerts = locals_(tf)["alerts"]
    assert set(alerts) == {"uptime", "error_rate", "latency_p95", "outbox_backlog",
                           "dead_notifications", "open_handoffs"}
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"),
                "gauge": ("",)}
    exported = {m.name + suffix for m in REGISTRY.collect() for suffix in suffixes[m.type]}
    for name, (_, query, _, doc) in alerts.items():
        for metric in re.findall(r"\b(klinik_[a-z_]+)", query):
            if metric == "klinik_handoffs_open":  # from the handoff release (issue 15)
                continue
            assert metric in exported, f"{name}: {metric}"
        anchor = doc.rsplit("#", 1)[1].rstrip(".")
        assert f"### {anchor.replace('-', ' ')}" in (ROOT / "docs/deploy.md").read_text(
        ).lower(), f"{name}: no runbook section #{anchor}"


def test_cloud_build_tests_builds_pushes_deploys_and_smoke_tests() -> None:
    build = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())
    ids = [s["id"] for s in build["steps"]]
    assert ids == ["redis", "test", "build-app", "build-rasa", "push", "set-images", "deploy",
                   "smoke"]
    steps = {s["id"]: s for s in build["steps"]}
    assert "deploy/app.Dockerfile" in steps["build-app"]["args"]
    assert "deploy/rasa.Dockerfile" in steps["build-rasa"]["args"]
    assert "kubectl apply -k deploy/k8s/overlays/gke" in steps["deploy"]["args"][1]
    assert steps["set-images"]["dir"] == "deploy/k8s/overlays/gke"
    assert '"$base/metrics")" = 404' in steps["smoke"]["args"][1]


def test_nothing_secret_is_committed() -> None:
    tracked = subprocess.run(["git", "ls-files", "deploy"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    assert not [p for p in tracked if Path(p).name in ("compose.env", "secrets.env",
                                                       "terraform.tfvars")
                or ".tfstate" in p]
