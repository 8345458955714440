"""A local stand-in for the Cloud Storage JSON API, enough for google-cloud-storage's
multipart upload, media download and object delete (what booking.photos uses).

It runs on 127.0.0.1 in a thread (the client is synchronous), keeps objects in memory and
records every request. `down = True` drops every connection unanswered (an outage).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

_UPLOAD = re.compile(r"^/upload/storage/v1/b/([^/]+)/o$")
_DOWNLOAD = re.compile(r"^/download/storage/v1/b/([^/]+)/o/(.+)$")
_OBJECT = re.compile(r"^/storage/v1/b/([^/]+)/o/(.+)$")


@dataclass
class StoredObject:
    data: bytes
    content_type: str
    cache_control: str | None
    generation: int


@dataclass
class FakeGcs:
    objects: dict[tuple[str, str], StoredObject] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    down: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    generation: int = 0

    def names(self, bucket: str) -> list[str]:
        return sorted(name for b, name in self.objects if b == bucket)

    def handle(self, method: str, target: str, headers: Any, body: bytes
               ) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(target)
        path, query = url.path, parse_qs(url.query)
        self.requests.append((method, path))
        if method == "POST" and (m := _UPLOAD.match(path)):
            if query.get("uploadType") != ["multipart"]:
                return _error(400, "only multipart uploads are implemented")
            return self._upload(m.group(1), headers.get("Content-Type", ""), body)
        if method == "GET" and (m := _DOWNLOAD.match(path)) and query.get("alt") == ["media"]:
            obj = self.objects.get((m.group(1), unquote(m.group(2))))
            if obj is None:
                return _error(404, "No such object")
            md5 = base64.b64encode(hashlib.md5(obj.data).digest()).decode()  # noqa: S324
            return 200, {"Content-Type": obj.content_type, "x-goog-hash": f"md5={md5}",
                         "x-goog-generation": str(obj.generation)}, obj.data
        if method == "DELETE" and (m := _OBJECT.match(path)):
            if self.objects.pop((m.group(1), unquote(m.group(2))), None) is None:
                return _error(404, "No such object")
            return 204, {}, b""
        return _error(404, f"not implemented: {method} {path}")

    def _upload(self, bucket: str, content_type: str, body: bytes
                ) -> tuple[int, dict[str, str], bytes]:
        boundary = re.search(r'boundary="?([^";]+)"?', content_type)
        if not content_type.startswith("multipart/related") or boundary is None:
            return _error(400, "expected multipart/related")
        parts = [p for p in body.split(b"--" + boundary.group(1).encode())
                 if p.strip() not in (b"", b"--")]
        if len(parts) != 2:
            return _error(400, "expected a metadata part and a media part")
        meta_head, _, meta_body = parts[0].partition(b"\r\n\r\n")
        media_head, _, media = parts[1].partition(b"\r\n\r\n")
        metadata = json.loads(meta_body.strip())
        media = media.removesuffix(b"\r\n")
        media_type = next((line.split(b":", 1)[1].strip().decode()
                           for line in media_head.split(b"\r\n")
                           if line.lower().startswith(b"content-type:")), "")
        self.generation += 1
        obj = StoredObject(media, metadata.get("contentType") or media_type,
                           metadata.get("cacheControl"), self.generation)
        self.objects[(bucket, metadata["name"])] = obj
        resource = {"kind": "storage#object", "bucket": bucket, "name": metadata["name"],
                    "size": str(len(media)), "contentType": obj.content_type,
                    "cacheControl": obj.cache_control, "generation": str(obj.generation)}
        return 200, {"Content-Type": "application/json"}, json.dumps(resource).encode()


def _error(status: int, message: str) -> tuple[int, dict[str, str], bytes]:
    body = {"error": {"code": status, "message": message, "errors": [{"message": message}]}}
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


class FakeGcsServer:
    """`with FakeGcsServer() as server:` serves `server.fake` at `server.url`."""

    def __init__(self) -> None:
        self.fake = FakeGcs()
        fake = self.fake

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                if fake.down:
                    self.close_connection = True  # no answer at all
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with fake.lock:
                    status, headers, payload = fake.handle(self.command, self.path,
                                                           self.headers, body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGcsServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
