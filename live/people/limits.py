"""How much registering one client address, one e-mail and one event may do: the public
form's budgets, sized from the settings and the event's capacity (no I/O; the counters
are `ratelimit.Limiter`s in memory)."""

from __future__ import annotations

from live.config import Settings
from live.model import Event
from live.ratelimit import Limiter


class RegistrationLimits:
    """How much registering one client address, one e-mail and one event may do.

    Checked in the order the work is done: a client's posts before anything is read (every
    post counts, valid or not: that is what a script sends), then, once the form is valid,
    its e-mail and the event's budget. So invalid posts, from however many addresses,
    never spend the event's budget: only registrations (and updates) that would be stored.
    """

    def __init__(self, settings: Settings) -> None:
        # A class of thirty submitting at once, typos included; then an hour's pace.
        self.by_client = Limiter(
            settings.register_per_address_hour, 3600, burst=settings.register_per_minute
        )
        self.by_email = Limiter(settings.register_per_email, 3600)
        self.by_event = Limiter(0, 3600)  # each event's bucket is sized by `budget`
        self.floor = settings.register_per_hour
        self.per_seat = settings.register_per_seat

    def client(self, client: str) -> float:
        """Count one post from `client`: 0 if it may go on, else the seconds to wait."""
        return self.by_client.hit(client)

    def budget(self, event: Event) -> int:
        """Valid registrations an hour for `event`: `per_seat` times its capacity (its
        sites', else its workshops'), never below `floor`; 0 means no limit."""
        if self.floor <= 0:
            return 0
        seats = sum(s.capacity for s in event.sites) or sum(w.capacity for w in event.workshops)
        return max(self.floor, self.per_seat * seats)

    def valid(self, event: Event, email: str | None) -> float:
        """Count one valid registration (or update): its e-mail's share, then the event's
        budget. 0 if it may be stored, else the seconds to wait."""
        if email is not None and (wait := self.by_email.hit(email.lower())):
            return wait
        return self.by_event.hit(event.id, self.budget(event))
