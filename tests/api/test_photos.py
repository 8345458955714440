"""Doctor photos: admin upload and removal, the type read from the bytes, limits, the public
photo path, and both stores: a local directory and Cloud Storage (a local server speaking
its JSON API, driven by the real google-cloud-storage client)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from booking.photos import GCS_RETRY_SECONDS, KEY, PhotoRejected, key_of, object_key, sniff
from tests.api.conftest import Api
from tests.api.fake_gcs import FakeGcsServer

BUCKET = "klinik-photos-test"


def image(fmt: str, size: tuple[int, int] = (40, 30), color: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


PNG, JPEG, WEBP = image("PNG"), image("JPEG", color="navy"), image("WEBP", color="olive")


@pytest.fixture
def settings_overrides(tmp_path: Path) -> dict[str, Any]:
    return {"photo_dir": str(tmp_path / "photos"), "photo_max_bytes": 64 * 1024}


async def upload(api: Api, body: bytes, content_type: str = "image/png",
                 doctor_id: str = "doc-test-1", user: Any = None) -> Any:
    headers = api.headers(user or api.seed.admin)
    headers["Content-Type"] = content_type
    return await api.client.put(f"/doctors/{doctor_id}/photo", data=body, headers=headers)


def stored_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# ---- pure ------------------------------------------------------------------------------
def test_sniff_reads_the_type_from_the_bytes() -> None:
    assert (sniff(PNG, max_bytes=10**6).media_type, sniff(JPEG, max_bytes=10**6).media_type,
            sniff(WEBP, max_bytes=10**6).media_type) == ("image/png", "image/jpeg",
                                                         "image/webp")
    photo = sniff(PNG, max_bytes=10**6)
    assert (photo.width, photo.height) == (40, 30)
    key = object_key("doc-test-1", photo)
    assert KEY.match(key) and key.startswith("doctors/doc-test-1/") and key.endswith(".png")
    assert object_key("doc-test-1", photo) == key  # content-addressed
    assert object_key("weird/../id", photo).startswith("doctors/") and \
        "/../" not in object_key("weird/../id", photo)


@pytest.mark.parametrize(("body", "code"), [
    (b"", "invalid_image"),
    (b"hello, I am text pretending to be a PNG", "unsupported_media_type"),
    (image("GIF"), "unsupported_media_type"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     "unsupported_media_type"),
    (PNG[: len(PNG) // 2], "invalid_image"),
    (image("PNG", size=(400, 400)) + b"x" * 70_000, "too_large"),
])
def test_sniff_refuses(body: bytes, code: str) -> None:
    with pytest.raises(PhotoRejected) as info:
        sniff(body, max_bytes=64 * 1024)
    assert info.value.code == code


def test_key_of_accepts_only_our_paths() -> None:
    assert key_of("/photos/doctors/d1/" + "a" * 24 + ".png") == "doctors/d1/" + "a" * 24 + ".png"
    for url in (None, "", "https://evil.example/x.png", "/photos/../app/settings.py",
                "/photos/doctors/d1/" + "a" * 24 + ".svg", "/photos/doctors/../../x.png"):
        assert key_of(url) is None, url


# ---- local directory (the embedded default) ------------------------------------------
async def test_admin_uploads_and_everyone_sees_the_photo(api: Api, tmp_path: Path) -> None:
    listed = await (await api.client.get("/doctors")).json()  # fills the directory cache
    assert all(d["photo_url"] is None for d in listed["items"])
    resp = await upload(api, PNG, content_type="image/jpeg")  # the header lies; bytes win
    assert resp.status == 200, await resp.text()
    doctor = await resp.json()
    url = doctor["photo_url"]
    assert url.startswith("/photos/doctors/doc-test-1/") and url.endswith(".png")
    assert stored_files(tmp_path / "photos") == [url.removeprefix("/photos/")]

    got = await api.client.get(url)
    assert got.status == 200 and await got.read() == PNG
    assert got.headers["Content-Type"] == "image/png"
    assert got.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    again = await api.client.get(url, headers={"If-None-Match": got.headers["ETag"]})
    assert again.status == 304

    one = await (await api.client.get("/doctors/doc-test-1")).json()
    assert one["photo_url"] == url
    listed = await (await api.client.get("/doctors")).json()  # the cache was invalidated
    assert {d["id"]: d["photo_url"] for d in listed["items"]}["doc-test-1"] == url
    assert api.store.get_doctor("doc-test-1").photo_url == url


async def test_a_new_photo_replaces_the_old_one(api: Api, tmp_path: Path) -> None:
    first = (await (await upload(api, PNG)).json())["photo_url"]
    resp = await upload(api, JPEG, content_type="application/octet-stream")
    second = (await resp.json())["photo_url"]
    assert second.endswith(".jpg") and second != first
    assert stored_files(tmp_path / "photos") == [second.removeprefix("/photos/")]
    assert (await api.client.get(first)).status == 404
    assert await (await api.client.get(second)).read() == JPEG
    # the same bytes again: the same name, and the file is kept
    assert (await (await upload(api, JPEG)).json())["photo_url"] == second
    assert stored_files(tmp_path / "photos") == [second.removeprefix("/photos/")]


async def test_removing_the_photo(api: Api, tmp_path: Path) -> None:
    url = (await (await upload(api, WEBP)).json())["photo_url"]
    resp = await api.client.delete("/doctors/doc-test-1/photo",
                                   headers=api.headers(api.seed.admin))
    assert resp.status == 200 and (await resp.json())["photo_url"] is None
    assert stored_files(tmp_path / "photos") == []
    assert (await api.client.get(url)).status == 404
    assert api.store.get_doctor("doc-test-1").photo_url is None
    again = await api.client.delete("/doctors/doc-test-1/photo",
                                    headers=api.headers(api.seed.admin))
    assert again.status == 200


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"", 400, "invalid_image"),
    (b"GIF89a not really", 415, "unsupported_media_type"),
    (image("GIF"), 415, "unsupported_media_type"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", 415, "unsupported_media_type"),
    (PNG[:-20], 400, "invalid_image"),
    (b"\x89PNG" + b"\0" * (64 * 1024), 413, "too_large"),
])
async def test_bad_uploads_are_refused_and_nothing_changes(
        api: Api, tmp_path: Path, body: bytes, status: int, code: str) -> None:
    resp = await upload(api, body)
    assert resp.status == status, await resp.text()
    assert (await resp.json())["error"] == code
    assert api.store.get_doctor("doc-test-1").photo_url is None
    assert stored_files(tmp_path / "photos") == []


async def test_an_oversized_stream_without_length_is_cut_off(api: Api, tmp_path: Path) -> None:
    async def chunks() -> Any:
        yield PNG
        for _ in range(20):
            yield b"\0" * 8192

    headers = api.headers(api.seed.admin)
    resp = await api.client.put("/doctors/doc-test-1/photo", data=chunks(), headers=headers)
    assert resp.status == 413
    assert api.store.get_doctor("doc-test-1").photo_url is None


async def test_only_admins_change_photos(api: Api) -> None:
    seed = api.seed
    for user in (seed.patient, seed.doctor_user):
        assert (await upload(api, PNG, user=user)).status == 403
        resp = await api.client.delete("/doctors/doc-test-1/photo", headers=api.headers(user))
        assert resp.status == 403
    anonymous = await api.client.put("/doctors/doc-test-1/photo", data=PNG)
    assert anonymous.status == 401
    assert (await upload(api, PNG, doctor_id="no-such-doctor")).status == 404
    assert api.store.get_doctor("doc-test-1").photo_url is None


@pytest.mark.parametrize("path", [
    "/photos/../pyproject.toml", "/photos/doctors/doc-test-1/..%2F..%2Fx.png",
    "/photos/doctors/doc-test-1/" + "0" * 24 + ".png", "/photos/settings.py",
    "/photos/doctors/doc-test-1/" + "0" * 24 + ".svg"])
async def test_photo_path_serves_only_stored_photos(api: Api, path: str) -> None:
    assert (await api.client.get(path)).status == 404


async def test_the_dashboard_options_carry_the_photo(api: Api) -> None:
    url = (await (await upload(api, PNG)).json())["photo_url"]
    resp = await api.client.get("/analytics", params={"from": "2026-12-01", "to": "2026-12-07"},
                                headers=api.headers(api.seed.admin))
    assert resp.status == 200, await resp.text()
    doctors = {d["id"]: d for d in (await resp.json())["options"]["doctors"]}
    assert doctors["doc-test-1"]["photo_url"] == url
    assert doctors["doc-test-2"]["photo_url"] is None


# ---- Cloud Storage --------------------------------------------------------------------
@pytest.fixture
def gcs() -> Iterator[FakeGcsServer]:
    with FakeGcsServer() as server:
        yield server


@pytest.fixture
def gcs_api(gcs: FakeGcsServer, settings_overrides: dict[str, Any]) -> Iterator[None]:
    settings_overrides.update(photo_bucket=BUCKET, storage_api_endpoint=gcs.url)
    yield


@pytest.mark.usefixtures("gcs_api")
async def test_photos_in_a_cloud_storage_bucket(api: Api, gcs: FakeGcsServer,
                                                tmp_path: Path) -> None:
    first = (await (await upload(api, PNG)).json())["photo_url"]
    key = key_of(first)
    assert key is not None and gcs.fake.names(BUCKET) == [key]
    stored = gcs.fake.objects[(BUCKET, key)]
    assert stored.data == PNG and stored.content_type == "image/png"
    assert stored.cache_control == "public, max-age=31536000, immutable"
    assert not (tmp_path / "photos").exists()  # nothing on the local disk

    got = await api.client.get(first)
    assert got.status == 200 and await got.read() == PNG
    assert got.headers["Content-Type"] == "image/png"

    second = (await (await upload(api, JPEG)).json())["photo_url"]
    assert gcs.fake.names(BUCKET) == [key_of(second)]  # the old object was deleted
    assert (await api.client.get(first)).status == 404

    resp = await api.client.delete("/doctors/doc-test-1/photo",
                                   headers=api.headers(api.seed.admin))
    assert resp.status == 200 and gcs.fake.names(BUCKET) == []


@pytest.mark.usefixtures("gcs_api")
async def test_bucket_outage_is_a_clear_503_and_changes_nothing(
        api: Api, gcs: FakeGcsServer) -> None:
    url = (await (await upload(api, PNG)).json())["photo_url"]
    gcs.fake.down = True
    started = time.monotonic()
    resp = await upload(api, JPEG)
    assert resp.status == 503, await resp.text()
    assert (await resp.json())["error"] == "photo_storage_unavailable"
    assert api.store.get_doctor("doc-test-1").photo_url == url  # still the stored one
    assert (await api.client.get(url)).status == 503  # reads retry, then give up
    assert time.monotonic() - started < 3 * GCS_RETRY_SECONDS + 5
    gcs.fake.down = False
    assert await (await api.client.get(url)).read() == PNG
