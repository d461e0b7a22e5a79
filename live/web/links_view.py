"""What the links sheet shows, as plain data for its templates: each kept link with its
address, QR code, status and until when it works, grouped by who gets it; a site's entries
to print, and the `PrintSheet` its PDF is drawn from; the day an organizer chose for a new
link, read. No request here: the handlers (links_sheet.py) build the `Context`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from live.links.kept import (
    ACCOUNT_PREFIX,
    ADMIN_SLOT,
    LinkSlot,
    at_site,
    claims_of,
    handout_slots,
    slots,
)
from live.links.printed import PrintEntry, PrintSheet
from live.links.signing import (
    MAX_DAYS,
    LinkError,
    Signer,
    chosen_until,
    ends_before_event,
    local_day,
)
from live.model import Event, Site
from live.people.desk import Refused
from live.web.common import room_label
from live.web.plenary_pages import qr_svg
from live.web.urls import Urls

ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # what a date input sends


@dataclass
class Context:
    """What every entry needs: the event, the links' address, who is looking."""

    event: Event
    signer: Signer
    urls: Urls  # the app's addresses, absolute
    revoked: frozenset[str]
    viewer: str  # the id of the organizer link this page was opened with
    t: Callable[[str], str]
    lang: str


def _date(ctx: Context, seconds: float | str) -> str:
    if isinstance(seconds, str):
        try:
            when = datetime.fromisoformat(seconds.replace("Z", "+00:00"))
        except ValueError:
            return ""
    else:
        when = datetime.fromtimestamp(seconds, ctx.event.tz)
    fmt = "%d/%m/%Y %H:%M" if ctx.lang == "fr" else "%Y-%m-%d %H:%M"
    return when.astimezone(ctx.event.tz).strftime(fmt)


def link_state(ctx: Context, token: str) -> dict[str, Any]:
    """One kept link as the sheet shows it: address, id, and whether it still opens."""
    claims = claims_of(ctx.signer, token, ctx.event.id)
    if claims is None:
        return {
            "url": "",
            "id": "",
            "status": "invalid",
            "expires": "",
            "early": False,
            "in_use": False,
        }
    status = "valid"
    if claims.id in ctx.revoked:
        status = "revoked"
    elif claims.expires < time.time():
        status = "expired"
    return {
        "url": ctx.urls.link_url(ctx.event.id, claims.role, token),
        "id": claims.id,
        "status": status,
        "expires": _date(ctx, claims.expires),
        # still working, but not through the event's day: the sheet warns
        "early": status == "valid" and ends_before_event(claims, ctx.event),
        "in_use": claims.id == ctx.viewer,
    }


def _day(ctx: Context, day: date) -> str:
    return day.strftime("%d/%m/%Y" if ctx.lang == "fr" else "%Y-%m-%d")


def validity_choice(ctx: Context) -> dict[str, Any]:
    """What "Nouveau lien" offers: the last day a new link works, the default one
    proposed, between today and `MAX_DAYS` from today (days where the event is)."""
    now = time.time()
    today = local_day(now, ctx.event.tz)
    proposed = local_day(ctx.signer.until(ctx.event, now), ctx.event.tz)
    return {
        "default": proposed.isoformat(),
        "min": today.isoformat(),
        "max": (today + timedelta(days=MAX_DAYS)).isoformat(),
        "event_day": ctx.event.date.isoformat(),
        "help": ctx.t("links.until_help").format(
            date=_day(ctx, proposed),
            margin=f"{ctx.signer.validity.margin_days:g}",
            days=f"{ctx.signer.validity.days:g}",
        ),
    }


def early_warning(ctx: Context) -> str:
    """The sentence that says a link stops working before the event is over."""
    return ctx.t("links.expires_early").format(date=_day(ctx, ctx.event.date))


def describe(ctx: Context, slot: LinkSlot) -> tuple[str, str]:
    """A slot's title and the line that says which place or person it is for."""
    event, t = ctx.event, ctx.t
    title = t(f"links.role.{slot.role}")
    if slot.workshop:
        w = event.workshop(slot.workshop)
        if w is None:
            return title, slot.workshop
        site = event.site(w.site)
        where = [event.workshop_short_title(w), site.name if site else w.site]
        if w.room:
            where.append(room_label(w.room, t))
        return title, " — ".join(where)
    if slot == ADMIN_SLOT:
        return title, t("links.admin_handout")
    if slot.key.startswith(ACCOUNT_PREFIX):
        return title, t("links.account_handout")
    if slot.role == "speaker":
        if slot.speaker is None:
            return title, t("links.speaker_any")
        person = next((p for s in event.agenda for p in s.speakers if p.name == slot.speaker), None)
        label = event.speaker_label(person, t("speaker.remote")) if person else slot.speaker
        return title, label
    return title, ""


def entry(ctx: Context, slot: LinkSlot, record: dict[str, Any], qr: bool = True) -> dict[str, Any]:
    """One slot on the sheet: its current link (with QR code) and the ones it replaced."""
    title, detail = describe(ctx, slot)
    current = link_state(ctx, str(record.get("token", "")))
    earlier = []
    for i, e in enumerate(record.get("earlier") or []):
        state = link_state(ctx, str(e.get("token", "")))
        if state["id"]:
            earlier.append(state | {"issued": _date(ctx, str(e.get("issued", ""))), "n": i})
    return {
        "slot": slot,
        "anchor": slot.anchor,
        "title": title,
        "detail": detail,
        "where": ctx.t(f"links.where.{slot.role}"),
        "issued": _date(ctx, str(record.get("issued", ""))),
        "qr": qr_svg(current["url"], 4) if qr and current["status"] == "valid" else "",
        "earlier": earlier,
        **current,
    }


def public_entry(ctx: Context) -> dict[str, Any]:
    """The public page: no link to issue or revoke, only to pass on."""
    address = ctx.urls.url("event", event_id=ctx.event.id)
    return {
        "slot": None,
        "anchor": "l-public",
        "title": ctx.t("links.role.public"),
        "detail": "",
        "where": ctx.t("links.where.public"),
        "url": address,
        "qr": qr_svg(address, 4),
        "status": "public",
        "earlier": [],
    }


def groups(ctx: Context, kept: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The sheet's sections, by who gets the links."""
    event, t = ctx.event, ctx.t
    by_role: dict[str, list[dict[str, Any]]] = {}
    for slot in slots(event):
        by_role.setdefault(slot.role, []).append(entry(ctx, slot, kept[slot.key]))
    crew = [public_entry(ctx), *by_role["facilitator"], *by_role["organizer"]]
    # An administrator's link or a signed-in account opened the studio: the links given.
    crew += [entry(ctx, slot, kept[slot.key]) for slot in handout_slots(kept)]
    out: list[dict[str, Any]] = [{"id": "crew", "title": t("links.group.crew"), "entries": crew}]
    here = by_role["screen"] + by_role["host"] + by_role["participant"]
    for site in event.sites:
        out.append(
            {
                "id": f"site-{site.id}",
                "title": site.name,
                "site": site,
                "entries": [e for e in here if e["slot"].site == site.id],
            }
        )
    if by_role.get("rapporteur"):
        out.append(
            {
                "id": "workshops",
                "title": t("links.group.workshops"),
                "entries": by_role["rapporteur"],
            }
        )
    out.append(
        {"id": "speakers", "title": t("links.group.speakers"), "entries": by_role["speaker"]}
    )
    return out


def site_entries(
    ctx: Context, kept: dict[str, dict[str, Any]], site: Site, qr: bool = True
) -> list[dict[str, Any]]:
    """What a site's printed sheet lists: its screen, host and participants, its
    workshops' rapporteurs, and the speakers who speak from there."""
    return [
        entry(ctx, slot, kept[slot.key], qr)
        for slot in slots(ctx.event)
        if at_site(ctx.event, slot, site.id)
    ]


def print_sheet(ctx: Context, kept: dict[str, Any], site: Site) -> PrintSheet:
    """What a site's PDF says, in the page's language: each link with until when it works,
    and a warning for one that stops before the event is over."""
    t, event = ctx.t, ctx.event
    entries = site_entries(ctx, kept, site, qr=False)  # the worker draws them
    return PrintSheet(
        heading=t("links.site_title"),
        site=site.name,
        address=site.address,
        event=f"{event.title}, {event.date:%d/%m/%Y}",
        note=t("links.print_note"),
        entries=tuple(
            PrintEntry(
                title=e["title"],
                detail=e["detail"],
                where=e["where"],
                url=e["url"],
                note="" if e["status"] == "valid" else t(f"links.status.{e['status']}"),
                validity=t("links.valid_until").format(date=e["expires"])
                if e["status"] == "valid"
                else "",
                warning=early_warning(ctx) if e["early"] else "",
            )
            for e in entries
        ),
    )


def until_of(ctx: Context, raw: str, now: float | None = None) -> int | None:
    """The expiry an organizer chose for a new link (a day, YYYY-MM-DD), None for the
    default; Refused (nothing is signed) for a day that is not one, past or too far."""
    now = time.time() if now is None else now
    if not raw:
        return None
    try:
        if not ISO_DAY.fullmatch(raw):
            raise ValueError(raw)
        return chosen_until(ctx.event, date.fromisoformat(raw), now)
    except (ValueError, LinkError):
        today = local_day(now, ctx.event.tz)
        last = today + timedelta(days=MAX_DAYS)
        raise Refused("error.link_validity", first=_day(ctx, today), last=_day(ctx, last)) from None
