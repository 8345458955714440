"""A local stand-in for the BigQuery REST API (v2), enough for google-cloud-bigquery's
dataset/table get/insert and tabledata.insertAll, with insertId de-duplication.

It runs on 127.0.0.1 in a thread (the client is synchronous) and records every request,
so tests can assert the schemas and rows the real client sent. Faults can be injected:
`fail_next_insert(...)` makes the next insertAll answer 500, before or after storing.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/bigquery/v2"
_DATASET = re.compile(rf"^{PREFIX}/projects/([^/]+)/datasets/([^/]+)$")
_DATASETS = re.compile(rf"^{PREFIX}/projects/([^/]+)/datasets$")
_TABLE = re.compile(rf"^{PREFIX}/projects/([^/]+)/datasets/([^/]+)/tables/([^/]+)$")
_TABLES = re.compile(rf"^{PREFIX}/projects/([^/]+)/datasets/([^/]+)/tables$")
_INSERT = re.compile(rf"^{PREFIX}/projects/([^/]+)/datasets/([^/]+)/tables/([^/]+)/insertAll$")


@dataclass
class Fault:
    status: int = 500
    after_store: bool = False   # True: rows are stored, then the answer is lost (an error)
    times: int = 1


@dataclass
class FakeBigQuery:
    datasets: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    tables: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    rows: dict[tuple[str, str, str], list[dict[str, Any]]] = field(default_factory=dict)
    seen_ids: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next_insert(self, *, after_store: bool, times: int = 1, status: int = 500) -> None:
        self.faults.append(Fault(status=status, after_store=after_store, times=times))

    def table_rows(self, project: str, dataset: str, table: str) -> list[dict[str, Any]]:
        return [r["json"] for r in self.rows.get((project, dataset, table), [])]

    def insert_ids(self, project: str, dataset: str, table: str) -> list[str]:
        return [r["insertId"] for r in self.rows.get((project, dataset, table), [])]

    # ---- request handling (called under the lock) -----------------------------------------
    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        self.requests.append((method, path, body))
        if m := _INSERT.match(path):
            if method == "POST":
                return self._insert_all(m.groups(), body)
        elif m := _TABLE.match(path):
            key = m.groups()
            if method == "GET":
                return (200, self.tables[key]) if key in self.tables else _not_found(
                    f"Table {key[0]}:{key[1]}.{key[2]}")
        elif m := _TABLES.match(path):
            if method == "POST":
                return self._create_table(m.groups(), body)
        elif m := _DATASET.match(path):
            key = m.groups()
            if method == "GET":
                return (200, self.datasets[key]) if key in self.datasets else _not_found(
                    f"Dataset {key[0]}:{key[1]}")
        elif (m := _DATASETS.match(path)) and method == "POST":
            project = m.group(1)
            ref = body["datasetReference"]
            key = (project, ref["datasetId"])
            if key in self.datasets:
                return _error(409, "duplicate", f"Already Exists: Dataset {key}")
            self.datasets[key] = {**body, "id": f"{project}:{ref['datasetId']}",
                                  "kind": "bigquery#dataset", "etag": "e1"}
            return 200, self.datasets[key]
        return _error(404, "notFound", f"fake bigquery: no route for {method} {path}")

    def _create_table(self, groups: tuple[str, ...], body: dict[str, Any]) -> tuple[int, Any]:
        project, dataset = groups
        if (project, dataset) not in self.datasets:
            return _not_found(f"Dataset {project}:{dataset}")
        table_id = body["tableReference"]["tableId"]
        key = (project, dataset, table_id)
        if key in self.tables:
            return _error(409, "duplicate", f"Already Exists: Table {key}")
        self.tables[key] = {**body, "kind": "bigquery#table", "etag": "t1",
                            "id": f"{project}:{dataset}.{table_id}", "type": "TABLE",
                            "creationTime": "1700000000000", "numRows": "0"}
        self.rows[key] = []
        self.seen_ids[key] = set()
        return 200, self.tables[key]

    def _insert_all(self, groups: tuple[str, ...], body: dict[str, Any]) -> tuple[int, Any]:
        key = (groups[0], groups[1], groups[2])
        if key not in self.tables:
            return _not_found(f"Table {key}")
        fault = self.faults[0] if self.faults else None
        if fault and not fault.after_store:
            self._spend(fault)
            return _error(fault.status, "backendError", "injected failure before storing")
        fields = {f["name"]: f for f in self.tables[key]["schema"]["fields"]}
        errors = []
        for i, row in enumerate(body.get("rows", [])):
            problem = _check_row(row.get("json", {}), fields)
            if problem:
                errors.append({"index": i, "errors": [{"reason": "invalid",
                                                       "message": problem}]})
        if errors:   # like BigQuery without skipInvalidRows: nothing of the request is stored
            return 200, {"kind": "bigquery#tableDataInsertAllResponse", "insertErrors": errors}
        for row in body.get("rows", []):
            insert_id = row.get("insertId")
            if insert_id and insert_id in self.seen_ids[key]:
                continue   # de-duplicated, as BigQuery does for a repeated insertId
            if insert_id:
                self.seen_ids[key].add(insert_id)
            self.rows[key].append(row)
        if fault and fault.after_store:
            self._spend(fault)
            return _error(fault.status, "backendError", "injected failure after storing")
        return 200, {"kind": "bigquery#tableDataInsertAllResponse"}

    def _spend(self, fault: Fault) -> None:
        fault.times -= 1
        if fault.times <= 0:
            self.faults.pop(0)


def _check_row(row: dict[str, Any], fields: dict[str, dict[str, Any]]) -> str | None:
    for name in row:
        if name not in fields:
            return f"no such field: {name}"
    for name, f in fields.items():
        if f.get("mode") == "REQUIRED" and row.get(name) is None:
            return f"missing required field: {name}"
        if f.get("mode") == "REPEATED" and name in row and not isinstance(row[name], list):
            return f"{name} must be an array"
    return None


def _error(status: int, reason: str, message: str) -> tuple[int, Any]:
    return status, {"error": {"code": status, "message": message,
                              "errors": [{"reason": reason, "message": message}]}}


def _not_found(what: str) -> tuple[int, Any]:
    return _error(404, "notFound", f"Not found: {what}")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        return

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        path = self.path.split("?", 1)[0]
        with self.server.fake.lock:
            status, payload = self.server.fake.handle(self.command, path, body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeBigQuery) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class FakeBigQueryServer:
    """Context manager: start on a free loopback port, stop and join on exit."""

    def __init__(self) -> None:
        self.fake = FakeBigQuery()
        self._server = _Server(self.fake)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeBigQueryServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
