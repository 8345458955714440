"""Doctor photos behind one small storage interface: a local directory (the embedded default)
or a Cloud Storage bucket (production, PHOTO_BUCKET).

The bytes are checked by decoding them (Pillow), never by the Content-Type a client sends:
only JPEG, PNG and WebP, within a byte and pixel budget. Objects are content-addressed (the
name carries a hash of the bytes), so a stored photo never changes: the app serves it with a
one-year immutable cache header and a CDN in front may keep it that long. A new photo is a
new name; the old object is deleted once the doctor points at the new one.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from PIL import Image, UnidentifiedImageError

# Pillow format -> (media type, file extension). Nothing else is accepted.
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"),
           "WEBP": ("image/webp", "webp")}
MEDIA_TYPES = {ext: media for media, ext in FORMATS.values()}
GCS_TIMEOUT_SECONDS = 10        # one HTTP call to Cloud Storage
GCS_RETRY_SECONDS = 3           # retries of a failed call (an admin or a page is waiting)
MAX_PIXELS = 25_000_000          # 5000 x 5000: a portrait needs far less; bombs need more
PUBLIC_PREFIX = "/photos/"        # where the app serves photos (api role, public listener)
CACHE_CONTROL = "public, max-age=31536000, immutable"
KEY = re.compile(r"^doctors/[A-Za-z0-9_-]{1,64}/[0-9a-f]{24}\.(jpg|png|webp)$")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
T = TypeVar("T")


class PhotoRejected(ValueError):
    """The upload is not a photo we keep; `code` says why (unsupported_media_type,
    invalid_image, too_large)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class PhotoStorageUnavailable(Exception):
    """The directory or bucket could not be read or written (retry later)."""


@dataclass(frozen=True)
class Photo:
    data: bytes
    media_type: str
    extension: str
    width: int
    height: int


def sniff(data: bytes, *, max_bytes: int) -> Photo:
    """Decode the bytes and say what they are (pure; CPU-bound for large images)."""
    if len(data) > max_bytes:
        raise PhotoRejected("too_large", f"the photo is larger than {max_bytes} bytes")
    if not data:
        raise PhotoRejected("invalid_image", "the body is empty: send the image bytes")
    try:
        with Image.open(io.BytesIO(data)) as img:
            kind, (width, height) = img.format, img.size
            if kind not in FORMATS:
                raise PhotoRejected("unsupported_media_type",
                                    f"{kind or 'this'} images are not accepted: "
                                    "send JPEG, PNG or WebP")
            if width * height > MAX_PIXELS:
                raise PhotoRejected("invalid_image",
                                    f"the image has more than {MAX_PIXELS} pixels")
            img.verify()  # structure and checksums (PNG chunks up to IEND)
        with Image.open(io.BytesIO(data)) as img:
            img.load()  # a full decode: a truncated or corrupt file fails here
    except PhotoRejected:
        raise
    except UnidentifiedImageError as exc:
        raise PhotoRejected("unsupported_media_type",
                            "the body is not an image: send JPEG, PNG or WebP") from exc
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoRejected("invalid_image", "the image cannot be decoded") from exc
    media_type, extension = FORMATS[kind]
    return Photo(data, media_type, extension, width, height)


def object_key(doctor_id: str, photo: Photo) -> str:
    """`doctors/<id>/<hash of the bytes>.<ext>` (ids with other characters are hashed)."""
    owner = doctor_id if _SAFE_ID.match(doctor_id) else \
        hashlib.sha256(doctor_id.encode()).hexdigest()[:32]
    digest = hashlib.sha256(photo.data).hexdigest()[:24]
    return f"doctors/{owner}/{digest}.{photo.extension}"


def public_url(key: str) -> str:
    return PUBLIC_PREFIX + key


def key_of(url: str | None) -> str | None:
    """The object key behind a doctor's photo_url, or None (no photo, or not ours)."""
    if not url or not url.startswith(PUBLIC_PREFIX):
        return None
    key = url[len(PUBLIC_PREFIX):]
    return key if KEY.match(key) else None


def media_type_of(key: str) -> str:
    return MEDIA_TYPES[key.rsplit(".", 1)[1]]


class PhotoStore(Protocol):
    """Where photo bytes live. Keys are checked against KEY before any call."""

    async def put(self, key: str, data: bytes, media_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...

    def close(self) -> None: ...


class LocalPhotoStore:
    """A directory (PHOTO_DIR): the embedded default and single-host installs."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        if not KEY.match(key):
            raise ValueError("not a photo key")
        return self.root / key

    def _write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)  # readers never see half a file

    def _read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def _delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    async def put(self, key: str, data: bytes, media_type: str) -> None:
        await _guarded(self._write, key, data)

    async def get(self, key: str) -> bytes | None:
        return await _guarded(self._read, key)

    async def delete(self, key: str) -> None:
        await _guarded(self._delete, key)

    def close(self) -> None:
        pass


class GcsPhotoStore:
    """A Cloud Storage bucket (PHOTO_BUCKET) through google-cloud-storage. On GKE the client
    finds its credentials through Workload Identity; with api_endpoint (an emulator or a
    test server) it calls anonymously."""

    def __init__(self, bucket: str, *, api_endpoint: str | None = None,
                 client: Any = None) -> None:
        from google.cloud import storage  # type: ignore[attr-defined,unused-ignore]

        if client is None:
            if api_endpoint:
                from google.auth.credentials import AnonymousCredentials

                client = storage.Client(project="local", credentials=AnonymousCredentials(),
                                        client_options={"api_endpoint": api_endpoint})
            else:
                client = storage.Client()  # application default credentials
        from google.cloud.storage.retry import DEFAULT_RETRY

        self.client = client
        self.bucket = client.bucket(bucket)
        # Uploads are content-addressed (same name, same bytes): safe to retry like reads.
        self.call = {"timeout": GCS_TIMEOUT_SECONDS,
                     "retry": DEFAULT_RETRY.with_timeout(GCS_RETRY_SECONDS)}

    def _blob(self, key: str) -> Any:
        if not KEY.match(key):
            raise ValueError("not a photo key")
        return self.bucket.blob(key)

    def _upload(self, key: str, data: bytes, media_type: str) -> None:
        blob = self._blob(key)
        blob.cache_control = CACHE_CONTROL
        blob.upload_from_string(data, content_type=media_type, **self.call)

    def _download(self, key: str) -> bytes | None:
        from google.api_core.exceptions import NotFound

        try:
            data: bytes = self._blob(key).download_as_bytes(**self.call)
        except NotFound:
            return None
        return data

    def _delete(self, key: str) -> None:
        from google.api_core.exceptions import NotFound

        try:
            self._blob(key).delete(**self.call)
        except NotFound:
            pass

    async def put(self, key: str, data: bytes, media_type: str) -> None:
        await _guarded(self._upload, key, data, media_type)

    async def get(self, key: str) -> bytes | None:
        return await _guarded(self._download, key)

    async def delete(self, key: str) -> None:
        await _guarded(self._delete, key)

    def close(self) -> None:
        self.client.close()  # its HTTP session


async def _guarded(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking storage call in a thread; its failures become PhotoStorageUnavailable.
    (OSError covers disks and the HTTP transport of google-cloud-storage, whose request
    errors derive from it; GoogleAPIError covers the API's own error answers.)"""
    try:
        return await asyncio.to_thread(fn, *args)
    except ValueError:
        raise
    except OSError as exc:
        raise PhotoStorageUnavailable(str(exc)) from exc
    except Exception as exc:
        if _is_google_error(exc):
            raise PhotoStorageUnavailable(type(exc).__name__) from exc
        raise


def _is_google_error(exc: Exception) -> bool:
    from google.api_core.exceptions import GoogleAPIError
    from google.auth.exceptions import GoogleAuthError

    return isinstance(exc, GoogleAPIError | GoogleAuthError)


def photo_store(*, bucket: str | None, directory: str,
                api_endpoint: str | None = None) -> PhotoStore:
    """PHOTO_BUCKET set: Cloud Storage; otherwise the local PHOTO_DIR."""
    if bucket:
        return GcsPhotoStore(bucket, api_endpoint=api_endpoint)
    return LocalPhotoStore(directory)
