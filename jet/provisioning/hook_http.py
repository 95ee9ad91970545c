"""The `http` action: a webhook. The body (the event as JSON unless the hook gives one)
is signed with HMAC-SHA256 under the key in the hook's `secret_env` variable, in
`X-Jet-Signature: sha256=<hex>`; `Idempotency-Key` is the hook and the event, the same on
every attempt. A 5xx answer, a timeout or no connection is tried again (the dispatcher
backs off); a 4xx is the target's final no and is never repeated."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any, Literal

import requests
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
    """One connection pool per hook (each hook's deliveries run in a thread of their own).
    Once the target is unreachable or times out, the rest of the batch fails at once
    rather than wait for each attempt in turn (`flush` ends the batch)."""

    def __init__(self) -> None:
        self._session = requests.Session()
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
        try:
            answer = self._session.request(
                hook.method, params["url"], data=data, headers=headers, timeout=hook.timeout
            )
        except requests.Timeout:
            self._down = f"no answer within {hook.timeout:g} s"
            return Failed(self._down)
        except requests.ConnectionError as e:
            self._down = f"ConnectionError: {e}"[:400]
            return Failed(self._down)
        except requests.RequestException as e:
            return Failed(f"{type(e).__name__}: {e}"[:400])
        said = f"HTTP {answer.status_code} {answer.reason}"
        if answer.status_code >= 500:
            return Failed(said)
        if answer.status_code >= 400:
            return Delivered(f"{said}: refused, not retried", refused=True)
        return Delivered(said)
