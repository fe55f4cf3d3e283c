"""The in-memory Calendar database: accounts, calendars with their events and ACLs, calendar lists.

Access rules follow Google's sharing model: the data owner is ``owner``; otherwise the strongest
of the ACL rules ``user:<email>``, ``domain:<email's domain>`` and ``default`` (public) applies.
Group membership is not modelled, so ``group:`` rules grant nothing here.
"""

from __future__ import annotations

import secrets
from typing import Any

from google_emulator import errors
from google_emulator.clock import Clock
from google_emulator.model import (
    ROLE_RANK,
    Account,
    AclRuleRec,
    CalendarRec,
    ListEntryRec,
    calendar_from_json,
    max_role,
    to_json,
)


class Store:
    """All Calendar state. Mutated only on the event loop thread."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.seq = 0
        self.order = 0
        self.accounts: dict[str, Account] = {}
        self.calendars: dict[str, CalendarRec] = {}
        self.lists: dict[str, dict[str, ListEntryRec]] = {}
        #: Per-account counters of e-mails Google would have sent (invitations, sharing).
        self.invitations: dict[str, int] = {}
        self.sharing_notifications: dict[str, int] = {}
        self.secret = secrets.token_hex(16)

    # -- sequence -------------------------------------------------------------------------------
    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def next_order(self) -> int:
        self.order += 1
        return self.order

    # -- accounts -------------------------------------------------------------------------------
    def add_account(self, email: str, time_zone: str = "UTC", display_name: str = "") -> Account:
        """Create an account with its primary calendar (id = email), or return the existing one."""
        email = email.strip().lower()
        if email in self.accounts:
            return self.accounts[email]
        account = Account(email=email, time_zone=time_zone, display_name=display_name)
        self.accounts[email] = account
        self.lists[email] = {}
        now = self.clock.now()
        cal = CalendarRec(
            id=email,
            owner=email,
            summary=email,
            time_zone=time_zone,
            created=now,
            updated=now,
            seq=self.next_seq(),
            primary=True,
            ical_secret=secrets.token_hex(16),
        )
        self._add_calendar(cal)
        return account

    def account(self, email: str) -> Account | None:
        return self.accounts.get(email.strip().lower())

    # -- calendars ------------------------------------------------------------------------------
    def create_calendar(
        self,
        owner: str,
        summary: str,
        time_zone: str,
        *,
        description: str | None = None,
        location: str | None = None,
        client_id: str | None = None,
    ) -> CalendarRec:
        # Secondary calendar ids look like Google's: c_<hex>@group.calendar.google.com.
        cal_id = f"c_{secrets.token_hex(26)}@group.calendar.google.com"
        now = self.clock.now()
        cal = CalendarRec(
            id=cal_id,
            owner=owner,
            summary=summary,
            time_zone=time_zone,
            created=now,
            updated=now,
            seq=self.next_seq(),
            description=description,
            location=location,
            created_by_client=client_id,
            ical_secret=secrets.token_hex(16),
        )
        self._add_calendar(cal)
        return cal

    def _add_calendar(self, cal: CalendarRec) -> None:
        self.calendars[cal.id] = cal
        owner_rule = AclRuleRec(
            id=f"user:{cal.owner}",
            scope_type="user",
            scope_value=cal.owner,
            role="owner",
            seq=self.next_seq(),
        )
        cal.acl[owner_rule.id] = owner_rule
        self.lists.setdefault(cal.owner, {})[cal.id] = ListEntryRec(cal.id, seq=self.next_seq())

    def delete_calendar(self, cal: CalendarRec) -> None:
        del self.calendars[cal.id]
        for entries in self.lists.values():
            entry = entries.get(cal.id)
            if entry is not None:
                entry.deleted = True
                entry.seq = self.next_seq()

    def resolve(self, email: str, calendar_id: str) -> CalendarRec:
        """The calendar a request names (``primary`` = the caller's); 404 when unknown."""
        cal_id = email if calendar_id == "primary" else calendar_id
        cal = self.calendars.get(cal_id)
        if cal is None:
            cal = self.calendars.get(cal_id.lower())
        if cal is None:
            raise errors.not_found()
        return cal

    def role(self, email: str, cal: CalendarRec) -> str:
        if email == cal.owner:
            return "owner"
        roles = ["none"]
        domain = email.rpartition("@")[2]
        for key in (f"user:{email}", f"domain:{domain}", "default"):
            rule = cal.acl.get(key)
            if rule is not None and not rule.deleted:
                roles.append(rule.role)
        return max_role(*roles)

    def require(self, email: str, cal: CalendarRec, level: str) -> str:
        """The caller's role; 404 when they cannot see the calendar, 403 when too weak."""
        role = self.role(email, cal)
        if role == "none":
            raise errors.not_found()
        if ROLE_RANK[role] < ROLE_RANK[level]:
            raise errors.required_access(level)
        return role

    def touch(self, cal: CalendarRec) -> int:
        cal.seq = self.next_seq()
        cal.updated = self.clock.now()
        return cal.seq

    # -- persistence ----------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "order": self.order,
            "secret": self.secret,
            "accounts": [to_json(a) for a in self.accounts.values()],
            "calendars": [to_json(c) for c in self.calendars.values()],
            "lists": {
                email: [to_json(e) for e in entries.values()]
                for email, entries in self.lists.items()
            },
            "invitations": self.invitations,
            "sharing_notifications": self.sharing_notifications,
        }

    def load(self, data: dict[str, Any]) -> None:
        self.seq = int(data["seq"])
        self.order = int(data.get("order", 0))
        self.secret = str(data["secret"])
        self.accounts = {a["email"]: Account(**a) for a in data["accounts"]}
        self.calendars = {}
        for raw in data["calendars"]:
            cal = calendar_from_json(dict(raw))
            self.calendars[cal.id] = cal
        self.lists = {
            email: {e["calendar_id"]: ListEntryRec(**e) for e in entries}
            for email, entries in data["lists"].items()
        }
        self.invitations = dict(data.get("invitations", {}))
        self.sharing_notifications = dict(data.get("sharing_notifications", {}))
