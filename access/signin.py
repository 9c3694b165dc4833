"""Sign-in through the organisation's identity provider, with Streamlit's own OpenID Connect support
(``st.login``, Authlib). Streamlit reads its ``[auth]`` settings from a secrets file; ``serve`` writes
one from POLICY_ASSISTANT_OIDC_* into the store folder (mode 600) and points Streamlit at it with
``--secrets.files``, so the settings stay the one place to configure the app.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from index.settings import Settings


def cookie_secret(settings: Settings) -> str:
    """The configured cookie secret, or one made once for this store folder (kept, mode 600, so that
    sign-ins survive a restart)."""
    configured = settings.oidc_cookie_secret.get_secret_value()
    if configured:
        return configured
    path = settings.store / "cookie_secret"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def write_streamlit_secrets(settings: Settings) -> Path | None:
    """The secrets file with Streamlit's ``[auth]`` section for the configured provider (None when
    sign-in is off). TOML strings are written as JSON strings, which TOML accepts for basic strings."""
    if not settings.sign_in:
        return None
    values = {
        "redirect_uri": settings.oidc_redirect_uri,
        "cookie_secret": cookie_secret(settings),
        "client_id": settings.oidc_client_id,
        "client_secret": settings.oidc_client_secret.get_secret_value(),
        "server_metadata_url": settings.oidc_metadata_url,
    }
    lines = ["[auth]"] + [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    # The groups claim must be in the ID token: ask for the scopes that carry it.
    lines.append('client_kwargs = { scope = "openid profile email" }')
    folder = settings.store / ".streamlit-auth"
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    path = folder / "secrets.toml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return path
