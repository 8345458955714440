"""`python -m booking.keys`: the field-encryption keys.

    python -m booking.keys new [--id k2]      # a new key entry to put first in DATA_KEYS
    python -m booking.keys status             # which key id seals how many values
    python -m booking.keys rotate [--batch N] # re-seal everything with the first key

Reads MONGODB_URL, DATA_KEYS and DATA_INDEX_KEY (or their KLINIK_ forms) from the
environment. Rotation: put the new key first in DATA_KEYS (keep the old ones after it),
roll the app out, run `rotate` (resumable: run it again after a crash), then drop the old
key from DATA_KEYS. See docs/data-protection.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from booking.crypto import Keyring, KeyringError, new_key_b64


def _store(keyring: Keyring) -> object:
    from booking.store import MongoStore

    url = os.environ.get("KLINIK_MONGODB_URL") or os.environ.get("MONGODB_URL")
    if not url or url.startswith("mongomock://"):
        raise SystemExit("MONGODB_URL must name the database to work on")
    return MongoStore.from_url(url, keyring=keyring)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m booking.keys",
                                     description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    new = sub.add_parser("new", help="print a new key entry (and an index key)")
    new.add_argument("--id", default="k1", help="key id (letters, digits, - or _)")
    sub.add_parser("status", help="count sealed values per key id")
    rot = sub.add_parser("rotate", help="re-seal every value with the first key of DATA_KEYS")
    rot.add_argument("--batch", type=int, default=500)
    args = parser.parse_args(argv)

    if args.command == "new":
        print(f"DATA_KEYS entry:  {args.id}:{new_key_b64()}")  # noqa: T201
        print(f"DATA_INDEX_KEY:   {new_key_b64()}  (only for a new installation)")  # noqa: T201
        return 0
    try:
        keyring = Keyring.from_env()
    except KeyringError as exc:
        raise SystemExit(str(exc)) from None
    if keyring is None:
        raise SystemExit("DATA_KEYS and DATA_INDEX_KEY must be set (a throw-away key would "
                         "make the data unreadable)")
    from booking import store_keys
    from booking.store import MongoStore

    ms = _store(keyring)
    assert isinstance(ms, MongoStore)
    if args.command == "status":
        print(json.dumps(store_keys.key_usage(ms), indent=2))  # noqa: T201
        return 0
    report = store_keys.rotate(ms, batch=args.batch)
    print(json.dumps({"primary": keyring.primary, "scanned": report.scanned,  # noqa: T201
                      "resealed": report.resealed, "resumed": report.resumed}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
