"""The `ftp` action: uploads a file rendered for the event (a provisioning batch line, a
partner's account record) to an FTP or FTPS server. The file goes up under a temporary
name and is renamed to `path` once whole, so a reader never sees half of it; a repeated
delivery writes the same file again. The password is read from the environment variable
`password_env`. A permanent refusal (5xx: no such folder, no right to write) is final;
an unreachable server or a temporary one (4xx) is tried again."""

from __future__ import annotations

import ftplib
import io
import os
import posixpath
import ssl
from typing import Any, ClassVar, Literal

from pydantic import Field

from jet.config import Settings
from jet.deliveries import Delivered, Failed, Result
from jet.provisioning.hook_base import Action, HookBase


class FtpHook(HookBase):
    fixed: ClassVar[frozenset[str]] = frozenset({"host", "port", "user", "password_env", "tls"})

    action: Literal["ftp"]
    host: str
    port: int = 21
    user: str = "anonymous"
    password_env: str | None = None
    tls: bool = False  # FTPS (explicit, AUTH TLS; the server's certificate verified)
    path: str  # template: where the file goes, e.g. provision/{{ account.id }}.txt
    content: str  # template: the file's text
    timeout: float = Field(default=30.0, gt=0, le=300)

    def runner(self, settings: Settings) -> Action:
        return upload

    @property
    def target(self) -> str:
        return f"ftp{'s' if self.tls else ''}://{self.user}@{self.host}:{self.port}"


def upload(hook: FtpHook, params: dict[str, Any], context: dict) -> Result:
    password = os.environ.get(hook.password_env, "") if hook.password_env else ""
    if hook.password_env and not password:
        return Failed(f"{hook.password_env} is not set: the FTP password")
    path = params["path"]
    folder, name = posixpath.split(path)
    partial = posixpath.join(folder, f".{name}.part-{context['event']['id']}")
    ftp = (
        ftplib.FTP_TLS(context=ssl.create_default_context(), timeout=hook.timeout)
        if hook.tls
        else ftplib.FTP(timeout=hook.timeout)
    )
    try:
        ftp.connect(hook.host, hook.port)
        ftp.login(hook.user, password)
        if hook.tls:
            ftp.prot_p()
        ftp.storbinary(f"STOR {partial}", io.BytesIO(params["content"].encode()))
        ftp.rename(partial, path)
        ftp.quit()
    except ftplib.error_perm as e:  # 5xx: the server's final no
        ftp.close()
        return Delivered(f"refused: {e}"[:400], refused=True)
    except (OSError, EOFError, ftplib.Error) as e:  # unreachable, 4xx, dropped
        ftp.close()
        return Failed(f"{type(e).__name__}: {e}"[:400])
    return Delivered(f"uploaded {path}")
