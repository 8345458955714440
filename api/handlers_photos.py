"""Doctor photos: admins upload or remove them; anyone may fetch them at /photos/<key>.

The upload body is the image itself. What it is comes from decoding the bytes
(booking.photos.sniff), never from the Content-Type header. Bytes go to the photo store
(a directory on the embedded default, a Cloud Storage bucket with PHOTO_BUCKET) before the
doctor points at them, so a doctor never shows a photo that is not stored.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from api import schemas as s
from api.handlers_doctors import invalidate_doctors
from api.present import doctor_out
from app.http.auth import requires
from app.http.errors import ApiError, not_found
from app.http.spec import endpoint, reply
from app.keys import SETTINGS, STORE
from booking.errors import NotFound
from booking.photos import (
    CACHE_CONTROL,
    KEY,
    PUBLIC_PREFIX,
    PhotoRejected,
    PhotoStorageUnavailable,
    PhotoStore,
    key_of,
    media_type_of,
    object_key,
    photo_store,
    public_url,
    sniff,
)

log = logging.getLogger(__name__)

PHOTOS = web.AppKey("photos", PhotoStore)
TAGS = ("doctors",)
STATUS = {"too_large": 413, "unsupported_media_type": 415, "invalid_image": 400}
CHUNK = 64 * 1024


def install(app: web.Application) -> None:
    """The photo store of this process (api role), from PHOTO_BUCKET / PHOTO_DIR."""
    settings = app[SETTINGS]
    app[PHOTOS] = photo_store(bucket=settings.photo_bucket, directory=settings.photo_dir,
                              api_endpoint=settings.storage_api_endpoint)
    app.on_cleanup.append(_close)


async def _close(app: web.Application) -> None:
    app[PHOTOS].close()


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"the photo is larger than {limit} bytes",
                    {"max_bytes": limit})


async def _read_limited(request: web.Request, limit: int) -> bytes:
    """The body, refused as soon as it passes the limit (the app's 256 KB JSON limit does
    not apply: photos are larger)."""
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(CHUNK):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _unavailable() -> ApiError:
    return ApiError(503, "photo_storage_unavailable", "photo storage is unavailable; try again")


@requires("admin")
@endpoint("Upload a doctor's photo. The body is the image itself (JPEG, PNG or WebP, at most "
          "PHOTO_MAX_BYTES, 2 MB by default); its type is read from the bytes, not from "
          "Content-Type. Replaces the previous photo.", tags=TAGS,
          responses={200: s.DoctorOut, 400: s.ErrorOut, 404: s.ErrorOut, 413: s.ErrorOut,
                     415: s.ErrorOut, 503: s.ErrorOut})
async def put_photo(request: web.Request) -> web.Response:
    doctor_id = request.match_info["doctor_id"]
    store = request.config_dict[STORE]
    photos = request.config_dict[PHOTOS]
    await store.doctors.get(doctor_id)  # 404 before reading a body
    limit = request.config_dict[SETTINGS].photo_max_bytes
    data = await _read_limited(request, limit)
    try:
        photo = await asyncio.to_thread(sniff, data, max_bytes=limit)
    except PhotoRejected as exc:
        raise ApiError(STATUS[exc.code], exc.code, exc.message) from None
    key = object_key(doctor_id, photo)
    try:
        await photos.put(key, photo.data, photo.media_type)
    except PhotoStorageUnavailable:
        raise _unavailable() from None
    try:
        doctor, previous = await store.doctors.set_photo(doctor_id, public_url(key))
    except NotFound:
        await _forget(photos, key)  # the doctor was deleted meanwhile: no orphan object
        raise
    old = key_of(previous)
    if old and old != key:
        await _forget(photos, old)
    await invalidate_doctors(request)
    log.info("photo of doctor %s stored (%s, %dx%d, %d bytes)", doctor_id, photo.media_type,
             photo.width, photo.height, len(photo.data))
    return reply(doctor_out(doctor))


@requires("admin")
@endpoint("Remove a doctor's photo", tags=TAGS,
          responses={200: s.DoctorOut, 404: s.ErrorOut})
async def delete_photo(request: web.Request) -> web.Response:
    store = request.config_dict[STORE]
    doctor, previous = await store.doctors.set_photo(request.match_info["doctor_id"], None)
    key = key_of(previous)
    if key:
        await _forget(request.config_dict[PHOTOS], key)
    await invalidate_doctors(request)
    return reply(doctor_out(doctor))


async def _forget(photos: PhotoStore, key: str) -> None:
    """Delete an object nobody points at; a failure leaves an orphan, never an error."""
    try:
        await photos.delete(key)
    except PhotoStorageUnavailable:
        log.warning("photo %s could not be deleted (storage unavailable); left behind", key)


async def get_photo(request: web.Request) -> web.Response:
    """A stored photo (public, like the doctor directory). Content-addressed: cached a year."""
    key = request.match_info["key"]
    if not KEY.match(key):
        raise not_found("photo not found")
    try:
        data = await request.config_dict[PHOTOS].get(key)
    except PhotoStorageUnavailable:
        raise _unavailable() from None
    if data is None:
        raise not_found("photo not found")
    etag = '"' + key.rsplit("/", 1)[1].split(".", 1)[0] + '"'
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers={"ETag": etag, "Cache-Control": CACHE_CONTROL})
    return web.Response(body=data, content_type=media_type_of(key),
                        headers={"Cache-Control": CACHE_CONTROL, "ETag": etag})


PHOTO_ROUTE = PUBLIC_PREFIX + "{key:.+}"
