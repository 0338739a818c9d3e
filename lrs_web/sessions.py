"""Server-side sessions, in this process's memory: the cookie holds only a random session id; the
bearer token (learner credential or operator token) stays here. Idle and absolute expiry."""

from __future__ import annotations

import enum
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

MAX_SESSIONS = 50_000


class Role(enum.Enum):
    ANONYMOUS = "anonymous"  # has only a CSRF token, for the sign-in forms
    LEARNER = "learner"
    OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    csrf: str
    role: Role
    created: float
    seen: float
    token: str = ""  # the bearer token sent to lrs-server; never leaves this process


@dataclass(frozen=True, slots=True)
class Flash:
    """An outcome to show once on the next page (kept here so that no learner data goes in a URL)."""

    heading: str
    lines: tuple[str, ...] = ()


class Lookup(enum.Enum):
    ACTIVE = "active"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Found:
    status: Lookup
    session: Session | None = None


class SessionStore:
    def __init__(self, idle: float, absolute: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._idle = idle
        self._absolute = absolute
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._flashes: dict[str, Flash] = {}
        self._lock = threading.Lock()

    def _expired(self, session: Session, now: float) -> bool:
        return now - session.seen > self._idle or now - session.created > self._absolute

    def create(self, role: Role = Role.ANONYMOUS, token: str = "") -> Session:
        now = self._clock()
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), role, now, now, token)
        with self._lock:
            if len(self._sessions) >= MAX_SESSIONS:
                self._purge(now)
            if len(self._sessions) >= MAX_SESSIONS:  # still full: drop the oldest-seen
                oldest = min(self._sessions.values(), key=lambda s: s.seen)
                del self._sessions[oldest.id]
                self._flashes.pop(oldest.id, None)
            self._sessions[session.id] = session
        return session

    def _purge(self, now: float) -> None:
        for sid in [sid for sid, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[sid]
            self._flashes.pop(sid, None)

    def find(self, session_id: str) -> Found:
        """The session, touched (its idle clock restarts), or why there is none."""
        now = self._clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return Found(Lookup.UNKNOWN)
            if self._expired(session, now):
                del self._sessions[session_id]
                self._flashes.pop(session_id, None)
                return Found(Lookup.EXPIRED, session)
            touched = replace(session, seen=now)
            self._sessions[session_id] = touched
            return Found(Lookup.ACTIVE, touched)

    def drop(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)
            self._flashes.pop(session_id, None)

    def flash(self, session_id: str, message: Flash) -> None:
        with self._lock:
            if session_id in self._sessions:
                self._flashes[session_id] = message

    def take_flash(self, session_id: str) -> Flash | None:
        with self._lock:
            return self._flashes.pop(session_id, None)
