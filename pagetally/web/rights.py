"""Who may see and change what on the web (pure rules, no I/O).

Three roles, PyKota's read-only vs read-write split plus the users themselves:
a user sees only their own account, jobs, payments and requests, and changes
only their own requests; a read-only admin sees everything and changes nothing;
an admin sees and changes everything. Every page and API route asks these
functions, so the rule is written once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    USER = "user"
    READONLY_ADMIN = "readonly-admin"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is asking: a name (as in the store) and a role."""

    name: str
    role: Role = Role.USER
    via: str = "session"  # how it was resolved: session, remote-user, token...

    @property
    def is_admin(self) -> bool:
        """Sees the admin pages (a read-only admin too)."""
        return self.role in (Role.ADMIN, Role.READONLY_ADMIN)


def role_of(
    name: str, groups: Iterable[str], admins: Iterable[str], readonly_admins: Iterable[str]
) -> Role:
    """The role `webadmins`/`webreadonlyadmins` give `name`, a member of `groups`.

    Entries are user names or `@group`; admin wins over read-only admin.
    """
    member = set(groups)

    def listed(entries: Iterable[str]) -> bool:
        # "@x" names a group only: a user named "@x" is not listed by it
        return any(member.__contains__(e[1:]) if e.startswith("@") else e == name for e in entries)

    if listed(admins):
        return Role.ADMIN
    if listed(readonly_admins):
        return Role.READONLY_ADMIN
    return Role.USER


def may_see_user(who: Identity, user: str) -> bool:
    """A user's account, quotas, jobs, payments, invoices, requests."""
    return who.is_admin or who.name == user


def may_see_admin(who: Identity) -> bool:
    """The admin pages (lists of everyone, dashboards, job search)."""
    return who.is_admin


def may_change_site(who: Identity) -> bool:
    """Any admin change: users, groups, printers, quotas, codes, payments, refunds."""
    return who.role is Role.ADMIN


def may_request_refund(who: Identity, job_user: str) -> bool:
    """Asking a refund of a job: its own user only (an admin refunds directly)."""
    return who.name == job_user
