"""Server settings: one pydantic model, filled from `GUIDECAST_*` environment variables and CLI flags.

Precedence: explicit overrides (flags, tests) > environment > defaults. Lists in the environment are
comma-separated (`GUIDECAST_CAPTURE_ALLOWED_HOSTS=127.0.0.1:8000,app.internal`).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

ENV_PREFIX = "GUIDECAST_"


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_dir: Path = Path("out/server")
    host: str = "127.0.0.1"
    port: int = 8080
    base_url: str | None = None  # public URL for share links and oEmbed (default: from the request)
    secret_key: str | None = None  # signs session cookies; generated once into DATA_DIR/secret_key
    cookie_secure: bool = False  # set on when served over HTTPS
    session_max_age_s: int = 14 * 24 * 3600

    max_upload_bytes: int = 200 * 1024 * 1024
    max_unzipped_bytes: int = 500 * 1024 * 1024
    max_zip_files: int = 2000

    capture_allowed_hosts: list[str] = Field(default_factory=list)  # host or host:port
    capture_env_vars: list[str] = Field(default_factory=list)  # env vars a workflow's secrets may read

    tts_engine: str = "pyttsx3"
    video_width: int = 1280
    video_height: int = 720
    job_workers: int = 1
    job_max_attempts: int = 2  # a job interrupted by a restart runs again until this many attempts
    check_interval_hours: float = 0  # scheduled freshness checks: every guide at most this often (0: off)

    signin_per_ip: int = 20  # failed sign-ins per window before 429
    signin_per_account: int = 5
    signin_window_s: int = 300

    @field_validator("capture_allowed_hosts")
    @classmethod
    def _hosts(cls, v: list[str]) -> list[str]:
        from capture.browser import parse_hosts

        parse_hosts(v)  # a bad entry stops the start-up, not a capture job later
        return v

    def path(self, *parts: str) -> Path:
        return self.data_dir.joinpath(*parts)


def _from_env(environ: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is None:
            continue
        if field.annotation == list[str]:
            out[name] = [x.strip() for x in raw.split(",") if x.strip()]
        else:
            out[name] = raw
    return out


def load_settings(environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults <- GUIDECAST_* environment <- overrides (None values are ignored)."""
    values = _from_env(dict(os.environ if environ is None else environ))
    values.update({k: v for k, v in overrides.items() if v is not None})
    s = Settings.model_validate(values)
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
