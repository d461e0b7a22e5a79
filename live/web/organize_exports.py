"""The organizer's report and lists: the assignment report (page with a chart, CSV), the
registrations CSV (re-importable) and the confirmations CSV with each person's link.

CSV files are `;`-separated UTF-8 with a BOM, what a French spreadsheet opens as is, and
no cell can run as a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from live.agenda.hub import Live
from live.i18n import translator
from live.model import Event
from live.people.assignment import Report, Tally
from live.people.registration import Registration
from live.people.store import People, Run
from live.web.common import lang_of, render
from live.web.organize import (
    BASE,
    CONFIRMATION_HEAD,
    PERSON_HEAD,
    PERSON_TAIL,
    REPORT_TAIL,
    Refused,
    local_time,
    organizer,
    site_name,
    working_link,
    workshop_times,
)


def _tally_row(section: str, key: str, tally: Tally, depth: int) -> list[Any]:
    by_rank = [*tally.by_rank, *[0] * (depth - len(tally.by_rank))]
    counts = [tally.without_wish, tally.unplaced, tally.no_wishes]
    return [section, key, tally.people, *by_rank, *counts, "", "", ""]


def report_rows(event: Event, report: Report) -> tuple[list[str], list[list[Any]]]:
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


async def _report_of(live: Live, people: People) -> tuple[Report | None, Run | None]:
    """The report of the last run (None before any), for the people registered now."""
    regs, run = await people.all(), await people.result()
    report = run.report(live.event, regs, await people.settings()) if run else None
    return report, run


@organizer
async def report_page(request: Request, live: Live, people: People) -> Response:
    report, run = await _report_of(live, people)
    event = live.event
    return render(
        request,
        "organize_report.html",
        event=event,
        token=request.query_params["k"],
        report=report.as_dict() if report else None,
        run_at=local_time(event, run.at if run else None),
        depth=max(event.registration.wishes, len(report.overall.by_rank) if report else 0),
        titles={w.id: event.workshop_short_title(w) for w in event.workshops},
        sites={s.id: s.name for s in event.sites},
    )


@organizer
async def report_csv(request: Request, live: Live, people: People) -> Response:
    report, _ = await _report_of(live, people)
    if report is None:
        raise Refused(409, "org.no_result")
    header, rows = report_rows(live.event, report)
    return csv_response(request, f"{live.event.id}-report.csv", header, rows)


def _person_row(
    r: Registration, n: int, placements: dict[str, Any], ranks: dict[str, Any]
) -> list[Any]:
    wishes = (r.wishes + [""] * n)[:n]
    placed = [r.pinned, placements.get(r.id), ranks.get(r.id), r.confirmed, r.created]
    return [r.id, r.name, r.email, r.category, r.site, *wishes, r.accessibility, r.group, *placed]


@organizer
async def registrations_csv(request: Request, live: Live, people: People) -> Response:
    """Every registration with its placement; re-importable (same column names)."""
    run = await people.result()
    placements, ranks = (run.placements, run.ranks) if run else ({}, {})
    n = live.event.registration.wishes
    header = [*PERSON_HEAD, *[f"wish{i}" for i in range(1, n + 1)], *PERSON_TAIL]
    rows = [_person_row(r, n, placements, ranks) for r in await people.all()]
    return csv_response(request, f"{live.event.id}-registrations.csv", header, rows)


@organizer
async def confirmations_csv(request: Request, live: Live, people: People) -> Response:
    """Confirmed people with a working personal link each (minted once for those who have
    none that still works), to send by other means when there is no SMTP server."""
    event = live.event
    header = CONFIRMATION_HEAD
    rows = []
    for reg in await people.all():
        w = event.workshop(reg.confirmed or "")
        if w is None:
            continue
        link = await working_link(request, people, reg)
        where = [site_name(event, w.site), event.workshop_title(w), w.room]
        rows.append([reg.name, reg.email, *where, workshop_times(event, w.site), w.visio_url, link])
    return csv_response(request, f"{event.id}-confirmations.csv", header, rows)


routes = [
    Route(BASE + "/report", report_page, name="organize_report"),
    Route(BASE + "/report.csv", report_csv, name="organize_report_csv"),
    Route(BASE + "/registrations.csv", registrations_csv, name="organize_registrations_csv"),
    Route(BASE + "/confirmations.csv", confirmations_csv, name="organize_confirmations_csv"),
]
