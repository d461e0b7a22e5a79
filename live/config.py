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
# Largest websocket message the server reads (uvicorn --ws-max-size, as `relais serve` runs
# it); the notes keep their own frame limit below it (live/notes/limits.py).
WS_MAX_SIZE = 1 << 20


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
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    try:  # born 0600: never readable by others, not even before a chmod
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:  # another process made it first: theirs is the secret
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value


@dataclass
class Settings:
    data_dir: Path = field(default_factory=lambda: Path("data"))
    backend: str = "sqlite"
    redis_url: str = "redis://127.0.0.1:6379/0"  # LIVE_BACKEND=redis (live/backends/redis.py)
    secret: str = ""
    base_url: str = "http://localhost:8000"
    link_days: int = 60
    link_margin_days: int = 7  # an event's links valid this long after its day (links.Validity)
    snapshot_every: int = 100
    max_message_bytes: int = 16 * 1024
    send_queue: int = 64
    send_queue_bytes: int = 1 << 20  # per live client: a snapshot or two, never more
    notes_send_bytes: int = 64 << 20  # every notes connection's outbox, together (notes/budget.py)
    max_connections: int = 0  # websockets in all; 0: what the open-file limit allows
    max_connections_per_address: int = 1000  # public websockets from one address (a NAT)
    demo: bool = False
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = ""
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    # Request bodies (live/web/limits.py): any form, and the organizer's CSV import (its
    # 2 MiB file, `MAX_UPLOAD` in live/web/organize.py, plus the multipart envelope).
    max_form_bytes: int = 64 * 1024
    max_import_bytes: int = 2 * 1024 * 1024 + 64 * 1024
    # Registration abuse and personal data (live/ratelimit.py, live/retention.py).
    # Per client address: posts at once (a class of 30 behind its school's NAT, typos
    # included; 0: none), then an hour's pace; per e-mail; per event, valid ones only.
    register_per_minute: int = 60
    register_per_address_hour: int = 240
    register_per_email: int = 10  # valid registrations of one e-mail an hour
    register_per_hour: int = 500  # valid registrations per event an hour, at least (0: none)
    register_per_seat: int = 4  # ... or this many per seat of the event, if more
    mails_per_hour: int = 5  # mails to one address
    trusted_proxies: str = ""  # addresses whose X-Forwarded-For `relais serve` believes
    confirm_hours: int = 48  # an unconfirmed registration (double opt-in) is dropped after (≥ 1)
    retention_days: int = 90  # personal data removed this long after the event (0: never)
    # Plenary visio (live/plenary/ice.py, live/plenary/service.py).
    ice_servers: str = ""  # JSON list of RTCIceServer, or a comma list of stun:/turn: URLs
    ice_username: str = ""  # ... the credentials of that comma list's TURN URLs
    ice_credential: str = ""
    turn_secret: str = ""  # coturn's static-auth-secret: short-lived TURN credentials
    ice_host_addresses: str = ""  # host candidates offered ("": every address but loopback)
    ice_transport_policy: str = "all"  # pages' RTCPeerConnections; "relay": through TURN only
    plenary_video_codec: str = "VP8"  # or H264 (OBS Studio's WHIP output)
    plenary_transcode: bool = False  # aiortc's decode/encode path: for comparison only
    plenary_max_receivers: int = 64  # WHEP sessions per event
    plenary_max_sessions: int = 256  # WHIP and WHEP sessions of the process, offers included
    plenary_connect_timeout: float = 6.0  # s for a session's peer to connect, else it ends
    # The pages a French public service carries (live/web/public_service.py): who publishes
    # the service and controls its data, who hosts it, whom to write to. Unknown until the
    # operator says: the defaults say so ("à renseigner") rather than invent anyone.
    publisher_name: str = "Éditeur à renseigner (RELAIS_PUBLISHER_NAME)"
    publisher_address: str = "Adresse à renseigner (RELAIS_PUBLISHER_ADDRESS)"
    # The contact for accessibility, legal and data questions (an e-mail address).
    publisher_email: str = "Adresse électronique à renseigner (RELAIS_PUBLISHER_EMAIL)"
    publication_director: str = "À renseigner (RELAIS_PUBLICATION_DIRECTOR)"
    hosting_provider: str = "Hébergeur à renseigner (RELAIS_HOSTING_PROVIDER)"
    hosting_address: str = "Adresse à renseigner (RELAIS_HOSTING_ADDRESS)"
    # The data protection officer (DPO): an e-mail or postal address.
    dpo_contact: str = "Délégué à la protection des données à renseigner (RELAIS_DPO_CONTACT)"
    # The RGAA status is an audit's result: "non" (conforme) until one is made and said.
    accessibility_status: str = "non"  # non, partiel or total (RGAA)
    accessibility_audit: str = ""  # who audited, when, the rate of criteria met
    # Organizers' sign-in (OpenID Connect: live/web/signin.py). No issuer: no sign-in,
    # Relais works with links alone, as before. ProConnect's issuer, for example:
    # https://auth.agentconnect.gouv.fr/api/v2 (scopes "openid email given_name usual_name").
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_name: str = "ProConnect"  # the provider as the sign-in button names it
    oidc_scopes: str = "openid email profile"
    session_hours: float = 10.0  # a signed-in session's lifetime (and its cookie's)

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
            redis_url=os.environ.get("REDIS_URL", cls.redis_url),
            base_url=os.environ.get("RELAIS_BASE_URL", "http://localhost:8000").rstrip("/"),
            link_days=int(os.environ.get("RELAIS_LINK_DAYS", "60")),
            link_margin_days=int(
                os.environ.get("RELAIS_LINK_MARGIN_DAYS", str(cls.link_margin_days))
            ),
            demo=os.environ.get("RELAIS_DEMO", "") not in ("", "0", "false"),
            smtp_host=os.environ.get("RELAIS_SMTP_HOST", ""),
            smtp_port=int(os.environ.get("RELAIS_SMTP_PORT", "25")),
            smtp_from=os.environ.get("RELAIS_SMTP_FROM", ""),
            smtp_user=os.environ.get("RELAIS_SMTP_USER", ""),
            smtp_password=os.environ.get("RELAIS_SMTP_PASSWORD", ""),
            smtp_starttls=os.environ.get("RELAIS_SMTP_STARTTLS", "") in ("1", "true"),
            max_form_bytes=int(os.environ.get("RELAIS_MAX_FORM_BYTES", cls.max_form_bytes)),
            max_import_bytes=int(os.environ.get("RELAIS_MAX_IMPORT_BYTES", cls.max_import_bytes)),
            max_connections=int(os.environ.get("RELAIS_MAX_CONNECTIONS", "0")),
            notes_send_bytes=int(
                os.environ.get("RELAIS_NOTES_SEND_BYTES", str(cls.notes_send_bytes))
            ),
            max_connections_per_address=int(
                os.environ.get(
                    "RELAIS_MAX_CONNECTIONS_PER_ADDRESS", str(cls.max_connections_per_address)
                )
            ),
            register_per_minute=int(
                os.environ.get("RELAIS_REGISTER_PER_MINUTE", str(cls.register_per_minute))
            ),
            register_per_hour=int(os.environ.get("RELAIS_REGISTER_PER_HOUR", "500")),
            register_per_address_hour=int(
                os.environ.get(
                    "RELAIS_REGISTER_PER_ADDRESS_HOUR", str(cls.register_per_address_hour)
                )
            ),
            register_per_email=int(
                os.environ.get("RELAIS_REGISTER_PER_EMAIL", str(cls.register_per_email))
            ),
            register_per_seat=int(
                os.environ.get("RELAIS_REGISTER_PER_SEAT", str(cls.register_per_seat))
            ),
            mails_per_hour=int(os.environ.get("RELAIS_MAILS_PER_HOUR", "5")),
            trusted_proxies=os.environ.get("RELAIS_TRUSTED_PROXIES", ""),
            confirm_hours=int(os.environ.get("RELAIS_CONFIRM_HOURS", "48")),
            retention_days=int(os.environ.get("RELAIS_RETENTION_DAYS", "90")),
            ice_servers=os.environ.get("RELAIS_ICE_SERVERS", ""),
            ice_username=os.environ.get("RELAIS_ICE_USERNAME", ""),
            ice_credential=os.environ.get("RELAIS_ICE_CREDENTIAL", ""),
            turn_secret=os.environ.get("RELAIS_TURN_SECRET", ""),
            ice_host_addresses=os.environ.get("RELAIS_ICE_HOST_ADDRESSES", ""),
            ice_transport_policy=os.environ.get("RELAIS_ICE_TRANSPORT_POLICY", "all").lower(),
            plenary_video_codec=os.environ.get("RELAIS_PLENARY_VIDEO_CODEC", "VP8").upper(),
            plenary_transcode=os.environ.get("RELAIS_PLENARY_TRANSCODE", "") in ("1", "true"),
            plenary_max_receivers=int(os.environ.get("RELAIS_PLENARY_MAX_RECEIVERS", "64")),
            plenary_max_sessions=int(
                os.environ.get("RELAIS_PLENARY_MAX_SESSIONS", str(cls.plenary_max_sessions))
            ),
            plenary_connect_timeout=float(
                os.environ.get("RELAIS_PLENARY_CONNECT_TIMEOUT", str(cls.plenary_connect_timeout))
            ),
            publisher_name=os.environ.get("RELAIS_PUBLISHER_NAME") or cls.publisher_name,
            publisher_address=os.environ.get("RELAIS_PUBLISHER_ADDRESS") or cls.publisher_address,
            publisher_email=os.environ.get("RELAIS_PUBLISHER_EMAIL") or cls.publisher_email,
            publication_director=(
                os.environ.get("RELAIS_PUBLICATION_DIRECTOR") or cls.publication_director
            ),
            hosting_provider=os.environ.get("RELAIS_HOSTING_PROVIDER") or cls.hosting_provider,
            hosting_address=os.environ.get("RELAIS_HOSTING_ADDRESS") or cls.hosting_address,
            dpo_contact=os.environ.get("RELAIS_DPO_CONTACT") or cls.dpo_contact,
            accessibility_status=os.environ.get("RELAIS_ACCESSIBILITY_STATUS", "non").lower(),
            accessibility_audit=os.environ.get("RELAIS_ACCESSIBILITY_AUDIT", ""),
            oidc_issuer=os.environ.get("RELAIS_OIDC_ISSUER", "").rstrip("/"),
            oidc_client_id=os.environ.get("RELAIS_OIDC_CLIENT_ID", ""),
            oidc_client_secret=os.environ.get("RELAIS_OIDC_CLIENT_SECRET", ""),
            oidc_name=os.environ.get("RELAIS_OIDC_NAME") or cls.oidc_name,
            oidc_scopes=os.environ.get("RELAIS_OIDC_SCOPES") or cls.oidc_scopes,
            session_hours=float(os.environ.get("RELAIS_SESSION_HOURS", str(cls.session_hours))),
        )
        for key, value in overrides.items():
            setattr(s, key, value)
        if s.link_days < 1 or s.link_margin_days < 0:
            raise ValueError(
                "RELAIS_LINK_DAYS must be 1 or more, RELAIS_LINK_MARGIN_DAYS 0 or more"
            )
        if s.ice_transport_policy not in ("all", "relay"):
            raise ValueError("RELAIS_ICE_TRANSPORT_POLICY must be all or relay")
        if s.accessibility_status not in ("non", "partiel", "total"):
            raise ValueError("RELAIS_ACCESSIBILITY_STATUS must be non, partiel or total")
        if s.accessibility_status != "non" and not s.accessibility_audit:
            raise ValueError(  # RGAA: without an audit in force, a service is "non conforme"
                "RELAIS_ACCESSIBILITY_STATUS needs RELAIS_ACCESSIBILITY_AUDIT (who, when, rate)"
            )
        if s.oidc_issuer and not (s.oidc_client_id and s.oidc_client_secret):
            raise ValueError("RELAIS_OIDC_ISSUER needs RELAIS_OIDC_CLIENT_ID and _SECRET")
        if not 0 < s.session_hours <= 24 * 7:
            raise ValueError("RELAIS_SESSION_HOURS must be more than 0 and at most 168")
        if not s.secret and signing != "none":
            s.secret = _secret(s.data_dir, create=signing == "create")
        return s
