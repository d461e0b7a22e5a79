"""The organizer's report and lists: the assignment report (page with a chart, CSV), the
registrations CSV (re-importable) and the confirmations CSV with each person's link.

CSV files are `;`-separated UTF-8 with a BOM, what a French spreadsheet opens as is, and
no cell can run as a formula.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from live.agenda.live import Live
from live.i18n import translator
from live.model import Event
from live.people import rounds
from live.people.assignment import Summary, Tally
from live.people.registration import Registration, wish_slots
from live.people.store import Part, People
from live.people.tallies import site_name
from live.web.common import lang_of, render
from live.web.organize import (
    BASE,
    CONFIRMATION_HEAD,
    PERSON_HEAD,
    PERSON_TAIL,
    REPORT_TAIL,
    Refused,
    desk_of,
    local_time,
    organizer,
    round_labels,
)


def _tally_row(section: str, key: str, tally: Tally, depth: int) -> list[Any]:
    by_rank = [*tally.by_rank, *[0] * (depth - len(tally.by_rank))]
    counts = [tally.without_wish, tally.unplaced, tally.no_wishes]
    return [section, key, tally.people, *by_rank, *counts, "", "", ""]


def report_rows(event: Event, report: Summary) -> tuple[list[str], list[list[Any]]]:
    """One table: overall, each site, each category, then each workshop's fill."""
    depth = max(event.registration.wishes, len(report.overall.by_rank))
    wishes = [f"wish_{i}" for i in range(1, depth + 1)]
    header = ["section", "key", "people", *wishes, *REPORT_TAIL]
    rows = [_tally_row("overall", "", report.overall, depth)]
    rows += [_tally_row("site", k, v, depth) for k, v in report.by_site.items()]
    rows += [_tally_row("category", k, v, depth) for k, v in report.by_category.items()]
    for f in report.fill:
        blanks = [""] * (depth + 3)
        rows.append(["workshop", f.workshop, f.count, *blanks, f.capacity, f.min_size, f.status])
    return header, rows


def _cell(value: Any) -> str:
    """Text as a spreadsheet shows it, never run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def column_names(request: Request, header: Sequence[str]) -> list[str]:
    """Column names in the page's language: `wish2` reads "voeu2" in French (which the
    import reads back, like every other French name: see `registration.COLUMNS`)."""
    t = translator(lang_of(request))
    out = []
    for name in header:
        m = re.fullmatch(r"wish_?(\d+)", name)
        if m:
            out.append(t("csv.wish").format(n=m.group(1), name=name))
        else:
            out.append(t(f"csv.{name}"))
    return out


def csv_response(
    request: Request, filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Response:
    """`;`-separated UTF-8 with a BOM: what a French spreadsheet opens without asking."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(column_names(request, header))
    writer.writerows([_cell(v) for v in row] for row in rows)
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _round_key(request: Request, event: Event) -> str | None:
    """The round a report is asked for (`?round=`; the first round by default)."""
    key = request.query_params.get("round")
    return key if key in {r.key for r in rounds.rounds(event)} else None


@organizer
async def report_page(request: Request, live: Live, people: People) -> Response:
    event = live.event
    key = _round_key(request, event)
    report, run = await desk_of(request).report(people, key)
    labels = round_labels(request, event)
    every = rounds.rounds(event)
    listed = rounds.listed(event)
    return await asyncio.to_thread(
        render,
        request,
        "organize_report.html",
        event=event,
        token=request.query_params["k"],
        report=report.as_dict() if report else None,
        run_at=local_time(event, run.at if run else None),
        depth=max(event.registration.wishes, len(report.overall.by_rank) if report else 0),
        titles={w.id: event.workshop_short_title(w) for w in event.workshops},
        sites={s.id: s.name for s in event.sites},
        rounds=[(r.key, labels[r.key]) for r in listed],
        round_key=key or (every[0].key if every else ""),
    )


@organizer
async def report_csv(request: Request, live: Live, people: People) -> Response:
    """The report as CSV. With several rounds, every round (or `?round=`'s), each line
    naming its round in a first column: a file of round 1 alone would pass for the day's."""
    event = live.event
    key = _round_key(request, event)
    if not rounds.several(event):
        report, _ = await desk_of(request).report(people, key)
        if report is None:
            raise Refused("org.no_result")
        header, rows = report_rows(event, report)
        name = f"{event.id}-report.csv"
        return await asyncio.to_thread(csv_response, request, name, header, rows)
    labels = round_labels(request, event)
    wanted = [r.key for r in rounds.rounds(event) if key is None or r.key == key]
    header, rows = [], []
    for k in wanted:
        report, _ = await desk_of(request).report(people, k)
        if report is None:
            raise Refused("org.no_result")
        head, part = report_rows(event, report)
        header = ["round", *head]
        rows += [[labels[k], *row] for row in part]
    name = f"{event.id}-report-{key}.csv" if key else f"{event.id}-report.csv"
    return await asyncio.to_thread(csv_response, request, name, header, rows)


def _person_row(
    r: Registration, n: int, placements: dict[str, Any], ranks: dict[str, Any]
) -> list[Any]:
    wishes = (r.wishes + [""] * n)[:n]
    placed = [r.pinned, placements.get(r.id), ranks.get(r.id), r.confirmed, r.created]
    return [r.id, r.name, r.email, r.category, r.site, *wishes, r.accessibility, r.group, *placed]


def _person_rounds_row(event: Event, r: Registration, parts: dict[str, Part]) -> list[Any]:
    """Several rounds: each round's wishes in its own columns (round 2's from `wish{n+1}`,
    n the wishes of a round: the list imports back the same), and the pins, placements,
    ranks and confirmations of the rounds joined with " / ", in round order."""
    n = event.registration.wishes
    wishes: list[str] = []
    pinned, placed, ranks, confirmed = [], [], [], []
    for rnd in rounds.rounds(event):
        wishes += (rounds.wishes_in(event, r, rnd.key) + [""] * n)[:n]
        part = parts.get(rnd.key)
        rank = part.ranks.get(r.id) if part else None
        pinned.append(rounds.pinned_in(event, r, rnd.key) or "")
        placed.append((part.placements.get(r.id) if part else None) or "")
        ranks.append("" if rank is None else str(rank))
        confirmed.append(rounds.confirmed_in(event, r, rnd.key) or "")
    joined = [" / ".join(v) if any(v) else "" for v in (pinned, placed, ranks, confirmed)]
    head = [r.id, r.name, r.email, r.category, r.site]
    return [*head, *wishes, r.accessibility, r.group, *joined, r.created]


@organizer
async def registrations_csv(request: Request, live: Live, people: People) -> Response:
    """Every registration with its placement; re-importable (same column names)."""
    event = live.event
    regs, run = await desk_of(request).listing(people)
    n = wish_slots(event)
    header = [*PERSON_HEAD, *[f"wish{i}" for i in range(1, n + 1)], *PERSON_TAIL]

    def listing() -> Response:  # thousands of rows: in a thread, the loop serves meanwhile
        if rounds.several(event):
            parts = run.parts(event) if run else {}
            rows = [_person_rounds_row(event, r, parts) for r in regs]
        else:
            placements, ranks = (run.placements, run.ranks) if run else ({}, {})
            rows = [_person_row(r, n, placements, ranks) for r in regs]
        return csv_response(request, f"{event.id}-registrations.csv", header, rows)

    return await asyncio.to_thread(listing)


@organizer
async def confirmations_csv(request: Request, live: Live, people: People) -> Response:
    """Confirmed people with a working personal link each (minted once for those who have
    none that still works), to send by other means when there is no SMTP server. With
    several rounds, one line per person and round, at that round's times."""
    event = live.event
    header = CONFIRMATION_HEAD
    rows = []
    service = desk_of(request)
    regs, _ = await service.listing(people)
    for reg in regs:
        mine = rounds.confirmed_list(event, reg)
        if not mine:
            continue
        link = await service.working_link(people, reg)
        for w in mine:
            where = [site_name(event, w.site), event.workshop_title(w), w.room]
            times = rounds.workshop_times(event, w.site, w)
            rows.append([reg.name, reg.email, *where, times, w.visio_url, link])
    return csv_response(request, f"{event.id}-confirmations.csv", header, rows)


routes = [
    Route(BASE + "/report", report_page, name="organize_report"),
    Route(BASE + "/report.csv", report_csv, name="organize_report_csv"),
    Route(BASE + "/registrations.csv", registrations_csv, name="organize_registrations_csv"),
    Route(BASE + "/confirmations.csv", confirmations_csv, name="organize_confirmations_csv"),
]
