"""`python -m app.demo [--force]`: load the demo clinics into the configured store.

Refuses a configured (non-embedded) MongoDB without --force; in production mode the demo
accounts get no password (booking.demo.load with password_hash=None)."""

from __future__ import annotations

import argparse

from app.settings import load_settings
from booking import demo
from booking.passwords import hash_password
from booking.store import MongoStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true",
                        help="load into a configured (non-embedded) MongoDB too")
    args = parser.parse_args()
    settings = load_settings()
    url = settings.mongodb_url.get_secret_value() if settings.mongodb_url else None
    if url and not url.startswith("mongomock://") and not args.force:
        raise SystemExit("refusing to load demo data into a configured MongoDB without --force")
    if settings.data_protection_problems():  # a throw-away key would seal unreadable data
        raise SystemExit("refusing to load demo data in production mode without DATA_KEYS "
                         "and DATA_INDEX_KEY")
    store = MongoStore.from_url(url, keyring=settings.data_keyring())
    counts = demo.load(store, password_hash=hash_password(
        settings.demo_password.get_secret_value()) if settings.demo_accounts else None)
    print(counts)  # noqa: T201


if __name__ == "__main__":
    main()
