"""Rasa's endpoints file for a run: the project's endpoints.yml (the actions endpoint and its
token) plus a Redis tracker store and lock store when a Redis server is there, and the
`models:` section that makes Rasa pull the promoted model from the app's model server.

Conversations then survive a Rasa restart (a half-finished booking form continues) and are
shared by every replica. The tracker keys carry their own prefix and expire after 7 days of
silence. Without any Redis (no REDIS_URL and nothing on 127.0.0.1:6379) Rasa keeps them in
memory, as before. Used by scripts/run.sh and the tests that start Rasa:

    python -m bot.rasa_endpoints --out .run/endpoints.yml [--redis-url redis://...]
        [--model-server-url http://127.0.0.1:5056/models/current.tar.gz] [--pull-seconds 10]

Model server: every replica asks `url` every `wait_time_between_pulls` seconds with the
ETag of the model it runs (If-None-Match) and loads the model when the ETag changed (the
app answers 304 otherwise; bot/retrain/model_server.py). The bearer token is Rasa's
ACTIONS_TOKEN, expanded by Rasa from its environment and sent as a header (Rasa's
`token:` key would put it in the query string, i.e. in access logs). With a `models:`
section Rasa ignores `-m`: the model comes from the server only.
"""

from __future__ import annotations

import argparse
import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import yaml

ROOT = Path(__file__).resolve().parents[1]
TRACKER_PREFIX = "klinikrasa"  # Rasa accepts only alphanumeric prefixes
TRACKER_EXPIRY_S = 7 * 24 * 3600
LOCAL_REDIS = "redis://127.0.0.1:6379/0"
PASSWORD_ENV = "RASA_REDIS_PASSWORD"  # noqa: S105 - a variable name; Rasa expands it
TOKEN_ENV = "ACTIONS_TOKEN"  # noqa: S105 - a variable name; Rasa expands it
MODEL_PATH = "/models/current.tar.gz"


def redis_answers(url: str, timeout: float = 0.5) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379),
                                      timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def chosen_redis(explicit: str | None) -> str | None:
    """The given URL, else REDIS_URL, else a local server that answers; None: in memory."""
    for url in (explicit, os.environ.get("KLINIK_REDIS_URL"), os.environ.get("REDIS_URL")):
        if url:
            return url
    return LOCAL_REDIS if redis_answers(LOCAL_REDIS) else None


def redis_sections(url: str) -> dict[str, Any]:
    parsed = urlparse(url)
    common: dict[str, Any] = {"type": "redis", "url": parsed.hostname or "127.0.0.1",
                              "port": parsed.port or 6379,
                              "db": int((parsed.path or "/0").lstrip("/") or 0),
                              "key_prefix": TRACKER_PREFIX}
    if parsed.scheme == "rediss":
        common["use_ssl"] = True
    if parsed.username:
        common["username"] = unquote(parsed.username)
    if parsed.password:
        common["password"] = "${" + PASSWORD_ENV + "}"
    return {"tracker_store": {**common, "record_exp": TRACKER_EXPIRY_S},
            "lock_store": dict(common)}


def models_section(url: str, pull_seconds: int) -> dict[str, Any]:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"model server URL must be http(s): {url}")
    if not 1 <= pull_seconds <= 3600:
        raise ValueError("pull interval must be 1-3600 seconds")
    return {"models": {"url": url, "headers": {"Authorization": "Bearer ${" + TOKEN_ENV + "}"},
                       "wait_time_between_pulls": pull_seconds}}


def render(redis_url: str | None, base: Path = ROOT / "endpoints.yml", *,
           model_server_url: str | None = None, pull_seconds: int = 10) -> str:
    """The endpoints YAML; ${VAR} placeholders are kept for Rasa to expand."""
    text = base.read_text()
    sections: dict[str, Any] = {}
    if redis_url is not None:
        sections.update(redis_sections(redis_url))
    if model_server_url is not None:
        sections.update(models_section(model_server_url, pull_seconds))
    if not sections:
        return text
    extra = yaml.safe_dump(sections, sort_keys=False, width=200)
    # Rasa expands ${VAR} only in plain scalars: unquote the placeholder safe_dump quoted
    extra = extra.replace("'Bearer ${" + TOKEN_ENV + "}'", "Bearer ${" + TOKEN_ENV + "}")
    return text.rstrip() + "\n\n# Added for this run (bot/rasa_endpoints.py):\n" + extra


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--model-server-url", default=None,
                        help="the app's model server (internal listener)" + MODEL_PATH)
    parser.add_argument("--pull-seconds", type=int, default=int(
        os.environ.get("KLINIK_MODEL_PULL_SECONDS") or os.environ.get("MODEL_PULL_SECONDS")
        or 10), help="wait_time_between_pulls (default MODEL_PULL_SECONDS or 10)")
    args = parser.parse_args(argv)
    url = chosen_redis(args.redis_url)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(url, model_server_url=args.model_server_url,
                               pull_seconds=args.pull_seconds))
    if args.model_server_url:
        print(f"rasa pulls its model from {args.model_server_url} "  # noqa: T201
              f"every {args.pull_seconds} s")
    where = urlparse(url).hostname if url else None
    print(f"rasa conversations: {'redis on ' + str(where) if where else 'in memory'}")  # noqa: T201
    if url and urlparse(url).password:
        print(f"export {PASSWORD_ENV} for Rasa")  # noqa: T201


if __name__ == "__main__":
    main()
