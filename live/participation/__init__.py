"""Participation (issue 22): proposals, supports, arguments, moderation and polls of an
event's workshops, as a pure domain — no I/O, no HTTP, no backend. `commands` checks log
entries and prepares then commits them (two phases, for a live log), `views` says what
each audience reads (whole views, or one proposal), `changes` what a committed entry
changed and for which workshops, `exports` gives open data."""
