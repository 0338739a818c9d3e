"""What one lrs-web process is told at start: where the server is, how long sessions last, limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class WebSettings:
    server: str
    tls: bool = False
    ca_file: Path | None = None
    # Sessions: idle and absolute expiry, in seconds.
    idle_timeout: float = 20 * 60
    absolute_timeout: float = 8 * 60 * 60
    # Secure cookies even when the request arrived over plain HTTP (a TLS proxy in front).
    secure_cookies: bool = False
    # Sign-in limits (per 15 minutes): failed sign-ins per ULN, sign-in attempts per client address.
    uln_failures: int = 5
    address_attempts: int = 20
    limit_window: float = 15 * 60
    # Timeout of one call to lrs-server, in seconds.
    call_timeout: float = 10.0
