"""JWT access and refresh tokens, and role checks for aiohttp handlers.

Tokens are HS256 only (the algorithm is pinned: `none`, RS/HS confusion and any
other algorithm are refused), carry exp, iat, iss, aud, sub, role, typ, jti, the login
family (fam) and the user's token version (ver), and are checked with a small clock
leeway. Tokens are never logged. Beyond the signature, every access token is checked
against the revocation state in Redis (booking/token_revocations.py): logged out,
family revoked (logout, refresh-token reuse), or older than the user's token version
("log out everywhere", password change).
"""

from __future__ import annotations

import functools
import hmac
import logging
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jwt
from aiohttp import web

from app.http.errors import ApiError, forbidden, response_for, unauthorized
from app.keys import COORDINATOR, SETTINGS
from app.settings import Settings
from booking.errors import StoreUnavailable
from booking.models import Role, User
from booking.service import Actor
from booking.token_revocations import Revocations

log = logging.getLogger(__name__)

ALGORITHM = "HS256"
LEEWAY_S = 10              # tolerated clock skew between issuer and verifier
MAX_TOKEN_CHARS = 4096     # anything longer is not one of ours
ACCESS = "access"
REFRESH = "refresh"
EXPORT = "export"          # the data-export link e-mailed on a WhatsApp "data saya"
EXPORT_LINK_HOURS = 24
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "role", "typ", "jti", "fam", "ver"]
STATIC_ADMIN_ID = "static-admin-token"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Principal:
    """Who is calling, from a verified access token."""

    user_id: str
    role: Role
    doctor_id: str | None

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.role)


PRINCIPAL = web.RequestKey("principal", Principal)


def _encode(settings: Settings, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=ALGORITHM)


def issue_tokens(settings: Settings, user: User, family: str | None = None) -> dict[str, Any]:
    """The login response body: a short-lived access token and a single-use refresh token.

    A login starts a new family; a refresh continues the family of the token it used."""
    now = int(time.time())
    access_s = settings.access_token_minutes * 60
    base = {"iss": settings.jwt_issuer, "aud": settings.jwt_audience, "sub": user.id,
            "role": user.role.value, "iat": now, "fam": family or uuid.uuid4().hex,
            "ver": user.token_version}
    access = {**base, "typ": ACCESS, "exp": now + access_s, "jti": uuid.uuid4().hex}
    if user.doctor_id:
        access["doctor_id"] = user.doctor_id
    refresh = {**base, "typ": REFRESH, "exp": now + settings.refresh_token_days * 86400,
               "jti": uuid.uuid4().hex}
    return {"access_token": _encode(settings, access),
            "refresh_token": _encode(settings, refresh),
            "token_type": "bearer", "expires_in": access_s,
            "role": user.role.value, "user_id": user.id}


def issue_export_token(settings: Settings, user: User,
                       hours: int = EXPORT_LINK_HOURS) -> str:
    """A download link's token: only GET /me/data/download accepts it (typ export), it ends
    after `hours` and with the user's token version (erasure, logout-all, new password)."""
    now = int(time.time())
    return _encode(settings, {
        "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "sub": user.id,
        "role": user.role.value, "iat": now, "exp": now + hours * 3600, "typ": EXPORT,
        "fam": uuid.uuid4().hex, "jti": uuid.uuid4().hex, "ver": user.token_version})


def decode_token(settings: Settings, token: str, typ: str) -> dict[str, Any]:
    """Verified claims of one of our tokens of type `typ`; 401 otherwise."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise unauthorized("invalid token")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, settings.jwt_secret.get_secret_value(), algorithms=[ALGORITHM],
            audience=settings.jwt_audience, issuer=settings.jwt_issuer, leeway=LEEWAY_S,
            options={"require": REQUIRED_CLAIMS, "verify_signature": True})
    except jwt.ExpiredSignatureError as exc:
        raise unauthorized("token expired") from exc
    except jwt.PyJWTError as exc:
        raise unauthorized("invalid token") from exc
    if claims.get("typ") != typ or not isinstance(claims.get("sub"), str) \
            or claims.get("role") not in Role.__members__ \
            or not isinstance(claims.get("fam"), str) or not isinstance(claims.get("jti"), str) \
            or not isinstance(claims.get("ver"), int) or isinstance(claims.get("ver"), bool):
        raise unauthorized("invalid token")
    return claims


def remaining_s(claims: dict[str, Any]) -> int:
    """Seconds until the token expires, plus the leeway: how long its state must be kept."""
    return int(claims["exp"] - time.time()) + LEEWAY_S + 1


def revocations(request: web.Request) -> Revocations:
    coord = request.config_dict[COORDINATOR]
    return Revocations(coord.redis, coord.ns)


_outage_logged_at = 0.0


async def check_not_revoked(request: web.Request, claims: dict[str, Any]) -> None:
    """401 for a logged-out token, a revoked family or an outdated token version."""
    global _outage_logged_at
    try:
        state = await revocations(request).access_state(claims["jti"], claims["fam"],
                                                        claims["sub"])
    except StoreUnavailable:
        # Fail open (see booking/token_revocations.py): the signature and the 15-minute
        # lifetime still hold. Logged at most once a minute.
        if time.monotonic() - _outage_logged_at > 60:
            _outage_logged_at = time.monotonic()
            log.warning("token revocations unchecked: redis unreachable")
        return
    if state.denied or state.family_revoked:
        raise unauthorized("token revoked")
    if claims["ver"] < state.min_version:
        raise unauthorized("token revoked")


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authenticate(request: web.Request) -> Principal:
    """The caller's principal from the Bearer access token; 401 when missing or invalid."""
    settings = request.config_dict[SETTINGS]
    token = bearer_token(request)
    if token is None:
        raise unauthorized()
    static = settings.admin_token.get_secret_value() if settings.admin_token else None
    if static and hmac.compare_digest(token.encode(), static.encode()):
        return Principal(STATIC_ADMIN_ID, Role.admin, None)
    claims = decode_token(settings, token, ACCESS)
    await check_not_revoked(request, claims)
    doctor_id = claims.get("doctor_id")
    return Principal(claims["sub"], Role(claims["role"]),
                     doctor_id if isinstance(doctor_id, str) else None)


def requires(*roles: str) -> Callable[[Handler], Handler]:
    """Authenticate strictly, then allow only these roles (none given: any signed-in user).

    The principal is stored at request["principal"]; refusals use the common error body.
    """
    allowed = frozenset(Role(r) for r in roles)

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            try:
                principal = await authenticate(request)
                if allowed and principal.role not in allowed:
                    raise forbidden()
            except ApiError as exc:
                response = response_for(exc)
                assert response is not None
                return response
            store_principal(request, principal)
            return await handler(request)

        wrapper.__api_roles__ = tuple(sorted(r.value for r in allowed)) or ("any",)  # type: ignore[attr-defined]
        return wrapper

    return decorate


def store_principal(request: web.Request, principal: Principal) -> None:
    """At request[PRINCIPAL] and, as the other roles expect, at request["principal"]."""
    request[PRINCIPAL] = principal
    with warnings.catch_warnings():  # aiohttp nudges towards RequestKey; both are kept
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        request["principal"] = principal


def principal_of(request: web.Request) -> Principal:
    return request[PRINCIPAL]
