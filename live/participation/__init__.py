"""Participation (issue 22): proposals, supports, arguments, moderation and polls of an
event's workshops, as a pure domain — no I/O, no HTTP, no backend. `commands` checks and
applies log entries, `views` says what each audience reads, `exports` gives open data."""
