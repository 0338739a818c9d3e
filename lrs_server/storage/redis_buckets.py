"""Token buckets in Redis, shared by every replica and worker (``limits.TokenBuckets``).

One hash per bucket (``tokens``, ``at``), updated by one Lua script, so a take is atomic and costs
one round trip. Time is Redis's own clock (``TIME``), so replicas whose clocks differ still agree.
A take larger than the bucket (a batch message of more rows than the burst) is let through when
the bucket is full and leaves it in debt, which it pays back before anything else is let through.
Buckets expire once they would be full again: an idle organisation costs no memory.

When Redis cannot be reached the call is let through (fail open) and a warning is logged at most
once a minute: losing the limiter must not stop every lookup in the country (docs/DECISIONS.md).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis

from lrs_server.limits import Taken

log = logging.getLogger(__name__)

_TAKE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local held = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(held[1])
local at = tonumber(held[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
local wait = 0
if tokens >= math.min(cost, burst) then
  tokens = tokens - cost
  allowed = 1
else
  wait = (math.min(cost, burst) - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return {allowed, tostring(wait)}
"""
_WARN_EVERY_SECONDS = 60.0


class RedisTokenBuckets:
    """``prefix`` namespaces the keys (one Redis can serve several deployments, or tests)."""

    def __init__(self, client: redis.Redis, prefix: str = "lrs:ratelimit:") -> None:
        self._client = client
        self._prefix = prefix
        self._script: Any = client.register_script(_TAKE)
        self._warned_at = float("-inf")

    @classmethod
    def from_url(cls, url: str, prefix: str = "lrs:ratelimit:") -> RedisTokenBuckets:
        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return cls(client, prefix)

    def take(self, key: str, per_second: float, burst: float, cost: float) -> Taken:
        try:
            allowed, wait = self._script(keys=[self._prefix + key], args=[per_second, burst, cost])
        except redis.RedisError as error:
            now = time.monotonic()
            if now - self._warned_at >= _WARN_EVERY_SECONDS:
                self._warned_at = now
                log.warning("rate limits not applied: Redis unreachable (%s)", error)
            return Taken(True, 0.0)
        return Taken(bool(int(allowed)), float(wait))

    def close(self) -> None:
        self._client.close()
