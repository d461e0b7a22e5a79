"""The floor of the plenary, as agenda commands: a site asks for it, the régie gives it
and takes it back.

The floor is part of the live state (`State.floor`, `State.requests`), written in the log
like any other command, so a restart keeps who has it; the plenary relay follows the state
(live/app.py connects it), and every screen shows whoever has the floor. These are the
reducer's cases; `commands.py` registers them with who may send each.

A site's request is the host's, not the régie's: the régie's undo never takes it back
(`commands.Command.site_request`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from live.agenda.state import Rejected, State
from live.model import SLUG, Event

SPEAKER = "speaker"
FEED = r"^(speaker|site:" + SLUG.removeprefix("^")[:-1] + r")$"


class SiteArgs(BaseModel):
    """A site: from a host's link (the link's own site), or named by the régie."""

    model_config = ConfigDict(extra="forbid", strict=True)
    site: str = Field(min_length=1, max_length=64)


class FeedArgs(BaseModel):
    """Who gets the floor: `speaker`, or `site:<id>`."""

    model_config = ConfigDict(extra="forbid", strict=True)
    feed: str = Field(pattern=FEED, max_length=70)


def site_name(event: Event, site_id: str) -> str:
    """The site's name, or Rejected if the event has no such site."""
    site = event.site(site_id)
    if site is None:
        raise Rejected("no_such_site", f"unknown site {site_id!r}", site=site_id)
    return site.name


def feed_name(event: Event, feed: str) -> str:
    return "" if feed == SPEAKER else site_name(event, feed.removeprefix("site:"))


def ask(state: State, args: SiteArgs, now: int, event: Event) -> None:
    """A site's host asks for the floor: the site joins the queue of requests."""
    name = site_name(event, args.site)
    if state.floor == f"site:{args.site}":
        raise Rejected("has_floor", f"{name} already has the floor", site=name)
    if args.site in state.requests:
        raise Rejected("already_asked", f"{name} has already asked for the floor", site=name)
    state.requests.append(args.site)


def cancel(state: State, args: SiteArgs, now: int, event: Event) -> None:
    """A request withdrawn (by its host, or by the régie)."""
    name = site_name(event, args.site)
    if args.site not in state.requests:
        raise Rejected("not_asked", f"{name} has not asked for the floor", site=name)
    state.requests.remove(args.site)


def give(state: State, args: FeedArgs, now: int, event: Event) -> None:
    """The régie gives the floor: that feed becomes the plenary on every screen."""
    name = feed_name(event, args.feed)
    if state.floor == args.feed:
        if args.feed == SPEAKER:
            raise Rejected("floor_with_speaker", "the speaker already has the floor")
        raise Rejected("has_floor", f"{name} already has the floor", site=name)
    state.floor = args.feed
    site = args.feed.removeprefix("site:")
    if args.feed != SPEAKER and site in state.requests:
        state.requests.remove(site)


def back(state: State, args: BaseModel, now: int, event: Event) -> None:
    """Back to the speaker."""
    if state.floor == SPEAKER:
        raise Rejected("floor_with_speaker", "the speaker already has the floor")
    state.floor = SPEAKER
