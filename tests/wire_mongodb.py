"""A MongoDB wire-protocol server for the tests that need several OS processes on one
database (mongomock lives inside one process).

`MONGODB_URL` when set (a real MongoDB: every test of this kind runs); otherwise nx-27017, a
MongoDB wire-protocol server over SQLite from PyPI (a test-only dependency), started on a
free port for the session. nx-27017 0.8.1 lacks or mishandles some operators our store uses
(docs/scale-out.md lists them; `scripts/probe_wire_mongodb.py` checks them); a test that
needs one calls `wire_mongodb.skip_unless_real(reason)`: skipped on the stand-in with that
reason, run on a real MongoDB. Production code has no special case for the stand-in.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import mongo_standin
from tests.conftest import MONGODB_URL

STANDIN = mongo_standin.NAME


@dataclass(frozen=True)
class WireMongo:
    url: str
    standin: bool  # nx-27017, not a real MongoDB

    def skip_unless_real(self, reason: str) -> None:
        if self.standin:
            pytest.skip(f"{STANDIN} lacks it: {reason}")


@pytest.fixture(scope="session")
def wire_mongodb() -> Iterator[WireMongo]:
    if MONGODB_URL and not MONGODB_URL.startswith("mongomock://"):
        yield WireMongo(MONGODB_URL, standin=False)
        return
    workdir = Path(tempfile.mkdtemp(prefix="nx27017-"))
    try:
        proc, url = mongo_standin.start(workdir)
        try:
            yield WireMongo(url, standin=True)
        finally:
            mongo_standin.stop(proc)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
