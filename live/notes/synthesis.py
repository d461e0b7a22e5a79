"""The synthesis of an event: every workshop's notes, in Markdown, HTML and PDF.

One Markdown text is the source; HTML and PDF are rendered from it, so the three say the
same thing. Order: by theme (as the event lists them), then by workshop id (as the
restitution runs). Each workshop states its site, room and rapporteurs, the experience
reports it heard, its notes, then its proposals (`proposals_of`: by the theme's subjects,
retained first then by supports, with their arguments; hidden and merged ones left out,
and no person in them); the header states the event's title, date, sites and attendance (record
`attendance/{event id}`, if kept). The steps that heard reports of their own (a round of
remarkable reports) follow the workshops, under "Retours d'expériences".

Notes are whatever rapporteurs typed: raw HTML in them is shown as text (markdown-it with
HTML off, then nh3), and images are not fetched (a PDF must not make requests).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import nh3
from babel.dates import format_date
from fpdf import FPDF
from fpdf.fonts import FontFace
from fpdf.html import DEFAULT_TAG_STYLES
from markdown_it import MarkdownIt

from live.assets import FONTS
from live.backends.base import Backend
from live.i18n import plural, translator
from live.model import Event, Report, Workshop
from live.notes.room import doc_name, template_for
from live.notes.stored import stored_rapporteurs, stored_text
from live.participation.live import LiveParticipation
from live.participation.state import STANCES, Participation, Proposal, Stance
from live.people.store import attendance_of

if TYPE_CHECKING:  # the service gathers through `collect`, which reads through it
    from live.notes.service import NotesService

Format = Literal["md", "html", "pdf"]
FORMATS: dict[str, str] = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


@dataclass(frozen=True)
class ProposalNotes:
    """A proposal as the synthesis reports it: what it says and how it was received, with
    nobody's name or key (counts, and the texts of the visible arguments)."""

    title: str
    body: str
    retained: bool
    supports: int
    counts: tuple[int, int, int]  # visible arguments pour, contre, nuance
    arguments: tuple[tuple[Stance, str], ...]  # the visible ones, as they were given


@dataclass(frozen=True)
class SubjectProposals:
    subject: str  # the subject's title; "" for the proposals filed under none
    proposals: tuple[ProposalNotes, ...]


@dataclass(frozen=True)
class WorkshopNotes:
    workshop: Workshop
    title: str  # under its theme's heading: the workshop's own title, or where it met
    site: str
    rapporteurs: tuple[str, ...]
    text: str
    proposals: tuple[SubjectProposals, ...] = ()


@dataclass(frozen=True)
class Synthesis:
    event: Event
    attendance: dict[str, int]
    themes: tuple[tuple[str, tuple[WorkshopNotes, ...]], ...]


def _proposal_notes(p: Proposal) -> ProposalNotes:
    visible = [a for a in p.arguments if not a.hidden]
    pour, contre, nuance = (sum(a.stance == s for a in visible) for s in STANCES)
    arguments = tuple((a.stance, a.text) for a in visible)
    return ProposalNotes(p.title, p.body, p.retained, p.supports, (pour, contre, nuance), arguments)


def proposals_of(
    event: Event, workshop: Workshop, state: Participation
) -> tuple[SubjectProposals, ...]:
    """A workshop's proposals by subject: the theme's subjects in their order, then those
    filed under none (or under a subject the theme no longer has); in each, the retained
    ones first, then by supports, then as proposed. Hidden proposals are left out, and so
    are merged ones: their supports and arguments are already their target's."""
    theme = event.theme(workshop.theme)
    subjects = [(s.id, s.title) for s in theme.subjects] if theme else []
    known = {sid for sid, _ in subjects}
    shown = [p for p in state.in_workshop(workshop.id) if p.status == "open"]
    shown.sort(key=lambda p: (not p.retained, -p.supports, int(p.id[1:])))
    groups = []
    for sid, title in [*subjects, ("", "")]:
        if sid:
            chosen = [p for p in shown if p.subject == sid]
        else:
            chosen = [p for p in shown if p.subject not in known]
        if chosen:
            groups.append(SubjectProposals(title, tuple(_proposal_notes(p) for p in chosen)))
    return tuple(groups)


async def collect(
    event: Event,
    backend: Backend,
    notes: NotesService | None = None,
    participation: Participation | None = None,
) -> Synthesis:
    """Gather what the synthesis says; live rooms (via `notes`) are read with their latest
    updates written first, otherwise the stored history is read. `participation` is the
    event's participation state as its room holds it (`room.state`); without it, the
    synthesis says nothing of proposals."""
    order = {t.id: i for i, t in enumerate(event.themes)}
    # Read at once, before any wait: one consistent moment of the participation.
    proposals = {
        w.id: proposals_of(event, w, participation) if participation is not None else ()
        for w in event.workshops
    }
    attendance = await attendance_of(backend, event.id)
    themes = []
    for theme_id in sorted({w.theme for w in event.workshops}, key=lambda t: order.get(t, 999)):
        items = []
        for w in sorted((w for w in event.workshops if w.theme == theme_id), key=lambda w: w.id):
            if notes is not None:
                text = await notes.text(event.id, w.id)
                names = await notes.rapporteurs(event.id, w.id)
            else:
                text = await stored_text(backend, doc_name(event.id, w.id))
                names = await stored_rapporteurs(backend, doc_name(event.id, w.id))
            if text.strip() == template_for(event, w).strip():
                text = ""  # the untouched template says nothing
            site = event.site(w.site)
            site_name = site.name if site else w.site
            title = w.title or " — ".join(p for p in (site_name, w.room) if p)
            items.append(WorkshopNotes(w, title, site_name, tuple(names), text, proposals[w.id]))
        theme = event.theme(theme_id)
        themes.append((theme.title if theme else theme_id, tuple(items)))
    return Synthesis(event, attendance, tuple(themes))


# -- Markdown ----------------------------------------------------------------------------------

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def escape(text: str) -> str:
    """Plain text (a title, a name) that Markdown must not interpret."""
    return _SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def long_date(event: Event, lang: str) -> str:
    """ "7 octobre 2020" in French, "October 7, 2020" in English (CLDR, through Babel)."""
    return format_date(event.date, format="long", locale=lang)


def shift_headings(text: str, by: int = 2) -> str:
    """Nest a workshop's headings under the synthesis' own, and drop empty sections.

    `## Constats` becomes `#### Constats`; a heading with nothing under it before the next
    heading of the same or a higher level is left out. Fenced code is left alone.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    level: list[int] = []
    fence = False
    for line in lines:
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        m = None if fence else re.match(r"^ {0,3}(#{1,6})(\s|$)", line)
        level.append(len(m.group(1)) if m else 0)
    out = []
    for i, line in enumerate(lines):
        if level[i]:
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j == len(lines) or 0 < level[j] <= level[i]:
                continue
            hashes = "#" * min(6, level[i] + by)
            line = re.sub(r"^ {0,3}#{1,6}", hashes, line)
        out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def to_markdown(s: Synthesis, lang: str = "fr") -> str:
    e, t, ngettext = s.event, translator(lang), plural(lang)
    out = [f"# {escape(e.title)}", "", f"**{t('syn.date')}** {long_date(e, lang)}", ""]
    out.append(f"**{ngettext('syn.sites', len(e.sites))}**")
    out.append("")
    for site in e.sites:
        line = f"- {escape(site.name)}"
        if site.address:
            line += f", {escape(site.address)}"
        if site.id in s.attendance:
            line += f" — {ngettext('syn.n_present', s.attendance[site.id])}"
        out.append(line)
    if s.attendance:
        out += ["", f"**{t('syn.participants')}** {sum(s.attendance.values())}"]
    for theme, items in s.themes:
        out += ["", f"## {escape(theme)}"]
        for w in items:
            out += ["", f"### {escape(w.title)}", ""]
            names = ", ".join(escape(n) for n in w.rapporteurs) or t("syn.no_rapporteurs")
            where = ""
            if w.workshop.title:  # otherwise the heading already says where
                where = " — ".join(escape(p) for p in (w.site, w.workshop.room) if p) + " · "
            out += [f"*{where}{t('syn.rapporteurs')} {names}*", ""]
            if w.workshop.reports:
                out += [f"**{t('syn.reports_heard')}**", ""]
                out += [report_line(e, r, w.workshop.site) for r in w.workshop.reports] + [""]
            out.append(shift_headings(w.text) if w.text.strip() else f"*{t('syn.no_notes')}*")
            if w.proposals:
                out += proposals_markdown(w.proposals, lang)
    steps = [step for step in e.agenda if step.reports]
    if steps:
        out += ["", f"## {t('syn.reports')}"]
        for step in steps:
            out += ["", f"### {escape(step.title)}", ""]
            out += [report_line(e, r) for r in step.reports]
    return "\n".join(out).strip() + "\n"


def proposals_markdown(groups: tuple[SubjectProposals, ...], lang: str) -> list[str]:
    """A workshop's proposals under its notes: a heading per subject, then each proposal,
    how it was received, its text and its arguments. Everything in them is plain text
    people typed: escaped, so nothing in it is read as Markdown."""
    t, ngettext = translator(lang), plural(lang)
    out = ["", f"#### {t('syn.proposals')}"]
    for group in groups:
        out += ["", f"##### {escape(group.subject or t('syn.no_subject'))}"]
        for p in group.proposals:
            received = [ngettext("syn.n_supports", p.supports)]
            received += [ngettext(f"syn.n_{s}", n) for s, n in zip(STANCES, p.counts, strict=True)]
            line = f"**{escape(p.title)}**"
            if p.retained:
                line += f" — *{t('syn.retained')}*"
            out += ["", f"{line} · {' · '.join(received)}"]
            if p.body.strip():
                out += ["", escape(p.body)]
            if p.arguments:
                out.append("")
                out += [f"- *{t(f'syn.stance.{s}')}* — {escape(text)}" for s, text in p.arguments]
    return out


def report_line(event: Event, report: Report, here: str | None = None) -> str:
    """One experience report as a list item: its title, who presented it, and its site
    unless that goes without saying (`here`, the site of the workshop that heard it)."""
    line = f"- *{escape(report.title)}*"
    if report.presenters:
        line += " — " + ", ".join(escape(p) for p in report.presenters)
    if report.site and report.site != here:
        site = event.site(report.site)
        line += f" ({escape(site.name if site else report.site)})"
    return line


# -- HTML --------------------------------------------------------------------------------------


def _markdown_it() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True})
    md.disable("image")
    return md


def body_html(markdown: str) -> str:
    """Markdown to sanitized HTML (raw HTML in the notes is shown, never run)."""
    rendered = _markdown_it().render(markdown)
    return nh3.clean(rendered, tags=nh3.ALLOWED_TAGS - {"img"}, link_rel="noopener noreferrer")


CSS = """
body { font-family: "DejaVu Sans", system-ui, sans-serif; max-width: 48rem; margin: 2rem auto;
  padding: 0 1rem; line-height: 1.5; color: #111; }
h1 { font-size: 1.8rem; } h2 { border-bottom: 2px solid #00468c; color: #00468c; }
h3 { margin-bottom: .2rem; } h4 { margin: 1rem 0 .2rem; }
@media print { body { margin: 0; max-width: none; } h2 { break-before: page; } }
"""


def to_html(s: Synthesis, markdown: str | None = None, lang: str = "fr") -> str:
    body = body_html(markdown if markdown is not None else to_markdown(s, lang))
    title = html.escape(translator(lang)("syn.title").format(event=s.event.title))
    return (
        f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )


# -- PDF ---------------------------------------------------------------------------------------

# Characters a PDF core font (latin-1) lacks, when no Unicode font is installed.
_LATIN1 = str.maketrans(
    {
        "—": "-",
        "–": "-",
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "…": "...",
        "œ": "oe",
        "Œ": "OE",
        "•": "-",
        "\u202f": " ",
    }
)


def to_pdf(s: Synthesis, markdown: str | None = None, fonts: Path = FONTS) -> bytes:
    body = body_html(markdown if markdown is not None else to_markdown(s))
    return html_pdf(body, f"Synthèse — {s.event.title}", fonts)


def html_pdf(body: str, title: str, fonts: Path = FONTS) -> bytes:
    """Sanitized HTML as an A4 PDF, in DejaVu when installed (every French character):
    a workshop's synthesis, or a territory's (web/territorial_synthesis.py)."""
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("Relais")
    pdf.set_auto_page_break(True, margin=15)
    family, mono = "helvetica", "courier"
    if (fonts / "DejaVuSans.ttf").exists():
        family, mono = "DejaVu", "DejaVuMono"
        for style, suffix in (("", ""), ("B", "-Bold"), ("I", "-Oblique"), ("BI", "-BoldOblique")):
            pdf.add_font(family, style, str(fonts / f"DejaVuSans{suffix}.ttf"))
        pdf.add_font(mono, "", str(fonts / "DejaVuSansMono.ttf"))
    else:
        body = body.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")
    pdf.add_page()
    pdf.set_font(family, size=11)
    pdf.write_html(
        body,
        font_family=family,
        ul_bullet_char="•" if family == "DejaVu" else "-",
        tag_styles={
            "code": FontFace(family=mono),
            "pre": DEFAULT_TAG_STYLES["pre"].replace(font_family=mono),
            "a": FontFace(color="#00468c"),
            **{h: DEFAULT_TAG_STYLES[h].replace(color="#00468c") for h in HEADINGS},
        },
        warn_on_tags_not_matching=False,
    )
    return bytes(pdf.output())


def render(s: Synthesis, fmt: Format, lang: str = "fr") -> bytes:
    """The synthesis as bytes. Pure and CPU-bound (a PDF takes fpdf2 a second or more): the
    server runs it in a worker process (`notes/exports.py`), so it stays a module-level
    function of picklable arguments."""
    markdown = to_markdown(s, lang)
    if fmt == "md":
        return markdown.encode()
    if fmt == "html":
        return to_html(s, markdown, lang).encode()
    return to_pdf(s, markdown)


async def stored_participation(event: Event, backend: Backend) -> Participation:
    """The event's participation as its log stands in the store (no server: the CLI)."""
    room = LiveParticipation(event, backend)
    await room.load()
    return room.state


async def export_synthesis(
    event: Event,
    backend: Backend,
    fmt: Format = "md",
    notes: NotesService | None = None,
    lang: str = "fr",
    participation: Participation | None = None,
) -> bytes:
    """The synthesis of `event` as bytes in `fmt` ("md", "html" or "pdf").

    For the CLI (`relais export EVENT`), pass the opened backend and no `notes`: the stored
    history is read, and the participation log too unless `participation` is given. The
    web route passes the running NotesService (live rooms contribute their latest
    updates) and the participation room's state.
    """
    if participation is None and notes is None:
        participation = await stored_participation(event, backend)
    return render(await collect(event, backend, notes, participation), fmt, lang)
