"""Settings: one pydantic-settings object, built once at start-up and passed down.

Every variable can be given plainly (MONGODB_URL) or with the project prefix
(KLINIK_MONGODB_URL, which wins). Secrets are SecretStr: never printed or logged.
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from booking.crypto import Keyring

ENV_PREFIX = "KLINIK_"


def env(name: str, default: Any, description: str, **kwargs: Any) -> Any:
    return Field(default, validation_alias=AliasChoices(ENV_PREFIX + name, name),
                 description=description, **kwargs)


def random_secret() -> SecretStr:
    """The embedded default's per-start secret: works at once, known to nobody."""
    return SecretStr(secrets.token_urlsafe(32))


def secret_env(name: str, description: str) -> Any:
    """A secret that must be given in production; random per start on the embedded default."""
    return Field(default_factory=random_secret,
                 validation_alias=AliasChoices(ENV_PREFIX + name, name),
                 description=description + " Production: required, >= 32 characters; "
                 "embedded default: random per start.")


# Values that shipped as defaults in earlier versions (or in examples): public, so refused
# in production even when set explicitly.
DEVELOPMENT_SECRETS = frozenset({"dev-only-change-me-0123456789abcdef", "dev-webhook-token",
                                 "sandbox-token", "change-me", "changeme", "secret"})
MIN_SECRET_CHARS = 32
# Secrets production refuses to start without (field name -> variable).
REQUIRED_SECRETS = {"jwt_secret": "JWT_SECRET", "wati_webhook_token": "WATI_WEBHOOK_TOKEN",
                    "actions_token": "ACTIONS_TOKEN", "rasa_token": "RASA_TOKEN"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore",
                                      populate_by_name=True)

    app_host: str = env("APP_HOST", "127.0.0.1", "Address the app listens on.")
    app_env: Literal["development", "production"] = env(
        "APP_ENV", "development",
        "production refuses default or weak secrets; MONGODB_URL (not mongomock://) or "
        "REDIS_URL imply it.")
    app_port: int = env("APP_PORT", 8080, "Public port of the app (API, webhook, pages).",
                        ge=1, le=65535)
    app_workers: int = env("APP_WORKERS", 1,
                           "App processes sharing APP_PORT (SO_REUSEPORT); the scheduler runs "
                           "in the first only. > 1 needs MONGODB_URL and REDIS_URL.",
                           ge=1, le=64)
    actions_host: str = env("ACTIONS_HOST", "127.0.0.1",
                            "Address of the internal listener (Rasa actions, /metrics); "
                            "never behind the public load balancer.")
    actions_port: int = env("ACTIONS_PORT", 5056,
                            "Port of the internal listener; 0 = any free port.", ge=0, le=65535)
    actions_token: SecretStr = secret_env(
        "ACTIONS_TOKEN", "Bearer token Rasa sends to the actions endpoint.")
    metrics_token: SecretStr | None = env(
        "METRICS_TOKEN", None, "Bearer token required for /metrics on the internal listener; "
        "unset = none (the listener is internal).")
    public_url: str | None = env("PUBLIC_URL", None,
                                 "Public base URL (https://... turns on HSTS).")
    trusted_proxies: str = env("TRUSTED_PROXIES", "",
                               "CIDRs of proxies whose X-Forwarded-For is believed "
                               "(comma-separated); empty = the peer address.")
    cors_origins: str = env("CORS_ORIGINS", "",
                            "Origins allowed to call the API from a browser (comma-separated).")
    roles: str = env("ROLES", "api,bot,actions,scheduler",
                     "Roles this process runs: api, bot, actions, scheduler (comma-separated).")
    mongodb_url: SecretStr | None = env(
        "MONGODB_URL", None, "MongoDB URL; unset or mongomock:// = in-process stand-in.")
    redis_url: SecretStr | None = env("REDIS_URL", None,
                                      "Redis URL; unset = in-process fakeredis (embedded only).")
    redis_namespace: str = env("REDIS_NAMESPACE", "klinik:", "Prefix of every Redis key.")
    load_demo_data: bool | None = env(
        "LOAD_DEMO_DATA", None,
        "Load demo clinics at start; default: only on the embedded in-process store.")
    demo_password: SecretStr = env("DEMO_PASSWORD", SecretStr("demo12345"),
                                   "Password of the demo accounts.")
    jwt_secret: SecretStr = secret_env("JWT_SECRET",
                                       "HMAC key for access and refresh tokens.")
    jwt_issuer: str = env("JWT_ISSUER", "klinik-wa", "JWT iss claim.")
    jwt_audience: str = env("JWT_AUDIENCE", "klinik-wa-api", "JWT aud claim.")
    access_token_minutes: int = env("ACCESS_TOKEN_MINUTES", 15, "Access token lifetime.", ge=1)
    refresh_token_days: int = env("REFRESH_TOKEN_DAYS", 14, "Refresh token lifetime.", ge=1)
    # REST API (api/): rate limits per fixed window, doctors list cache.
    rate_window_seconds: int = env("RATE_WINDOW_SECONDS", 300,
                                   "Window of the login/register rate limits.", ge=1)
    login_limit_per_ip: int = env("LOGIN_LIMIT_PER_IP", 30, "Logins per window per IP.", ge=1)
    login_limit_per_account: int = env("LOGIN_LIMIT_PER_ACCOUNT", 10,
                                       "Logins per window per account (email).", ge=1)
    register_limit_per_ip: int = env("REGISTER_LIMIT_PER_IP", 10,
                                     "Registrations per window per IP.", ge=1)
    doctors_cache_seconds: int = env("DOCTORS_CACHE_SECONDS", 30,
                                     "TTL of cached GET /doctors pages; 0 = no cache.", ge=0)
    cancel_cutoff_minutes: int = env("CANCEL_CUTOFF_MINUTES", 120,
                                     "No patient cancel/reschedule closer than this.", ge=0)
    hold_seconds: int = env("HOLD_SECONDS", 300, "How long an offered slot is held.", ge=10)
    rasa_url: str = env("RASA_URL", "http://127.0.0.1:5005", "Rasa server (REST channel).")
    rasa_urls: str = env("RASA_URLS", "",
                         "Rasa replicas (comma-separated base URLs); each WhatsApp number "
                         "sticks to one of them. Empty = RASA_URL alone.")
    rasa_token: SecretStr = secret_env(
        "RASA_TOKEN", "Rasa HTTP API token (rasa run --auth-token).")
    start_rasa: bool = env("START_RASA", True, "make run: start the Rasa server too.")
    rasa_replicas: int = env("RASA_REPLICAS", 1,
                             "make run: how many Rasa servers to start (ports 5005, 5006, ...).",
                             ge=1, le=16)
    model_pull_seconds: int = env(
        "MODEL_PULL_SECONDS", 10,
        "How often each Rasa replica asks the app's model server (internal listener, "
        "GET /models/current.tar.gz) for a new model; unchanged = 304.", ge=1, le=3600)
    nlu_base_model: str | None = env(
        "NLU_BASE_MODEL", None,
        "Model file put into the model store and served when none was promoted yet "
        "(make run: the model of scripts/rasa_model.py).")
    wati_api_url: str | None = env("WATI_API_URL", None,
                                   "Wati API base URL; unset = the local sandbox.")
    wati_api_token: SecretStr = env("WATI_API_TOKEN", SecretStr("sandbox-token"),
                                    "Wati bearer token.")
    wati_api_version: str = env("WATI_API_VERSION", "v3", "Wati API paths: v3 or v1.")
    wati_webhook_token: SecretStr = secret_env("WATI_WEBHOOK_TOKEN",
                                               "Secret ?token= on the webhook URL.")
    wati_sandbox_port: int = env("WATI_SANDBOX_PORT", 8081,
                                 "Port of the local Wati sandbox (chat page) when WATI_API_URL "
                                 "is unset; 0 = any free port.", ge=0, le=65535)
    notify_channels: str = env("NOTIFY_CHANNELS", "whatsapp,email",
                               "Channels a notification tries, in order (whatsapp, email).")
    outbox_max_attempts: int = env("OUTBOX_MAX_ATTEMPTS", 5,
                                   "WhatsApp attempts per notification before the email "
                                   "fallback.", ge=1)
    waitlist_offer_minutes: int = env(
        "WAITLIST_OFFER_MINUTES", 15,
        "How long a freed slot is held for the waitlisted patient it is offered to.",
        ge=1, le=24 * 60)
    handoff_operator_email: str | None = env(
        "HANDOFF_OPERATOR_EMAIL", None,
        "Wati operator (or team inbox) a handed-off conversation is assigned to; unset = "
        "recorded in the staff inbox only, not assigned in Wati.", max_length=254)
    handoff_timeout_hours: float = env(
        "HANDOFF_TIMEOUT_HOURS", 12,
        "An open handoff returns to the bot after this long, with a polite note.", gt=0,
        le=24 * 14)
    admin_token: SecretStr | None = env("ADMIN_TOKEN", None, "Static admin token (tools).")
    smtp_host: str = env("SMTP_HOST", "127.0.0.1", "SMTP server for the email fallback.")
    smtp_port: int = env("SMTP_PORT", 1025, "SMTP port.")
    smtp_from: str = env("SMTP_FROM", "noreply@klinik.local", "Sender of fallback emails.")
    smtp_tls: Literal["auto", "starttls", "tls", "off"] = env(
        "SMTP_TLS", "auto", "SMTP encryption: starttls, tls (implicit), off; auto = starttls "
        "in production, off on the embedded default.")
    smtp_username: str | None = env("SMTP_USERNAME", None, "SMTP login (with SMTP_PASSWORD).")
    smtp_password: SecretStr | None = env("SMTP_PASSWORD", None, "SMTP password.")
    max_upcoming_bookings: int = env("MAX_UPCOMING_BOOKINGS", 5,
                                     "Upcoming bookings one patient may hold at once.", ge=1)
    reminder_lead_minutes: int = env("REMINDER_LEAD_MINUTES", 24 * 60,
                                     "Reminder lead time before the appointment.", ge=1)
    second_reminder_minutes: int | None = env("SECOND_REMINDER_MINUTES", None,
                                              "Optional second reminder (e.g. 120).")
    reminder_sweep_seconds: int = env("REMINDER_SWEEP_SECONDS", 60,
                                      "How often the scheduler looks for due reminders.", ge=1)
    reminder_claim_seconds: int = env(
        "REMINDER_CLAIM_SECONDS", 300,
        "A claimed reminder not sent within this is taken again (crash recovery).", ge=5)
    reminder_late_grace_minutes: int = env(
        "REMINDER_LATE_GRACE_MINUTES", 10,
        "A reminder sent later than this after its due time is marked late.", ge=0)
    reminder_stale_minutes: int = env(
        "REMINDER_STALE_MINUTES", 0,
        "No reminder closer than this to the start (0: any time before the start).", ge=0)
    reminder_catchup_hours: int = env(
        "REMINDER_CATCHUP_HOURS", 24,
        "After downtime, missed reminders of appointments started this recently are counted "
        "as stale.", ge=1)
    reminder_batch: int = env("REMINDER_BATCH", 500, "Bookings per reminder sweep batch.",
                              ge=1, le=10_000)
    outbox_dispatch_seconds: int = env("OUTBOX_DISPATCH_SECONDS", 5,
                                       "How often the scheduler runs the outbox dispatcher.",
                                       ge=1)
    complete_past_minutes: int = env(
        "COMPLETE_PAST_MINUTES", 5, "How often ended bookings are marked completed.", ge=1)
    doctor_agenda_enabled: bool = env("DOCTOR_AGENDA_ENABLED", False,
                                      "Send each doctor their agenda every morning.")
    doctor_agenda_hour: int = env("DOCTOR_AGENDA_HOUR", 6,
                                  "Clinic-local hour of the morning agenda.", ge=0, le=23)
    log_level: str = env("LOG_LEVEL", "INFO", "Logging level.")
    analytics_cache_seconds: int = env("ANALYTICS_CACHE_SECONDS", 60,
                                       "How long GET /analytics results are cached in Redis.",
                                       ge=0)
    bigquery_project: str | None = env("BIGQUERY_PROJECT", None,
                                       "BigQuery project of the export; unset = export off.")
    bigquery_dataset: str = env("BIGQUERY_DATASET", "klinik_analytics",
                                "BigQuery dataset the export writes to.")
    bigquery_location: str = env("BIGQUERY_LOCATION", "asia-southeast2",
                                 "Location of the dataset when the export creates it.")
    bigquery_api_endpoint: str | None = env(
        "BIGQUERY_API_ENDPOINT", None,
        "Override the BigQuery API URL (emulators, tests); uses anonymous credentials.")
    photo_bucket: str | None = env("PHOTO_BUCKET", None,
                                   "Cloud Storage bucket of doctor photos; unset = PHOTO_DIR.")
    photo_dir: str = env("PHOTO_DIR", ".run/photos",
                         "Directory of doctor photos when PHOTO_BUCKET is unset.")
    photo_max_bytes: int = env("PHOTO_MAX_BYTES", 2 * 1024 * 1024,
                               "Largest doctor photo upload (JPEG, PNG or WebP).",
                               ge=1024, le=20 * 1024 * 1024)
    storage_api_endpoint: str | None = env(
        "STORAGE_API_ENDPOINT", None,
        "Override the Cloud Storage API URL (emulators, tests); uses anonymous credentials.")
    data_keys: SecretStr | None = env(
        "DATA_KEYS", None,
        "Keyring of the field encryption (AES-256-GCM): <id>:<base64 of 32 bytes>,... the "
        "first encrypts, all decrypt. Production: required; unset on the embedded default = "
        "a throw-away key per run.")
    data_index_key: SecretStr | None = env(
        "DATA_INDEX_KEY", None,
        "Base64 of 32 bytes: HMAC key of the blind indexes (lookups by phone and e-mail). "
        "Production: required, never rotated casually (see docs/data-protection.md).")
    chat_retention_days: int = env("CHAT_RETENTION_DAYS", 180,
                                   "Chat log messages are deleted this long after they were "
                                   "written (TTL index); 0 = kept.", ge=0)
    inbox_retention_days: int = env("INBOX_RETENTION_DAYS", 30,
                                    "Webhook payloads (inbox) are deleted this long after "
                                    "they arrived (TTL index); 0 = kept.", ge=0)
    outbox_body_retention_days: int = env(
        "OUTBOX_BODY_RETENTION_DAYS", 90,
        "Outbox message texts and template parameters are wiped this long after they were "
        "created (daily job; status kept); 0 = kept.", ge=0)
    handoff_retention_days: int = env(
        "HANDOFF_RETENTION_DAYS", 180,
        "Closed handoffs lose their transcript and the patient's name this long after they "
        "were closed (daily job; times and outcome kept); 0 = kept.", ge=0)

    @property
    def public_base(self) -> str:
        """Where patients reach the app (links in messages): PUBLIC_URL, else the listener."""
        return (self.public_url or f"http://{self.app_host}:{self.app_port}").rstrip("/")

    @field_validator("data_keys")
    @classmethod
    def _data_keys(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            from booking.crypto import parse_data_keys

            parse_data_keys(v.get_secret_value())  # ValueError names the problem, not the key
        return v

    @field_validator("data_index_key")
    @classmethod
    def _data_index_key(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            from booking.crypto import parse_index_key

            parse_index_key(v.get_secret_value())
        return v

    def data_keyring(self) -> Keyring | None:
        """The configured keyring; None when neither variable is set (throw-away key)."""
        from booking.crypto import Keyring

        if self.data_keys is None and self.data_index_key is None:
            return None
        if self.data_keys is None or self.data_index_key is None:
            raise SettingsError("DATA_KEYS and DATA_INDEX_KEY are set together")
        return Keyring.from_strings(self.data_keys.get_secret_value(),
                                    self.data_index_key.get_secret_value())

    def data_protection_problems(self) -> list[str]:
        """Production refuses to start without the encryption keys (app/main.py)."""
        if not self.production:
            return []
        return [f"{name} is not set" for name, value in
                (("DATA_KEYS", self.data_keys), ("DATA_INDEX_KEY", self.data_index_key))
                if value is None]

    def transport_warnings(self) -> list[str]:
        """Production connections that travel unencrypted to another machine (logged
        loudly at start; the URLs themselves are never printed)."""
        if not self.production:
            return []
        warnings = []
        mongo = self.mongodb_url.get_secret_value() if self.mongodb_url else ""
        if mongo and not mongo.startswith("mongomock://") and not _mongo_tls(mongo) \
                and not _loopback_only(mongo):
            warnings.append("MONGODB_URL has no tls=true (or mongodb+srv://) and points to "
                            "another host: patient data travels in plain text")
        redis = self.redis_url.get_secret_value() if self.redis_url else ""
        if redis.startswith("redis://") and not _loopback_only(redis):
            warnings.append("REDIS_URL is redis:// to another host: use rediss:// "
                            "(Memorystore in-transit encryption)")
        if self.smtp_mode == "off":
            warnings.append("SMTP_TLS=off: fallback e-mails travel in plain text")
        for name, url in (("WATI_API_URL", self.wati_api_url),
                          ("BIGQUERY_API_ENDPOINT", self.bigquery_api_endpoint)):
            if url and url.startswith("http://") and not _loopback_only(url):
                warnings.append(f"{name} is http:// to another host: use https://")
        return warnings

    @field_validator("roles")
    @classmethod
    def _roles(cls, v: str) -> str:
        allowed = {"api", "bot", "actions", "scheduler"}
        roles = [r.strip() for r in v.split(",") if r.strip()]
        unknown = set(roles) - allowed
        if unknown or not roles:
            raise ValueError(f"unknown roles {sorted(unknown)}; allowed: {sorted(allowed)}")
        return ",".join(roles)

    @field_validator("jwt_secret")
    @classmethod
    def _jwt_len(cls, v: SecretStr) -> SecretStr:
        if len(v.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return v

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, v: str) -> str:
        for cidr in v.split(","):
            if cidr.strip():
                ipaddress.ip_network(cidr.strip(), strict=False)  # ValueError names it
        return v

    @field_validator("notify_channels")
    @classmethod
    def _channels(cls, v: str) -> str:
        names = [n.strip() for n in v.split(",") if n.strip()]
        unknown = set(names) - {"whatsapp", "email"}
        if unknown or not names or len(set(names)) != len(names):
            raise ValueError("a comma-separated list of whatsapp, email (each once)")
        return ",".join(names)

    @property
    def notify_channel_names(self) -> list[str]:
        return self.notify_channels.split(",")

    @field_validator("wati_api_version")
    @classmethod
    def _wati_version(cls, v: str) -> str:
        if v not in ("v1", "v3"):
            raise ValueError("must be v1 or v3")
        return v

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.split(","))

    @property
    def embedded(self) -> bool:
        """No real servers configured: the one-command default."""
        url = self.mongodb_url.get_secret_value() if self.mongodb_url else ""
        return (not url or url.startswith("mongomock://")) and self.redis_url is None

    @property
    def rasa_replica_urls(self) -> list[str]:
        urls = [u.strip().rstrip("/") for u in self.rasa_urls.split(",") if u.strip()]
        return urls or [self.rasa_url.rstrip("/")]

    @property
    def production(self) -> bool:
        """Real servers or an explicit APP_ENV=production: secrets must be real."""
        url = self.mongodb_url.get_secret_value() if self.mongodb_url else ""
        return self.app_env == "production" or bool(url and not url.startswith("mongomock://")) \
            or self.redis_url is not None

    @property
    def smtp_mode(self) -> str:
        if self.smtp_tls != "auto":
            return self.smtp_tls
        return "starttls" if self.production else "off"

    @property
    def proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(c.strip(), strict=False)
                     for c in self.trusted_proxies.split(",") if c.strip())

    @property
    def cors_origin_set(self) -> frozenset[str]:
        return frozenset(o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip())

    @property
    def demo_accounts(self) -> bool:
        """Demo logins (known password) exist only on the embedded default, never in production."""
        return self.demo_data and not self.production

    def production_problems(self) -> list[str]:
        """One line per secret production cannot run with (empty outside production)."""
        if not self.production:
            return []
        problems = []
        for field, name in REQUIRED_SECRETS.items():
            value = getattr(self, field).get_secret_value()
            if field not in self.model_fields_set:
                problems.append(f"{name} is not set")
            elif value in DEVELOPMENT_SECRETS:
                problems.append(f"{name} is a development default")
            elif len(value) < MIN_SECRET_CHARS:
                problems.append(f"{name} is shorter than {MIN_SECRET_CHARS} characters")
        if self.admin_token is not None and \
                len(self.admin_token.get_secret_value()) < MIN_SECRET_CHARS:
            problems.append(f"ADMIN_TOKEN is shorter than {MIN_SECRET_CHARS} characters")
        if self.wati_api_url and (self.wati_api_token.get_secret_value() in DEVELOPMENT_SECRETS):
            problems.append("WATI_API_TOKEN is a development default (WATI_API_URL is set)")
        return problems

    @property
    def demo_data(self) -> bool:
        if self.load_demo_data is not None:
            return self.load_demo_data
        url = self.mongodb_url.get_secret_value() if self.mongodb_url else ""
        return not url or url.startswith("mongomock://")


def _hosts(url: str) -> list[str]:
    """Hosts of a URL, including a MongoDB seed list (credentials and options dropped)."""
    rest = url.split("://", 1)[-1]
    netloc = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    hosts = []
    for part in netloc.split(","):
        host = part[1:].split("]", 1)[0] if part.startswith("[") else part.rsplit(":", 1)[0]
        hosts.append(host.lower())
    return hosts


def _loopback_only(url: str) -> bool:
    for host in _hosts(url):
        if host == "localhost":
            continue
        try:
            if not ipaddress.ip_address(host).is_loopback:
                return False
        except ValueError:
            return False
    return True


def _mongo_tls(url: str) -> bool:
    options = url.split("?", 1)[1].lower() if "?" in url else ""
    flags = {p.split("=", 1)[0]: p.split("=", 1)[-1] for p in options.split("&") if p}
    return url.startswith("mongodb+srv://") or flags.get("tls") == "true" or \
        flags.get("ssl") == "true"


class SettingsError(SystemExit):
    """Start-up failure naming the variable that is wrong."""


def load_settings(**overrides: Any) -> Settings:
    """Settings of a process start: invalid values and, in production, weak secrets refused."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = str(err["loc"][0]).upper().removeprefix(ENV_PREFIX) if err["loc"] else "?"
            lines.append(f"  {name} (or {ENV_PREFIX}{name}): {err['msg']}")
        raise SettingsError("invalid configuration:\n" + "\n".join(lines)) from None
    problems = settings.production_problems()
    if problems:
        raise SettingsError("refusing to start in production mode:\n"
                            + "\n".join(f"  {p}" for p in problems))
    return settings


def markdown_table() -> str:
    """The README's configuration table, generated from the fields (one source of truth)."""
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if field.default_factory is random_secret:
            default = "(random per start)"
        elif isinstance(default, SecretStr):
            default = "(secret)" if name != "demo_password" else default.get_secret_value()
        shown = "unset" if default is None else f"`{default}`"
        rows.append(f"| `{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())  # noqa: T201
