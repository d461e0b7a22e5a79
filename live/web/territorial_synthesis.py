"""The compiled synthesis of a territory: what its events (it and every territory below
it) published, by theme and subject, as one HTML page or PDF.

`gather` reads a consultation's published contributions (`views.Published`) into plain
data, on the event loop (a pass over the proposals); `render` turns that into Markdown,
then HTML or PDF, as the synthesis of an event's notes does (`notes.synthesis`: the same
sanitizing and the same fonts). `render` is CPU-bound (fpdf2 takes seconds for a few
hundred proposals), so the server runs it in a worker process (`workers.py`): it stays a
module-level function of picklable arguments, and this module imports no Starlette.

Only what was published is in it, so nothing personal but the names their owners agreed
to show (presenters, rapporteurs). A territory's synthesis is bounded (`MAX_PROPOSALS`,
`MAX_PDF_PROPOSALS`): the national one of 25,000 proposals is a data set (the open data
export), not a document anyone prints.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any, Literal

from babel.dates import format_date

from live.consultation.views import Published
from live.i18n import plural, translator
from live.notes.synthesis import CSS, body_html, escape, html_pdf, shift_headings

Format = Literal["html", "pdf"]
MEDIA: dict[str, str] = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}

# An académie's events publish ~800 proposals (8 × 100): its HTML is ~1 MB and its PDF
# ~300 pages, rendered in ~20 s. Beyond these, a territory's synthesis is refused (the
# open data export has it all) rather than hold a worker for minutes.
MAX_PROPOSALS = 5_000
MAX_PDF_PROPOSALS = 2_000


def size(pub: Published, code: str) -> int:
    """How many proposals the synthesis of `code` would hold."""
    counts = pub.counts.get(code)
    return counts["proposals"] if counts else 0


def gather(pub: Published, code: str) -> dict[str, Any]:
    """The synthesis of territory `code` as plain data: its events, and by theme (the
    consultation's order) its proposals by subject (most supported first), its experience
    reports and its workshops' syntheses."""
    allowed = pub.tree.descendants(code)
    events = sorted(
        (c for c in pub.contributions.values() if c.territory in allowed),
        key=lambda c: (c.event_date, c.event),
    )
    mine = {c.event for c in events}
    themes = []
    for t in pub.consultation.themes:
        subjects = []
        for s in (*t.subjects, None):
            key = (t.id, s.id if s else "")
            listed = [e for e in pub.by_subject.get(key, ()) if e.contribution.event in mine]
            if not listed:
                continue
            subjects.append(
                {
                    "title": s.title if s else "",
                    "proposals": [
                        {
                            "title": e.proposal.title,
                            "body": e.proposal.body,
                            "supports": e.proposal.supports,
                            "event": e.contribution.event_title,
                            "territory": _short(pub, e.contribution.territory),
                            "origins": len(e.proposal.origins),
                        }
                        for e in listed
                    ],
                }
            )
        reports = [
            {
                "title": r.title,
                "presenters": list(r.presenters),
                "site": r.site,
                "summary": r.summary,
                "event": c.event_title,
            }
            for c in events
            for r in c.reports
            if r.theme == t.id
        ]
        syntheses = [
            {
                "title": s.title,
                "text": s.text,
                "rapporteurs": list(s.rapporteurs),
                "event": c.event_title,
            }
            for c in events
            for s in c.syntheses
            if s.theme == t.id
        ]
        if subjects or reports or syntheses:
            themes.append(
                {"title": t.title, "subjects": subjects, "reports": reports, "syntheses": syntheses}
            )
    territory = pub.tree.get(code)
    return {
        "consultation": pub.consultation.title,
        "territory": territory.name if territory else code,
        "events": [
            {
                "title": c.event_title,
                "date": c.event_date.isoformat(),
                "territory": _short(pub, c.territory),
            }
            for c in events
        ],
        "themes": themes,
    }


def _short(pub: Published, code: str) -> str:
    t = pub.tree.get(code)
    return t.short if t else code


def to_markdown(data: dict[str, Any], lang: str = "fr") -> str:
    t, ngettext = translator(lang), plural(lang)
    title = t("terr.syn.title").format(territory=data["territory"])
    out = [f"# {escape(title)}", "", f"*{escape(data['consultation'])}*", ""]
    out += [f"**{ngettext('terr.n_events', len(data['events']))}**", ""]
    for e in data["events"]:
        when = format_date(date.fromisoformat(e["date"]), format="long", locale=lang)
        out.append(f"- {escape(e['title'])} — {escape(e['territory'])}, {when}")
    if not data["themes"]:
        out += ["", f"*{t('terr.nothing')}*"]
    for theme in data["themes"]:
        out += ["", f"## {escape(theme['title'])}"]
        for s in theme["subjects"]:
            out += ["", f"### {escape(s['title'] or t('syn.no_subject'))}"]
            for p in s["proposals"]:
                where = f"{escape(p['event'])} ({escape(p['territory'])})"
                line = f"**{escape(p['title'])}** · {ngettext('syn.n_supports', p['supports'])}"
                if p["origins"]:
                    line += f" · {ngettext('terr.n_origins', p['origins'])}"
                out += ["", line, "", f"*{where}*"]
                if p["body"].strip():
                    out += ["", escape(p["body"])]
        if theme["reports"]:
            out += ["", f"### {t('syn.reports')}", ""]
            for r in theme["reports"]:
                line = f"- *{escape(r['title'])}*"
                if r["presenters"]:
                    line += " — " + ", ".join(escape(n) for n in r["presenters"])
                if r["site"]:
                    line += f" ({escape(r['site'])})"
                line += f" · {escape(r['event'])}"
                if r["summary"].strip():
                    line += f" : {escape(r['summary'])}"
                out.append(line)
        for s in theme["syntheses"]:
            out += ["", f"### {escape(s['title'])} — {escape(s['event'])}", ""]
            if s["rapporteurs"]:
                names = ", ".join(escape(n) for n in s["rapporteurs"])
                out += [f"*{t('syn.rapporteurs')} {names}*", ""]
            out.append(shift_headings(s["text"], 3))
    return "\n".join(out).strip() + "\n"


def to_html(data: dict[str, Any], markdown: str, lang: str) -> str:
    title = html.escape(translator(lang)("terr.syn.title").format(territory=data["territory"]))
    return (
        f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<main>\n{body_html(markdown)}</main>\n</body>\n</html>\n"
    )


def render(data: dict[str, Any], fmt: Format, lang: str = "fr") -> bytes:
    """The synthesis as bytes (see the module's docstring: run in a worker process)."""
    markdown = to_markdown(data, lang)
    if fmt == "html":
        return to_html(data, markdown, lang).encode()
    title = translator(lang)("terr.syn.title").format(territory=data["territory"])
    return html_pdf(body_html(markdown), title)


# Characters the PDF core font (latin-1) lacks, when DejaVu is not installed.
