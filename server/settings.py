"""Server settings: pydantic-settings, filled from `GUIDECAST_*` environment variables and CLI flags.

Precedence: explicit overrides (flags, tests) > environment > defaults. Lists in the environment are
comma-separated (`GUIDECAST_CAPTURE_ALLOWED_HOSTS=127.0.0.1:8000,app.internal`). A value that does not
fit is one `SettingsError` naming the variable (or flag) and what it takes, never a traceback.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

from guidecast.kernel.errors import SettingsError, clean_message

ENV_PREFIX = "GUIDECAST_"
HostList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", case_sensitive=False)

    data_dir: Path = Path("out/server")
    # the database: SQLite in DATA_DIR (default) or postgresql://user@host:port/name (psycopg 3)
    database_url: str | None = None
    # where jobs run: "threads" inside `guidecast serve` (default), or "queue": Procrastinate on the
    # PostgreSQL database, run by `guidecast worker` processes (server/queue.py)
    jobs_backend: Literal["threads", "queue"] = "threads"
    # the asset store: DATA_DIR/assets (default) or an S3-compatible bucket (server/objectstore.py)
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None  # e.g. http://127.0.0.1:8333 (SeaweedFS); None: AWS
    s3_region: str = "us-east-1"
    s3_access_key: str | None = None  # None: boto3's own lookup (AWS_ACCESS_KEY_ID, instance role, ...)
    s3_secret_key: str | None = None
    web_processes: int = Field(1, ge=1, le=64)  # `guidecast serve`: uvicorn worker processes behind one port
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    base_url: str | None = None  # public URL for share links and oEmbed (default: from the request)
    secret_key: str | None = None  # signs session cookies; generated once into DATA_DIR/secret_key
    cookie_secure: bool = False  # set on when served over HTTPS
    session_max_age_s: int = Field(14 * 24 * 3600, gt=0)

    max_upload_bytes: int = Field(200 * 1024 * 1024, gt=0)
    max_unzipped_bytes: int = Field(500 * 1024 * 1024, gt=0)
    max_zip_files: int = Field(2000, gt=0)
    max_upload_pixels: int = Field(400_000_000, gt=0)  # pictures of one upload, counted per step that shows one

    capture_allowed_hosts: HostList = Field(default_factory=list)  # host or host:port
    capture_env_vars: HostList = Field(default_factory=list)  # env vars a workflow's secrets may read

    cache_max_bytes: int = Field(2 * 1024**3, gt=0)  # segments, speech and voice previews; LRU beyond
    tts_engine: str = "auto"  # the neural voice when installed, else espeak-ng
    video_width: int = Field(1280, gt=0)
    video_height: int = Field(720, gt=0)
    request_threads: int = Field(16, ge=1, le=256)  # requests using the database at once (server/capacity.py)
    max_queued_requests: int = Field(256, ge=0)  # requests waiting for one of those before 503 + Retry-After
    queue_wait_s: float = Field(10.0, gt=0, le=120)  # how long a request waits for one before 503
    job_workers: int = Field(1, ge=1)
    job_max_attempts: int = Field(2, ge=1)  # a job interrupted by a restart runs again until this many attempts
    check_interval_hours: float = Field(0, ge=0)  # scheduled freshness checks: every guide at most this often (0: off)
    # the queue backend (jobs_backend=queue): when the next due check is queued (cron; a 6th field: seconds),
    # how often a worker says it is alive, and after how long without a word its job is given to another
    check_cron: str = "* * * * *"
    queue_stalled_cron: str = "* * * * * */10"
    queue_heartbeat_s: float = Field(5.0, gt=0)
    queue_stalled_after_s: float = Field(30.0, gt=0)

    signin_per_ip: int = Field(20, ge=1)  # failed sign-ins per window before 429
    signin_per_account: int = Field(5, ge=1)
    signin_window_s: int = Field(300, gt=0)
    anonymous_per_s: float = Field(5.0, gt=0)  # beacon and oEmbed requests per client address and second
    anonymous_burst: int = Field(60, ge=1)  # ... and at once
    trusted_proxies: HostList = Field(default_factory=list)  # addresses/networks whose X-Forwarded-For counts
    user_files_url: str | None = None  # a separate origin for stored files (server/user_files.py)
    read_min_s: float = Field(4.0, gt=0, le=600)  # analytics: a step counts as read after this long in view

    # learning records (server/learning.py): xAPI statements to a Learning Record Store, re-check e-mails
    lrs_url: str | None = None  # the LRS's xAPI endpoint, e.g. http://lrs.internal/xAPI (statements go to /statements)
    lrs_username: str | None = None  # HTTP basic auth of the LRS
    lrs_password: str | None = None
    lrs_retry_max_s: float = Field(300, gt=0)  # the longest wait between two tries of a statement the LRS refused
    smtp_host: str | None = None  # "re-check needed" e-mails to learners (off without a host)
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_from: str = "guidecast@localhost"
    quiz_model: str | None = None  # optional: more quiz questions from an OpenAI-compatible endpoint
    quiz_base_url: str | None = None
    quiz_api_key: str | None = None

    @field_validator("database_url")
    @classmethod
    def _database(cls, v: str | None) -> str | None:
        if not v:
            return None
        scheme = v.split(":", 1)[0]
        if scheme in ("postgres", "postgresql", "postgresql+psycopg"):
            return "postgresql+psycopg:" + v.split(":", 1)[1]  # psycopg 3, whatever the URL said
        if scheme.startswith("sqlite"):
            return v
        raise ValueError("takes sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE")

    @field_validator("check_cron", "queue_stalled_cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        import croniter

        if not croniter.croniter.is_valid(v):
            raise ValueError("takes a cron line such as '*/5 * * * *' (a 6th field: seconds)")
        return v

    @field_validator("capture_allowed_hosts", "capture_env_vars", "trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, v: Any) -> Any:
        return [x.strip() for x in v.split(",") if x.strip()] if isinstance(v, str) else v

    @field_validator("capture_allowed_hosts")
    @classmethod
    def _hosts(cls, v: list[str]) -> list[str]:
        from guidecast.capture.browser import parse_hosts

        parse_hosts(v)  # a bad entry stops the start-up, not a capture job later
        return v

    @field_validator("user_files_url")
    @classmethod
    def _files_url(cls, v: str | None) -> str | None:
        from urllib.parse import urlsplit

        if not v:
            return None
        u = urlsplit(v)
        if u.scheme not in ("http", "https") or not u.netloc or u.path not in ("", "/"):
            raise ValueError(f"{v!r} is not an origin such as https://files.example.com")
        return v.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, v: list[str]) -> list[str]:
        import ipaddress

        for entry in v:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24)") from None
        return v

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings  # no .env file, no secrets folder: configuration is explicit

    @model_validator(mode="after")
    def _queue_needs_postgres(self) -> Settings:
        if self.jobs_backend == "queue" and not (self.database_url or "").startswith("postgresql"):
            raise ValueError("jobs_backend 'queue' needs a PostgreSQL database_url (GUIDECAST_DATABASE_URL)")
        return self

    @property
    def db_url(self) -> str:
        from guidecast.server.db import sqlite_url

        return self.database_url or sqlite_url(self.data_dir)

    def path(self, *parts: str) -> Path:
        return self.data_dir.joinpath(*parts)

    def public_message(self, text: str) -> str:
        """`text` without the server's own folders (a job's or an upload's work folder, the data directory):
        what a user is shown names the file inside the bundle, never where the server keeps it."""
        import re

        return re.sub(re.escape(str(self.data_dir)) + r"/(?:work/[^/\s'\"]+/(?:x/)?)?", "", text)


class _GivenEnvironment(EnvSettingsSource):
    """The environment source reading a given mapping instead of os.environ (tests, embedding)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._given = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._given, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


def _describe(err: ValidationError, from_env: set[str]) -> str:
    problems = []
    for e in err.errors():
        name = str(e["loc"][0]) if e["loc"] else "?"
        where = ENV_PREFIX + name.upper() if name in from_env else f"setting {name}"
        value = e.get("input")
        shown = f"={value!r}" if isinstance(value, (str, int, float)) and len(str(value)) < 80 else ""
        if not e["loc"]:  # a rule across settings (model validator): its message names them
            problems.append(f"server settings: {clean_message(e['msg'])}")
            continue
        problems.append(f"{where}{shown}: {clean_message(e['msg'])}")
    return "; ".join(problems)


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults <- GUIDECAST_* environment <- overrides (None values are ignored)."""
    env = dict(os.environ if environ is None else environ)
    given = {k: v for k, v in overrides.items() if v is not None}
    source = _GivenEnvironment(Settings, env)
    from_env = {name for name in Settings.model_fields if (ENV_PREFIX + name.upper()) in {k.upper() for k in env}}
    from_env -= set(given)
    try:
        values = {**source(), **given}
        s = Settings.model_validate(values)  # init values only: the environment was read just above
    except ValidationError as e:
        raise SettingsError(_describe(e, from_env)) from None
    except ValueError as e:  # a list that is not comma-separated text, a JSON value that does not parse
        raise SettingsError(f"server settings: {e}") from None
    s.data_dir = Path(s.data_dir).resolve()
    s.data_dir.mkdir(parents=True, exist_ok=True)
    if not s.secret_key:
        s.secret_key = _stored_secret(s.data_dir / "secret_key")
    return s


def _stored_secret(path: Path) -> str:
    if path.exists():
        return path.read_text("utf-8").strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key
