"""The links sheet of the organizer's desk: every role link of an event, by who gets it,
with what to open on which machine, a copy button, a QR code, a new link and revocation;
and a printable sheet per site (HTML with a print stylesheet, or PDF).

`relais links` signs new links each time it runs; a sheet that did so would show other
links on every load. So a link is issued once per role and place (a "slot": the console,
a site's screen, a workshop's rapporteur...) and kept in the record `links/{event}:{slot}`
with the links it replaced; the sheet shows the same link until the organizer asks for a
new one. A new link does not end the old one (people already holding it keep working):
revoking does, and closes at once the pages open with it (`LinkBook.revoke`).

The studio opened with an administrator's link hands out an organizer link too (to the
desk, this sheet, the console): it is kept here like the others, in its own slot
(`ADMIN_SLOT`), shown once handed out, revocable, and revoked with the admin links
(`revoke_admin_handouts`): no page mints a link the organizer cannot see.

A link is valid by default through the event's day and a margin after it (`links.Validity`,
as `relais links` signs them); "Nouveau lien" lets the organizer choose the last day
instead (a year at most). The sheet and every printed sheet say until when each link
works, and warn when one would stop before the event is over: a sheet printed months
ahead must not be dead on the day.

Every route needs an organizer link (`?k=`, on POSTs too, as on the desk: the signed token
in the address is what a cross-site form cannot know).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Awaitable, Callable, Container
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote, urlencode

import segno
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live.agenda.live import Live
from live.backends.base import Backend
from live.i18n import translator
from live.links.signing import (
    MAX_DAYS,
    Claims,
    LinkError,
    Revocations,
    Role,
    Signer,
    chosen_until,
    ends_before_event,
    local_day,
    url,
)
from live.model import Event, Site
from live.people.desk import Refused
from live.web.common import error_page, lang_of, not_found, render, room_label, with_link
from live.web.plenary_pages import qr_svg
from live.workers import Busy, Failed

KIND = "links"  # records `links/{event}:{slot key}`
EARLIER_KEPT = 50  # links replaced by a new one, kept on the sheet to be revoked
DONE = ("reissue", "revoke")
FONTS = Path("/usr/share/fonts/truetype/dejavu")
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # what a date input sends
QR_MM = 48  # printed QR side: a 57-module code with its margin, 0.7 mm a module


# -- who gets which link --------------------------------------------------------------------


@dataclass(frozen=True)
class LinkSlot:
    """One role at one place: what a link is issued for, and kept for."""

    key: str  # "facilitator", "screen:niort", "rapporteur:acces-poitiers", "speaker:Nom"
    role: Role
    site: str | None = None
    workshop: str | None = None
    speaker: str | None = None

    def sign(self, signer: Signer, event: Event, until: int | None = None) -> str:
        """A link for this slot, valid until `until`, else by default for this event."""
        expires = signer.until(event) if until is None else until
        return signer.sign(
            event.id, self.role, site=self.site, workshop=self.workshop, until=expires
        )

    @property
    def anchor(self) -> str:
        """An HTML id for this slot (keys hold names, which ids cannot)."""
        return "l-" + hashlib.sha256(self.key.encode()).hexdigest()[:10]


def speaker_names(event: Event) -> list[str]:
    """Who speaks on a plenary video step, once each (as `relais links`): each gets a link
    of their own, revocable on its own."""
    return list(dict.fromkeys(p.name for s in event.agenda if s.video for p in s.speakers))


def slots(event: Event) -> list[LinkSlot]:
    """Every link of the event: console and desk; per site its screen, host and
    participants; per workshop its rapporteur; per plenary speaker their link (one for
    whoever speaks when the programme names nobody)."""
    out = [LinkSlot("facilitator", "facilitator"), LinkSlot("organizer", "organizer")]
    for s in event.sites:
        out += [
            LinkSlot(f"screen:{s.id}", "screen", site=s.id),
            LinkSlot(f"host:{s.id}", "host", site=s.id),
            LinkSlot(f"participant:{s.id}", "participant", site=s.id),
        ]
    for w in event.workshops:
        out.append(LinkSlot(f"rapporteur:{w.id}", "rapporteur", site=w.site, workshop=w.id))
    names = speaker_names(event)
    out += [LinkSlot(f"speaker:{n}", "speaker", speaker=n) for n in names] or [
        LinkSlot("speaker", "speaker")
    ]
    return out


# The organizer link the studio gives whoever opens it with an admin link. Not in `slots`:
# the sheet shows it once an admin was given it, not before.
ADMIN_SLOT = LinkSlot("organizer:admin", "organizer")


def slot_named(event: Event, key: str) -> LinkSlot | None:
    """The slot with this key, the admins' one included."""
    return next((s for s in [*slots(event), ADMIN_SLOT] if s.key == key), None)


def speaker_site(event: Event, name: str) -> str | None:
    """The site a speaker speaks from, if the programme says so (not remote)."""
    for step in event.agenda:
        for p in step.speakers:
            if p.name == name and p.site and not p.remote:
                return p.site
    return None


def at_site(event: Event, slot: LinkSlot, site_id: str) -> bool:
    """Is this link for people at this site (its printed sheet)?"""
    if slot.role == "speaker":
        return slot.speaker is not None and speaker_site(event, slot.speaker) == site_id
    return slot.site == site_id


# -- issued links, kept --------------------------------------------------------------------


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def claims_of(signer: Signer, token: str, event_id: str) -> Claims | None:
    """What a kept token says, valid or not (revoked and expired ones are shown as such);
    None if this server's secret did not sign it."""
    try:
        return signer.verify(token, event_id, now=0.0)  # at time 0 nothing has expired
    except LinkError:
        return None


def _to_issue(
    signer: Signer, event: Event, kept: dict[str, dict[str, Any]]
) -> list[tuple[LinkSlot, dict[str, Any]]]:
    """The slots with no readable kept link, each with a fresh record (sixty signatures
    and checks on a large day: run in a thread)."""
    out = []
    for slot in slots(event):
        token = (kept.get(slot.key) or {}).get("token")
        if isinstance(token, str) and claims_of(signer, token, event.id) is not None:
            continue
        out.append((slot, {"token": slot.sign(signer, event), "issued": _now(), "earlier": []}))
    return out


async def issued(backend: Backend, signer: Signer, event: Event) -> dict[str, dict[str, Any]]:
    """The kept link of every slot, by slot key, issuing the missing ones. A kept link this
    server cannot read (its secret was replaced) is replaced too."""
    prefix = f"{event.id}:"
    kept = {
        key.removeprefix(prefix): value
        for key, value in (await backend.list_records(KIND, prefix)).items()
    }
    for slot, fresh in await asyncio.to_thread(_to_issue, signer, event, kept):
        if slot.key not in kept:
            # Two organizers opening the sheet at once keep one link, not two.
            if not await backend.create_record(KIND, prefix + slot.key, fresh):
                kept[slot.key] = await backend.get_record(KIND, prefix + slot.key) or fresh
                continue
        else:
            await backend.put_record(KIND, prefix + slot.key, fresh)
        kept[slot.key] = fresh
    return kept


async def kept_link(
    backend: Backend, signer: Signer, event: Event, slot: LinkSlot, revoked: Container[str]
) -> str:
    """The link kept for one slot, issued on first use (or when the kept one was revoked):
    what a site screen's QR code gives is the participants' link of the sheet, reissued
    and revoked there."""
    key = f"{event.id}:{slot.key}"
    record = await backend.get_record(KIND, key)
    token = (record or {}).get("token")
    claims = claims_of(signer, token, event.id) if isinstance(token, str) else None
    if isinstance(token, str) and claims is not None and claims.id not in revoked:
        return token
    fresh = {"token": slot.sign(signer, event), "issued": _now(), "earlier": []}
    if record is None and not await backend.create_record(KIND, key, fresh):
        return await kept_link(backend, signer, event, slot, revoked)  # issued meanwhile
    if record is not None:  # revoked (or unreadable): a new one, the old kept on the sheet
        await reissue(backend, signer, event, slot)
        return await kept_link(backend, signer, event, slot, revoked)
    return str(fresh["token"])


async def reissue(
    backend: Backend, signer: Signer, event: Event, slot: LinkSlot, until: int | None = None
) -> None:
    """A new link for this slot (valid until `until`, else by default); the one it
    replaces goes to `earlier`, still valid."""
    key = f"{event.id}:{slot.key}"
    record = await backend.get_record(KIND, key) or {}
    earlier = list(record.get("earlier") or [])
    if isinstance(record.get("token"), str):
        earlier.insert(0, {"token": record["token"], "issued": record.get("issued", "")})
    fresh = {"token": slot.sign(signer, event, until), "issued": _now(), "earlier": []}
    await backend.put_record(KIND, key, fresh | {"earlier": earlier[:EARLIER_KEPT]})


def tokens_of(record: dict[str, Any]) -> list[str]:
    """The current token of a kept record, then the earlier ones."""
    earlier = [e.get("token") for e in record.get("earlier") or [] if isinstance(e, dict)]
    return [t for t in [record.get("token"), *earlier] if isinstance(t, str)]


async def revoke_admin_handouts(
    backend: Backend, signer: Signer, revoke: Callable[[str, str], Awaitable[None]]
) -> None:
    """Revoke, in every event, the organizer links the studio gave administrators (the
    `ADMIN_SLOT` records): admin links were revoked, what they handed out goes with them.
    `revoke(event, link id)` records one (`LinkBook.revoke`)."""
    for key, record in (await backend.list_records(KIND, "")).items():
        event_id, _, slot_key = key.partition(":")
        if slot_key != ADMIN_SLOT.key:
            continue
        revoked = await Revocations(backend).of(event_id)
        for token in tokens_of(record):
            claims = claims_of(signer, token, event_id)
            if claims is not None and claims.id not in revoked:
                await revoke(event_id, claims.id)


# -- what the pages show ----------------------------------------------------------------------


@dataclass
class Context:
    """What every entry needs: the event, the links' address, who is looking."""

    event: Event
    signer: Signer
    base: str
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
        "url": url(ctx.base, ctx.event.id, claims.role, token),
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
    address = f"{ctx.base}/e/{quote(ctx.event.id)}"
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
    if ADMIN_SLOT.key in kept:  # an administrator opened the studio: the link it was given
        crew.append(entry(ctx, ADMIN_SLOT, kept[ADMIN_SLOT.key]))
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


# -- the printed sheet as PDF (in a worker process) -------------------------------------------


@dataclass(frozen=True)
class PrintEntry:
    title: str
    detail: str
    where: str
    url: str
    note: str  # why there is no QR code (a revoked link), else ""
    validity: str = ""  # "Valable jusqu'au …"
    warning: str = ""  # it stops working before the event is over


@dataclass(frozen=True)
class PrintSheet:
    """Everything the PDF says, already in the page's language: picklable, for a worker."""

    heading: str
    site: str
    address: str
    event: str
    note: str
    entries: tuple[PrintEntry, ...]


def _qr(pdf: Any, text: str, x: float, y: float, side: float) -> None:
    """A QR code drawn as filled rectangles (one per run of dark modules in a row), so it
    stays sharp at any print size and needs no image library."""
    qr = segno.make(text, error="m")
    rows = qr.matrix
    border = 4
    module = side / (len(rows) + 2 * border)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                pdf.rect(
                    x + (border + start) * module,
                    y + (border + r) * module,
                    (c - start) * module,
                    module * 1.02,  # a hair of overlap: no white seams between rows
                    style="F",
                )
            else:
                c += 1


def sheet_pdf(sheet: PrintSheet, fonts: Path = FONTS) -> bytes:
    """A site's links as an A4 PDF: name and address, then each link with what to open on
    which machine, its address and a QR code large enough to scan from paper. CPU-bound:
    the server runs it in a worker process (`workers.py`)."""
    from fpdf import FPDF
    from fpdf.enums import MethodReturnValue, WrapMode

    pdf = FPDF(format="A4")
    pdf.set_title(f"{sheet.heading} — {sheet.site}")
    pdf.set_creator("Relais")
    pdf.set_auto_page_break(False)
    family, mono = "helvetica", "courier"
    texts = [sheet.site, sheet.address, f"{sheet.heading} — {sheet.event}", sheet.note]
    entries = list(sheet.entries)
    if (fonts / "DejaVuSans.ttf").exists():
        family, mono = "DejaVu", "DejaVuMono"
        pdf.add_font(family, "", str(fonts / "DejaVuSans.ttf"))
        pdf.add_font(family, "B", str(fonts / "DejaVuSans-Bold.ttf"))
        pdf.add_font(mono, "", str(fonts / "DejaVuSansMono.ttf"))
    else:  # core fonts: latin-1 only
        texts = [_latin1(s) for s in texts]
        entries = [
            PrintEntry(
                *(
                    _latin1(v)
                    for v in (e.title, e.detail, e.where, e.url, e.note, e.validity, e.warning)
                )
            )
            for e in entries
        ]
    site, address, about, note = texts
    margin, width = 15.0, 210.0 - 30.0
    pdf.set_margins(margin, margin)
    pdf.add_page()
    pdf.set_text_color(0, 70, 140)
    pdf.set_font(family, "B", 18)
    pdf.multi_cell(width, 8, site, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(family, "", 11)
    for line in (address, about):
        if line:
            pdf.multi_cell(width, 6, line, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 9)
    pdf.multi_cell(width, 5, note, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    text_x, text_w = margin + QR_MM + 6, width - QR_MM - 6

    def lines(
        text: str,
        size: float,
        height: float,
        font: str = family,
        style: str = "",
        dry: bool = False,
    ) -> float:
        """Write `text` beside the QR code (or only measure it): the height it takes."""
        pdf.set_font(font, style, size)
        pdf.set_x(text_x)
        wrap = WrapMode.CHAR if font == mono else WrapMode.WORD
        used = cast(
            float,
            pdf.multi_cell(
                text_w,
                height,
                text,
                align="L",
                new_x="LMARGIN",
                new_y="NEXT",
                wrapmode=wrap,
                dry_run=dry,
                output=MethodReturnValue.HEIGHT,
            ),
        )
        if not dry:
            pdf.set_y(pdf.get_y() + 1)
        return used + 1

    def block(e: PrintEntry, dry: bool) -> float:
        """An entry's text: title, place, what to open where, the address."""
        used = lines(e.title, 13, 6, style="B", dry=dry)
        if e.detail:
            used += lines(e.detail, 10, 5, dry=dry)
        used += lines(e.where, 11, 5.5, dry=dry)
        if e.validity:
            used += lines(e.validity, 10, 5, style="B", dry=dry)
        if e.warning:
            pdf.set_text_color(160, 0, 0)
            used += lines(e.warning, 10, 5, style="B", dry=dry)
            pdf.set_text_color(0, 0, 0)
        return used + lines(e.url, 7.5, 3.6, font=mono, dry=dry)

    for e in entries:
        if pdf.get_y() + max(QR_MM, block(e, dry=True)) + 4 > 297 - margin:
            pdf.add_page()  # an entry is never split across pages
        top = pdf.get_y()
        pdf.set_draw_color(180, 180, 180)
        pdf.line(margin, top, margin + width, top)
        if e.note:
            pdf.set_xy(margin, top + 4)
            pdf.set_font(family, "B", 10)
            pdf.multi_cell(QR_MM, 5, e.note, align="L")
        else:
            _qr(pdf, e.url, margin, top + 2, QR_MM)
        pdf.set_y(top + 4)
        block(e, dry=False)
        pdf.set_y(max(pdf.get_y(), top + QR_MM + 4))
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    text = text.replace("—", "-").replace("–", "-").replace("’", "'").replace("«", '"')
    return text.replace("»", '"').encode("latin-1", "replace").decode("latin-1")


# -- routes ----------------------------------------------------------------------------------


def _context(request: Request, event: Event, claims: Claims, revoked: frozenset[str]) -> Context:
    lang = lang_of(request)
    state = request.app.state
    return Context(
        event=event,
        signer=state.signer,
        base=state.settings.base_url,
        revoked=revoked,
        viewer=claims.id,
        t=translator(lang),
        lang=lang,
    )


async def _kept(request: Request, live: Live, claims: Claims) -> tuple[Context, dict[str, Any]]:
    state = request.app.state
    kept = await issued(state.backend, state.signer, live.event)
    revoked = await state.links.revocations.of(live.event.id)
    return _context(request, live.event, claims, revoked), kept


def _message(request: Request, key: str, params: dict[str, Any]) -> str:
    t = translator(lang_of(request))
    return str(t(key)).format(**params)


async def _sheet(
    request: Request, live: Live, claims: Claims, status: int = 200, error: str = ""
) -> Response:
    ctx, kept = await _kept(request, live, claims)
    done = request.query_params.get("done", "")

    def page() -> Response:
        sections = groups(ctx, kept)
        early = sum(1 for g in sections for e in g["entries"] if e.get("early"))
        return render(
            request,
            "links.html",
            status=status,
            event=live.event,
            token=request.query_params["k"],
            groups=sections,
            validity=validity_choice(ctx),
            early=early,
            early_warning=early_warning(ctx),
            error=error,
            done="" if error or done not in DONE else done,
            done_slot=request.query_params.get("slot", ""),
        )

    # Fifty QR codes are a few hundred ms of work: built and rendered off the event loop.
    return await asyncio.to_thread(page)


@with_link("organizer")
async def sheet(request: Request, live: Live, claims: Claims) -> Response:
    """Every link of the event, by who gets it."""
    return await _sheet(request, live, claims)


@with_link("organizer")
async def site_sheet(request: Request, live: Live, claims: Claims) -> Response:
    """One site's links to print (A4), or the same as PDF (`?format=pdf`)."""
    site = live.event.site(request.path_params["site_id"])
    if site is None:
        return not_found(request)
    fmt = request.query_params.get("format", "html")
    if fmt not in ("html", "pdf"):
        return Response("format must be html or pdf", status_code=400, media_type="text/plain")
    ctx, kept = await _kept(request, live, claims)
    if fmt == "pdf":
        return await _site_pdf(request, ctx, kept, site)
    return await asyncio.to_thread(
        lambda: render(
            request,
            "links_site.html",
            event=live.event,
            token=request.query_params["k"],
            site=site,
            entries=site_entries(ctx, kept, site),
            early_warning=early_warning(ctx),
        )
    )


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


async def _site_pdf(request: Request, ctx: Context, kept: dict[str, Any], site: Site) -> Response:
    event = ctx.event
    sheet = print_sheet(ctx, kept, site)
    try:  # rendered in a worker process of its own lane, never behind a synthesis
        body = await request.app.state.sheet_workers.run(sheet_pdf, sheet)
    except Busy as exc:
        busy = error_page(request, 503, "error.busy")
        busy.headers["Retry-After"] = str(exc.retry_after)
        return busy
    except Failed:  # its worker died or ran out of time (logged): a new one takes the next
        failed = error_page(request, 503, "error.export_failed")
        failed.headers["Retry-After"] = "10"
        return failed
    name = f"liens-{event.id}-{site.id}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _slot(event: Event, key: str) -> LinkSlot:
    found = slot_named(event, key)
    if found is None:
        raise Refused("links.unknown_slot")
    return found


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


def _back(request: Request, live: Live, done: str, slot: LinkSlot) -> Response:
    """Post/redirect/get, back to the entry that changed: a reload repeats nothing."""
    query = urlencode({"k": request.query_params["k"], "done": done, "slot": slot.key})
    where = request.app.url_path_for("links", event_id=live.event.id)
    return RedirectResponse(f"{where}?{query}#{slot.anchor}", status_code=303)


async def _act(request: Request, live: Live, claims: Claims, done: str) -> Response:
    form = await request.form(max_files=0)
    state = request.app.state
    try:
        slot = _slot(live.event, str(form.get("slot") or ""))
        if done == "reissue":
            ctx = _context(request, live.event, claims, frozenset())
            until = until_of(ctx, str(form.get("until") or "").strip())
            await reissue(state.backend, state.signer, live.event, slot, until)
        else:
            link_id = str(form.get("link") or "")
            record = await state.backend.get_record(KIND, f"{live.event.id}:{slot.key}") or {}
            known = (claims_of(state.signer, t, live.event.id) for t in tokens_of(record))
            ids = [c.id for c in known if c is not None]
            if not link_id or link_id not in ids:
                raise Refused("links.unknown_link")
            if link_id == claims.id:
                raise Refused("links.revoke_own")
            await state.links.revoke(live.event.id, link_id)  # closes its sockets too
    except Refused as exc:
        error = _message(request, exc.key, exc.params)
        return await _sheet(request, live, claims, status=exc.status, error=error)
    return _back(request, live, done, slot)


@with_link("organizer")
async def reissue_link(request: Request, live: Live, claims: Claims) -> Response:
    """A new link for one role and place; the old one keeps working until revoked."""
    return await _act(request, live, claims, "reissue")


@with_link("organizer")
async def revoke_link(request: Request, live: Live, claims: Claims) -> Response:
    """Revoke one of the sheet's links: refused from then on, its open pages closed."""
    return await _act(request, live, claims, "revoke")


BASE = "/e/{event_id}/links"
routes = [
    Route(BASE, sheet, name="links"),
    Route(BASE + "/reissue", reissue_link, methods=["POST"], name="links_reissue"),
    Route(BASE + "/revoke", revoke_link, methods=["POST"], name="links_revoke"),
    Route(BASE + "/{site_id}", site_sheet, name="links_site"),
]
