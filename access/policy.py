"""Who may read what: a user is a name and a set of groups; each library names the groups that may
read it (settings.libraries). Everything that hands out passages or names documents asks
``Access.libraries(user)`` and searches inside that set (assistant/assistant.py), so a passage a
user may not read is never retrieved, rather than retrieved and hidden afterwards.

The rules fail closed: a library no rule names is read by maintainers only, and a user with no
groups reads only the libraries open to everyone (``*``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from index.settings import Settings

EVERYONE = "*"


@dataclass(frozen=True)
class User:
    """The person (or evaluation script) asking. ``maintainer``: may change documents and reads every
    library. Built from the sign-in's claims, an API key, or the CLI's ``--user``/``--groups``."""
    id: str = "anonymous"
    name: str = ""
    groups: frozenset[str] = field(default_factory=frozenset)
    maintainer: bool = False

    @property
    def label(self) -> str:
        return self.name or self.id


ANONYMOUS = User()


def user_from_claims(claims: dict, settings: Settings) -> User:
    """A signed-in user from the ID token's claims: id from ``email`` (else ``sub``), groups from the
    configured claim (a list, or one string), maintainer when in ``settings.maintainers_group``."""
    raw = claims.get(settings.groups_claim) or []
    groups = frozenset([raw] if isinstance(raw, str) else (str(g) for g in raw))
    ident = str(claims.get("email") or claims.get("preferred_username") or claims.get("sub") or "")
    if not ident:
        raise ValueError("the identity provider's token names no user (no email, preferred_username or sub)")
    return User(id=ident, name=str(claims.get("name") or ident), groups=groups,
                maintainer=bool(settings.maintainers_group) and settings.maintainers_group in groups)


def sign_in_expired(claims: dict, max_hours: float, now: float | None = None) -> bool:
    """Whether a sign-in is older than ``max_hours``. Streamlit's sign-in cookie lasts 30 days and
    carries the groups of the moment of sign-in: a bound on its age bounds how long a user removed
    from a group keeps reading that group's libraries. Claims with no time are taken as expired."""
    import time

    signed_in = claims.get("auth_time") or claims.get("iat")
    try:
        return (now or time.time()) - float(signed_in) > max_hours * 3600
    except (TypeError, ValueError):
        return True


def parse_groups(text: str | None) -> frozenset[str]:
    """``"hr, finance"`` -> {"hr", "finance"} (the CLI's and the API keys' form)."""
    return frozenset(g.strip() for g in (text or "").split(",") if g.strip())


class Access:
    """The library rules of one deployment."""

    def __init__(self, settings: Settings):
        self.rules = {name: frozenset(groups) for name, groups in settings.libraries.items()}
        self.default_library = settings.default_library

    def may_read(self, user: User, library: str) -> bool:
        if user.maintainer:
            return True
        allowed = self.rules.get(library or self.default_library)
        return bool(allowed) and (EVERYONE in allowed or bool(allowed & user.groups))

    def libraries(self, user: User, present: set[str]) -> frozenset[str]:
        """Which of the ``present`` libraries the user reads."""
        return frozenset(lib for lib in present if self.may_read(user, lib))
