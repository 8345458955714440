"""Kubernetes manifests: every overlay builds, passes the Kubernetes JSON schemas
(kubernetes-validate, bundled schemas, strict), and keeps the rules of docs/deploy.md."""

from __future__ import annotations

import copy
import re
from typing import Any

import kubernetes_validate
import pytest

from tests.deploy.conftest import (
    KUBERNETES_VERSION,
    OVERLAYS,
    named,
    of_kind,
    pod_specs,
    rendered,
)

# Custom resources of GKE and External Secrets: no bundled schema, checked by the rules here.
CRD_KINDS = {"BackendConfig", "FrontendConfig", "ManagedCertificate", "ExternalSecret",
             "SecretStore", "PodMonitoring"}
APP_ROLES = {"gateway": "bot", "api": "api", "actions": "actions", "scheduler": "scheduler"}
PUBLIC_PREFIXES = {"/whatsapp/webhook", "/auth", "/doctors", "/bookings", "/users", "/analytics",
                   "/admin", "/dashboard", "/docs", "/openapi.json", "/photos"}
SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|KEYS?|MONGODB_URL|REDIS_URL)$")


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(spec.get("initContainers", [])) + list(spec["containers"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_builds_and_passes_the_schemas(overlay: str) -> None:
    objs = rendered(overlay)
    assert objs
    unchecked = set()
    for obj in objs:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            unchecked.add(obj["kind"])
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message} at "
                        f"{'.'.join(map(str, exc.path))}")
    assert unchecked <= CRD_KINDS


def test_the_schema_check_catches_mistakes() -> None:
    """The validator is strict: a misspelt field or a wrong type fails."""
    deployment = copy.deepcopy(named(rendered("base"), "Deployment", "api"))
    deployment["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    deployment = copy.deepcopy(named(rendered("base"), "Deployment", "api"))
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "x"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_workload_is_probed_limited_and_unprivileged(overlay: str) -> None:
    objs = rendered(overlay)
    for name, spec in pod_specs(objs):
        pod_sc = spec.get("securityContext", {})
        assert pod_sc.get("runAsNonRoot") is True, name
        assert pod_sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
        assert spec.get("automountServiceAccountToken") is False, name
        for c in containers(spec):
            where = f"{name}/{c['name']}"
            res = c.get("resources", {})
            assert {"cpu", "memory"} <= set(res.get("requests", {})), where
            assert {"cpu", "memory"} <= set(res.get("limits", {})), where
            sc = c.get("securityContext", {})
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert sc.get("readOnlyRootFilesystem") is True, where
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not str(c["image"]).endswith(":latest") and ":" in c["image"], where
    for kind in ("Deployment", "StatefulSet"):
        for workload in of_kind(objs, kind):
            for c in workload["spec"]["template"]["spec"]["containers"]:
                assert "readinessProbe" in c and "livenessProbe" in c, workload["metadata"]
    for name, role in APP_ROLES.items():
        [c] = named(objs, "Deployment", name)["spec"]["template"]["spec"]["containers"]
        assert c["readinessProbe"]["httpGet"]["path"] == "/ready", name
        assert c["livenessProbe"]["httpGet"]["path"] == "/health", name
        assert {"name": "ROLES", "value": role} in c["env"], name


@pytest.mark.parametrize("overlay", ["base", "overlays/gke"])
def test_spread_across_zones_with_disruption_budgets(overlay: str) -> None:
    objs = rendered(overlay)
    budgets = [p["spec"]["selector"]["matchLabels"] for p in of_kind(objs, "PodDisruptionBudget")]
    for kind in ("Deployment", "StatefulSet"):
        for w in of_kind(objs, kind):
            labels = w["spec"]["template"]["metadata"]["labels"]
            keys = [t["topologyKey"] for t in
                    w["spec"]["template"]["spec"].get("topologySpreadConstraints", [])]
            assert "topology.kubernetes.io/zone" in keys, w["metadata"]["name"]
            assert any(all(labels.get(k) == v for k, v in sel.items()) for sel in budgets), \
                w["metadata"]["name"]
            assert w["spec"]["replicas"] >= 2, w["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_autoscaling_at_70_percent_cpu(overlay: str) -> None:
    objs = rendered(overlay)
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in
            of_kind(objs, "HorizontalPodAutoscaler")}
    assert set(hpas) == {"gateway", "api", "rasa"}
    assert hpas["rasa"]["spec"]["scaleTargetRef"]["kind"] == "StatefulSet"
    for hpa in hpas.values():
        [metric] = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
        assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_sticky_routing_to_rasa(overlay: str) -> None:
    """RASA_URLS names every replica the autoscaler may create, by its stable DNS name."""
    objs = rendered(overlay)
    rasa = named(objs, "StatefulSet", "rasa")
    headless = named(objs, "Service", rasa["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    max_replicas = named(objs, "HorizontalPodAutoscaler", "rasa")["spec"]["maxReplicas"]
    [config] = [c for c in of_kind(objs, "ConfigMap")
                if c["metadata"]["name"].startswith("klinik-config")]
    urls = config["data"]["RASA_URLS"].split(",")
    assert urls == [f"http://rasa-{i}.{headless['metadata']['name']}:5005"
                    for i in range(max_replicas)]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_actions_and_metrics_are_never_exposed(overlay: str) -> None:
    objs = rendered(overlay)
    for svc in of_kind(objs, "Service"):
        assert svc["spec"].get("type", "ClusterIP") == "ClusterIP", svc["metadata"]["name"]
        ports = {p["port"] for p in svc["spec"]["ports"]}
        if svc["metadata"]["name"] == "actions":
            assert ports == {5056}
        else:
            assert 5056 not in ports, svc["metadata"]["name"]
    services = {s["metadata"]["name"]: s for s in of_kind(objs, "Service")}
    for ingress in of_kind(objs, "Ingress"):
        assert "defaultBackend" not in ingress["spec"]
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert path["path"] in PUBLIC_PREFIXES, path["path"]
                assert backend["name"] in services and backend["name"] != "actions"
                assert backend["port"] == {"name": "http"}
                [port] = [p for p in services[backend["name"]]["spec"]["ports"]
                          if p["name"] == "http"]
                assert port["targetPort"] == "http"  # the pods' 8080, never 5056
    policies = {p["metadata"]["name"]: p["spec"] for p in of_kind(objs, "NetworkPolicy")}
    assert policies["default-deny-ingress"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    [rule] = policies["actions-from-rasa"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": {
        "app.kubernetes.io/component": "rasa"}}}]
    assert rule["ports"] == [{"port": 5056, "protocol": "TCP"}]
    [rule] = policies["rasa-from-gateway"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": {
        "app.kubernetes.io/component": "gateway"}}}]
    for name, spec in policies.items():  # nothing else opens the internal port to pods
        for rule in spec.get("ingress", []):
            if any(p["port"] == 5056 for p in rule.get("ports", [])):
                assert name in ("actions-from-rasa", "metrics-from-collectors"), name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_values_in_manifests(overlay: str) -> None:
    objs = rendered(overlay)
    assert of_kind(objs, "Secret") == []
    for cm in of_kind(objs, "ConfigMap"):
        for key in cm.get("data", {}):
            assert not SECRET_NAME.search(key), f"{cm['metadata']['name']}: {key}"
    for name, spec in pod_specs(objs):
        for c in containers(spec):
            for env in c.get("env", []):
                if SECRET_NAME.search(env["name"]):
                    assert "secretKeyRef" in env.get("valueFrom", {}), f"{name}: {env['name']}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_config_references_resolve(overlay: str) -> None:
    """Every configMapKeyRef names a key the rendered ConfigMap has (a missing key stops the
    pod at start); every secret key is one the deployment provides."""
    objs = rendered(overlay)
    maps = {c["metadata"]["name"]: c.get("data", {}) for c in of_kind(objs, "ConfigMap")}
    secret_keys = {"JWT_SECRET", "WATI_WEBHOOK_TOKEN", "WATI_API_TOKEN", "ACTIONS_TOKEN",
                   "RASA_TOKEN", "MONGODB_URL", "REDIS_URL", "RASA_REDIS_PASSWORD",
                   "SMTP_PASSWORD", "DATA_KEYS", "DATA_INDEX_KEY"}
    for external in of_kind(objs, "ExternalSecret"):
        if external["spec"]["target"]["name"] == "klinik-secrets":
            assert {d["secretKey"] for d in external["spec"]["data"]} == secret_keys
    for name, spec in pod_specs(objs):
        for c in containers(spec):
            for env in c.get("env", []):
                ref = env.get("valueFrom", {})
                if "configMapKeyRef" in ref and not ref["configMapKeyRef"].get("optional"):
                    cm = ref["configMapKeyRef"]
                    assert cm["key"] in maps[cm["name"]], f"{name}: {cm}"
                if "secretKeyRef" in ref:
                    assert ref["secretKeyRef"]["key"] in secret_keys, f"{name}: {env['name']}"


def test_gke_specifics() -> None:
    objs = rendered("overlays/gke")
    [ingress] = of_kind(objs, "Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["networking.gke.io/managed-certificates"] == "klinik"
    assert named(objs, "ManagedCertificate", "klinik")["spec"]["domains"] == [
        ingress["spec"]["rules"][0]["host"]]
    assert named(objs, "FrontendConfig", "klinik")["spec"]["redirectToHttps"]["enabled"]
    assert named(objs, "BackendConfig", "klinik-web")["spec"]["healthCheck"]["requestPath"] == \
        "/ready"
    assert named(objs, "BackendConfig", "klinik-photos")["spec"]["cdn"]["enabled"] is True
    for sa in of_kind(objs, "ServiceAccount"):
        gsa = sa["metadata"]["annotations"]["iam.gke.io/gcp-service-account"]
        assert re.fullmatch(r"klinik-[a-z]+@[a-z0-9-]+\.iam\.gserviceaccount\.com", gsa), gsa
    for w in of_kind(objs, "Deployment") + of_kind(objs, "StatefulSet"):
        spec = w["spec"]["template"]["spec"]
        assert {"name": "redis-ca", "secret": {"secretName": "klinik-redis-ca"}} in \
            spec["volumes"], w["metadata"]["name"]
        image = spec["containers"][0]["image"]
        assert image.startswith("asia-southeast2-docker.pkg.dev/"), image
    [store] = of_kind(objs, "SecretStore")
    assert store["spec"]["provider"]["gcpsm"]["projectID"] != "GCP_PROJECT"
    [monitor] = of_kind(objs, "PodMonitoring")
    assert monitor["spec"]["endpoints"] == [{"port": "internal", "path": "/metrics",
                                             "interval": "30s"}]
    backup = named(objs, "CronJob", "mongodb-backup")
    assert backup["spec"]["timeZone"] == "Asia/Jakarta"
    assert named(objs, "CronJob", "mongodb-restore")["spec"]["suspend"] is True
