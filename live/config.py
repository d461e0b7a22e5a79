"""Settings, read once from the environment: the one place that knows variable names."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from live.errors import RelaisError

SECRET_FILE = "secret.key"
DATABASE_FILE = "relais.sqlite3"


class NoDataDirectory(RelaisError):
    """A command that must use the server's data found none where it looked."""

    def __init__(self, path: Path) -> None:
        super().__init__("no_data", f"no Relais data in {path}", path=str(path))
        self.path = path


Signing = Literal["create", "existing", "none"]


def _secret(data_dir: Path, create: bool = True) -> str:
    """The signing secret: RELAIS_SECRET, or one generated once and kept in the data dir.

    Links stay valid across restarts because the secret is persisted next to the data.
    Only the server creates it: a command that signs links for that server (`relais links`)
    must find it, or it would print links the server refuses.
    """
    env = os.environ.get("RELAIS_SECRET")
    if env:
        return env
    path = data_dir / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    if not create:
        raise NoDataDirectory(data_dir.resolve())
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.write_text(value)
    path.chmod(0o600)
    return value


@dataclass
class Settings:
    data_dir: Path = field(default_factory=lambda: Path("data"))
    backend: str = "sqlite"
    secret: str = ""
    base_url: str = "http://localhost:8000"
    link_days: int = 60
    snapshot_every: int = 100
    max_message_bytes: int = 16 * 1024
    send_queue: int = 64
    demo: bool = False
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = ""
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False

    @classmethod
    def from_env(cls, signing: Signing = "create", **overrides: object) -> Settings:
        """Settings from the environment; `overrides` (command-line options) win.

        The data directory is `RELAIS_DATA`, else `./data` from the current directory: the
        server and every `relais` command resolve it the same way. `signing` says what to
        do about the link secret: the server creates it; `relais links` needs the existing
        one (NoDataDirectory otherwise); `relais import` and `export` sign nothing."""
        data_dir = Path(os.environ.get("RELAIS_DATA", "data"))
        s = cls(
            data_dir=data_dir,
            backend=os.environ.get("LIVE_BACKEND", "sqlite"),
            base_url=os.environ.get("RELAIS_BASE_URL", "http://localhost:8000").rstrip("/"),
            link_days=int(os.environ.get("RELAIS_LINK_DAYS", "60")),
            demo=os.environ.get("RELAIS_DEMO", "") not in ("", "0", "false"),
            smtp_host=os.environ.get("RELAIS_SMTP_HOST", ""),
            smtp_port=int(os.environ.get("RELAIS_SMTP_PORT", "25")),
            smtp_from=os.environ.get("RELAIS_SMTP_FROM", ""),
            smtp_user=os.environ.get("RELAIS_SMTP_USER", ""),
            smtp_password=os.environ.get("RELAIS_SMTP_PASSWORD", ""),
            smtp_starttls=os.environ.get("RELAIS_SMTP_STARTTLS", "") in ("1", "true"),
        )
        for key, value in overrides.items():
            setattr(s, key, value)
        if not s.secret and signing != "none":
            s.secret = _secret(s.data_dir, create=signing == "create")
        return s
