"""Model server pieces: ETag matching as Rasa uses it, the endpoints `models:` section, and
the base model bootstrap."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from booking.store import Store
from bot import rasa_endpoints
from bot.retrain.model_server import bootstrap, etag_of, matches


def test_etag_matching() -> None:
    tag = etag_of("abc123")
    assert tag == '"abc123"'
    assert matches(tag, tag)                    # Rasa sends back exactly what it got
    assert matches("abc123", tag) and matches('W/"abc123"', tag)
    assert matches('"zzz", "abc123"', tag) and matches("*", tag)
    assert not matches(None, tag) and not matches("", tag) and not matches('"abc12"', tag)
    # Rasa's first pull: a random fingerprint of its own
    assert not matches("5b3e8a0c1d2f4e6a8b0c2d4e6f8a0b1c", tag)


def test_endpoints_models_section() -> None:
    text = rasa_endpoints.render(None, model_server_url="http://127.0.0.1:5056/models/"
                                 "current.tar.gz", pull_seconds=7)
    data = yaml.safe_load(text)
    assert data["models"] == {"url": "http://127.0.0.1:5056/models/current.tar.gz",
                              "headers": {"Authorization": "Bearer ${ACTIONS_TOKEN}"},
                              "wait_time_between_pulls": 7}
    # a plain scalar, so Rasa expands the variable (it does not inside quotes)
    assert "    Authorization: Bearer ${ACTIONS_TOKEN}\n  wait_time_between_pulls" in text
    assert data["action_endpoint"]["url"] == "${ACTIONS_URL}"
    both = yaml.safe_load(rasa_endpoints.render("redis://127.0.0.1:6390/2",
                                                model_server_url="http://x/m.tar.gz"))
    assert both["tracker_store"]["port"] == 6390 and both["models"]["url"] == "http://x/m.tar.gz"
    assert "models" not in (yaml.safe_load(rasa_endpoints.render(None)) or {})
    with pytest.raises(ValueError):
        rasa_endpoints.render(None, model_server_url="file:///etc/passwd")
    with pytest.raises(ValueError):
        rasa_endpoints.render(None, model_server_url="http://x/m", pull_seconds=0)


async def test_bootstrap_serves_the_base_model_and_keeps_a_promoted_one(
        store: Store, tmp_path: Path) -> None:
    await store.ensure_indexes()
    assert await bootstrap(store, None) is None
    old, new = tmp_path / "old.tar.gz", tmp_path / "new.tar.gz"
    old.write_bytes(b"old model")
    new.write_bytes(b"new model")
    first = await bootstrap(store, str(old))
    assert first is not None and first.startswith("base-")
    assert await bootstrap(store, str(old)) == first            # idempotent
    second = await bootstrap(store, str(new))                   # the assistant changed
    assert second != first and (await store.nlu_models.serving() or {})["model_id"] == second
    # a promoted retrained model is not replaced by a new base model
    trained = tmp_path / "trained.tar.gz"
    trained.write_bytes(b"trained")
    model = await store.nlu_models.put_model("nlu-x", trained, {"gate": {"passed": True}})
    assert await store.nlu_models.set_serving(model, second, {"action": "promote", "by": "a",
                                                               "at": datetime.now(UTC)})
    newest = tmp_path / "newest.tar.gz"
    newest.write_bytes(b"newest")
    assert await bootstrap(store, str(newest)) == "nlu-x"
    assert await bootstrap(store, str(tmp_path / "missing.tar.gz")) == "nlu-x"
    audit = await store.nlu_models.audit_log()
    assert [a["action"] for a in audit] == ["promote", "bootstrap", "bootstrap"]
