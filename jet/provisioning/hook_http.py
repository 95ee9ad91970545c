"""The `http` action: a webhook. The body (the event as JSON unless the hook gives one)
is signed with HMAC-SHA256 under the key in the hook's `secret_env` variable, in
`X-Jet-Signature: sha256=<hex>`; `Idempotency-Key` is the hook and the event, the same on
every attempt. A 5xx answer, a timeout or no connection is tried again (the dispatcher
backs off); a 4xx is the target's final no and is never repeated."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import ssl
from typing import Any, Literal
from urllib.parse import SplitResult, urlsplit

from pydantic import Field

from jet.config import Settings
from jet.deliveries import Delivered, Failed, Result
from jet.provisioning.hook_base import Action, HookBase


class HttpHook(HookBase):
    """POST (or `method`) a JSON body to `url`, signed with HMAC-SHA256 of the body under
    the key in environment variable `secret_env`."""

    action: Literal["http"]
    url: str
    method: Literal["POST", "PUT", "PATCH", "DELETE"] = "POST"
    headers: dict[str, str] = {}
    body: Any = None  # None: the event as JSON
    secret_env: str | None = None
    timeout: float = Field(default=10.0, gt=0, le=120)

    def runner(self, settings: Settings) -> Action:
        return HttpAction()

    @property
    def target(self) -> str:
        return self.url


def signature(key: str, body: bytes) -> str:
    """What `X-Jet-Signature` carries: a receiver computes the same to trust the body."""
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


class HttpAction:
    """Keep-alive connections per host, one set per hook (each hook's deliveries run in a
    thread of their own); the standard library's client, as a webhook is one request and
    `requests` costs more time per request than the request itself on a near target.
    Once the target is unreachable or times out, the rest of the batch fails at once
    rather than wait for each attempt in turn (`flush` ends the batch)."""

    def __init__(self) -> None:
        self._connections: dict[tuple[str, str], http.client.HTTPConnection] = {}
        self._down: str | None = None

    def flush(self) -> None:
        self._down = None

    def __call__(self, hook: HttpHook, params: dict[str, Any], context: dict[str, Any]) -> Result:
        event = context["event"]
        body = params["body"] if params["body"] is not None else event
        data = (body if isinstance(body, str) else json.dumps(body, default=str)).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Jet provisioning",
            "X-Jet-Event": str(event["id"]),
            "X-Jet-Topic": event["topic"],
            "Idempotency-Key": f"{hook.name}-{event['id']}",
            **params["headers"],
        }
        if hook.secret_env:
            key = os.environ.get(hook.secret_env)
            if not key:
                return Failed(f"{hook.secret_env} is not set: the key that signs the body")
            headers["X-Jet-Signature"] = signature(key, data)
        if self._down:
            return Failed(self._down)
        url = urlsplit(params["url"])
        if url.scheme not in ("http", "https") or not url.hostname:
            return Delivered(f"not an http(s) URL: {params['url']}"[:400], refused=True)
        try:
            status, reason = self._send(hook, url, data, headers)
        except TimeoutError:
            self._down = f"no answer within {hook.timeout:g} s"
            return Failed(self._down)
        except (OSError, http.client.HTTPException) as e:
            self._down = f"{type(e).__name__}: {e}"[:400]
            return Failed(self._down)
        said = f"HTTP {status} {reason}"
        if status >= 500:
            return Failed(said)
        if status >= 400:
            return Delivered(f"{said}: refused, not retried", refused=True)
        return Delivered(said)

    def _send(
        self, hook: HttpHook, url: SplitResult, data: bytes, headers: dict[str, str]
    ) -> tuple[int, str]:
        """One request; on a kept connection the target closed meanwhile, once more on a
        new one."""
        key = (url.scheme, url.netloc)
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        for kept in (key in self._connections, False):
            connection = self._connections.get(key) or self._connect(hook, url)
            self._connections[key] = connection
            try:
                connection.request(hook.method, path, body=data, headers=headers)
                answer = connection.getresponse()
                answer.read()
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                del self._connections[key]
                if kept and not isinstance(error, TimeoutError):
                    continue
                raise
            if answer.will_close:
                connection.close()
                del self._connections[key]
            return answer.status, answer.reason
        raise AssertionError("unreachable")

    @staticmethod
    def _connect(hook: HttpHook, url: SplitResult) -> http.client.HTTPConnection:
        if url.scheme == "https":
            return http.client.HTTPSConnection(
                url.hostname, url.port, timeout=hook.timeout, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(url.hostname, url.port, timeout=hook.timeout)
