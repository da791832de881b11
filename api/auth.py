"""API keys with roles, and the per-key rate limit.

Keys are 256-bit random secrets (``mob_`` + 43 URL-safe characters), so a single SHA-256 is
the right hash: a slow password hash (argon2) protects guessable secrets, and nobody can guess
a 256-bit one, while argon2 would cost tens of milliseconds on every request. Only the digest is
stored; a key is shown once, when created. Keys are sent as ``X-API-Key`` or
``Authorization: Bearer``.

Roles: ``viewer`` reads everything; ``planner`` also submits and cancels scenarios; ``ops`` also
submits rebalancing runs and snapshots; ``admin`` can do all of it, manage keys and read the
audit log. A key may carry an expiry (``expires_at``): after it, as after a revocation, the key
gets 401. Every write request is recorded with the key that made it (:func:`record_audit`).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from cachetools import TTLCache
from fastapi import HTTPException, Request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api import nul
from api.db import writing
from api.db.models import ApiKey, AuditEntry, utcnow

log = logging.getLogger("mobility.api.auth")

Role = Literal["planner", "ops", "viewer", "admin"]
ROLES: tuple[Role, ...] = ("planner", "ops", "viewer", "admin")

# What each role may do.
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "planner": frozenset({"read", "scenarios:write"}),
    "ops": frozenset({"read", "rebalancing:write"}),
    "admin": frozenset({"read", "scenarios:write", "rebalancing:write", "keys:admin"}),
}


def hash_key(secret: str) -> str:
    """SHA-256 hex digest of a key (what the database stores)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_key(
    sessions: sessionmaker[Session], role: str, name: str, expires_at: datetime | None = None
) -> tuple[str, ApiKey]:
    """Create a key (valid until ``expires_at``, if given); returns the secret (shown once) and the record."""
    if role not in ROLES:
        raise ValueError(f"role: got {role!r}; expected one of {', '.join(ROLES)}")
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= utcnow()):
        raise ValueError(f"expires_at: got {expires_at!s}; expected a future time with a time zone")
    secret = "mob_" + secrets.token_urlsafe(32)
    record = ApiKey(
        id=uuid.uuid4().hex, name=name, role=role, key_hash=hash_key(secret), expires_at=expires_at
    )
    with sessions() as s:
        s.add(record)
        s.commit()
    return secret, record


def list_keys(sessions: sessionmaker[Session]) -> list[ApiKey]:
    """Every key, oldest first (the records hold only the secrets' digests)."""
    with sessions() as s:
        return list(s.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)).all())


def revoke_key(sessions: sessionmaker[Session], key_id: str) -> ApiKey | None:
    """Revoke a key (idempotent: the first revocation time is kept); ``None`` if there is no such key."""
    with sessions() as s:
        rec = s.get(ApiKey, key_id[:64])
        if rec is None:
            return None
        if rec.revoked_at is None:
            rec.revoked_at = utcnow()
            s.commit()
        return rec


def audit_entry(
    principal: Principal,
    *,
    method: str,
    route: str,
    path: str,
    status: int,
    target: str | None,
    request_id: str | None,
) -> AuditEntry:
    """The audit-log record of one write request (fields cut to their column sizes, NULs written
    ``%00``: PostgreSQL's text columns cannot hold them, and a request's path may)."""
    return AuditEntry(
        key_id=principal.key_id,
        key_name=nul.escape(principal.name)[:100],
        role=principal.role,
        method=method[:8],
        route=nul.escape(route)[:200],
        path=nul.escape(path)[:400],
        status=status,
        target=nul.escape(target)[:400] if target else None,
        request_id=request_id,
    )


def record_audit(sessions: sessionmaker[Session], principal: Principal, **request: Any) -> None:
    """Append one write request to the audit log (``request``: the fields of :func:`audit_entry`)."""
    with writing(sessions), sessions() as s:
        s.add(audit_entry(principal, **request))
        s.commit()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, name and role."""

    key_id: str
    name: str
    role: str
    expires_at: datetime | None = None

    def expired(self) -> bool:
        """Whether the key's expiry has passed."""
        return self.expires_at is not None and self.expires_at <= utcnow()

    def can(self, permission: str) -> bool:
        """Whether the role grants ``permission``."""
        return permission in PERMISSIONS.get(self.role, frozenset())


class KeyStore:
    """Looks keys up by digest, remembering verified ones (and unknown digests) for ``ttl`` seconds.

    The memory is a :class:`cachetools.TTLCache` of at most ``max_keys`` digests (expired ones go
    first, then the least recently used), so that unknown keys cannot grow it without bound; it is
    not thread-safe, so every use holds the store's lock.
    """

    def __init__(self, sessions: sessionmaker[Session], ttl: float, max_keys: int = 10_000) -> None:
        self._sessions = sessions
        # digest -> (principal,): ``(None,)`` remembers an unknown or revoked key
        self._cache: TTLCache[str, tuple[Principal | None]] = TTLCache(maxsize=max_keys, ttl=ttl)
        self._lock = threading.Lock()

    def _lookup(self, digest: str) -> Principal | None:
        with self._sessions() as s:
            rec = s.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
        if rec is None or rec.revoked_at is not None:
            return None
        return Principal(key_id=rec.id, name=rec.name, role=rec.role, expires_at=rec.expires_at)

    async def verify(self, secret: str) -> Principal | None:
        """The principal of a secret, or ``None`` if unknown, revoked or expired."""
        digest = hash_key(secret)
        with self._lock:
            hit = self._cache.get(digest)
        if hit is None:
            hit = (await run_in_threadpool(self._lookup, digest),)
            with self._lock:
                self._cache[digest] = hit
        principal = hit[0]
        return None if principal is None or principal.expired() else principal

    def forget(self) -> None:
        """Drop remembered keys (after a revocation)."""
        with self._lock:
            self._cache.clear()


class LocalWindow:
    """A sliding-window-counter limit counted in this process's memory: O(1) per hit, no threads.

    The approximation of ``limits``' sliding window counter: the previous fixed window's count,
    weighted by the share of it still inside the sliding window, plus the current window's count.
    ``limits``' own memory storage starts a timer thread to expire its counters, up to a hundred a
    second under load; here a key keeps three numbers and stale keys are dropped when many pile up.
    """

    def __init__(self, amount: int, seconds: float) -> None:
        self.amount = amount
        self.seconds = seconds
        self._windows: dict[str, tuple[int, int, int]] = {}  # key -> (window index, previous, current)
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> tuple[bool, float]:
        """Count one request of ``key``; returns (allowed, seconds until a request would be allowed)."""
        now = time.time() if now is None else now
        index = int(now // self.seconds)
        elapsed = now / self.seconds - index  # share of the current window gone
        with self._lock:
            last, previous, current = self._windows.get(key, (index, 0, 0))
            if last != index:
                previous, current = (current if last == index - 1 else 0), 0
            weighted = previous * (1.0 - elapsed) + current
            if weighted + 1 <= self.amount:
                if len(self._windows) > 10_000:  # bounded: drop keys idle for two windows
                    self._windows = {k: v for k, v in self._windows.items() if v[0] >= index - 1}
                self._windows[key] = (index, previous, current + 1)
                return True, 0.0
            self._windows[key] = (index, previous, current)
        if current + 1 > self.amount:  # wait for the next window, then for this one's weight to fall
            share = max(0.0, 1.0 - (self.amount - 1) / current)
            return False, (1.0 - elapsed + share) * self.seconds
        share = 1.0 - (self.amount - 1 - current) / previous
        return False, max(0.0, share - elapsed) * self.seconds


class RateLimiter:
    """Per-key sliding-window-counter limit, in this process's memory or shared through Redis.

    The sliding window counter costs O(1) per request (a moving window keeps one timestamp per
    request) and smooths the burst a fixed window allows at its boundary. ``memory://`` counts
    in :class:`LocalWindow`; ``redis://`` through the ``limits`` library (one round trip per
    request, so that replicas count together exactly).

    When the shared storage (Redis) cannot be reached, the API keeps serving: each process
    counts in its own memory meanwhile (so the limit holds per process, not across replicas),
    logs a warning when it falls back and when the storage is back, and tries the storage
    again every ``retry_seconds``.
    """

    def __init__(self, rate: str, storage_uri: str, retry_seconds: float = 5.0) -> None:
        self.rate = parse(rate)
        self.storage_uri = storage_uri
        self.retry_seconds = retry_seconds
        self._local = LocalWindow(self.rate.amount, self.rate.get_expiry())
        self._limiter: SlidingWindowCounterRateLimiter | None = None
        if not storage_uri.startswith("memory"):
            # Short socket timeouts: an unreachable Redis must cost a request milliseconds, not a hang.
            options = (
                {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
                if storage_uri.startswith("redis")
                else {}
            )
            self._limiter = SlidingWindowCounterRateLimiter(storage_from_string(storage_uri, **options))
        self._down_since: float | None = None
        self._lock = threading.Lock()

    @property
    def degraded(self) -> bool:
        """Whether the limit is counted in memory because the shared storage is unreachable."""
        return self._down_since is not None

    def _shared(self) -> SlidingWindowCounterRateLimiter | None:
        """The shared limiter, or ``None`` when counting in memory (by design or while it is down)."""
        with self._lock:
            down = self._down_since
        if down is not None and time.monotonic() - down < self.retry_seconds:
            return None
        return self._limiter

    def _hit_shared(self, limiter: SlidingWindowCounterRateLimiter, key_id: str) -> tuple[bool, float]:
        if limiter.hit(self.rate, key_id):
            return True, 0.0
        stats = limiter.get_window_stats(self.rate, key_id)
        return False, max(0.0, float(stats[0]) - time.time())

    def hit(self, key_id: str) -> tuple[bool, float]:
        """Count one request; returns (allowed, seconds until the window frees a slot)."""
        limiter = self._shared()
        if limiter is None:
            return self._local.hit(key_id)
        try:
            out = self._hit_shared(limiter, key_id)
        except Exception as exc:  # storage unreachable: count in memory, say so in the log
            with self._lock:
                first = self._down_since is None
                self._down_since = time.monotonic()
            if first:
                log.warning(
                    "rate-limit storage %s unreachable (%s): counting per process in memory until it is back",
                    self.storage_uri.split("@")[-1],
                    type(exc).__name__,
                )
            return self._local.hit(key_id)
        if self._down_since is not None:
            with self._lock:
                self._down_since = None
            log.warning("rate-limit storage %s reachable again", self.storage_uri.split("@")[-1])
        return out


def _secret_from(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    auth = request.headers.get("authorization")
    if auth and auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return None


def require(permission: str) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    """A FastAPI dependency: 401 without a valid key, 403 without ``permission``, 429 over the rate;
    then, for a request with NUL characters, 404 or 422 (:mod:`api.nul`), audited as the caller's."""

    async def dependency(request: Request) -> Principal:
        found = nul.take(request.scope)  # this route answers for them, once it knows the caller
        secret = _secret_from(request)
        unauthorized = {"WWW-Authenticate": 'Bearer realm="mobility"'}
        if not secret:
            raise HTTPException(
                401, "missing API key: send it as X-API-Key or Authorization: Bearer", unauthorized
            )
        store: KeyStore = request.app.state.keys
        principal = await store.verify(secret)
        if principal is None:
            raise HTTPException(401, "invalid, revoked or expired API key", unauthorized)
        request.state.principal = principal  # the audit log records denied writes too
        limiter: RateLimiter = request.app.state.limiter
        allowed, retry = limiter.hit(principal.key_id)
        if not allowed:
            raise HTTPException(
                429, f"rate limit of {limiter.rate} exceeded", {"Retry-After": str(max(1, round(retry)))}
            )
        if not principal.can(permission):
            raise HTTPException(403, f"role {principal.role!r} may not do this (needs {permission!r})")
        if found:
            raise nul.refusal(found)
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]  # read by the access tests
    return dependency
