"""People: registration with ranked wishes, the assignment, confirmations and their mail.

- `registration`: what a person submits, checked (no I/O);
- `store`: registrations and the organizer's records in the backend;
- `assignment`: the optimal assignment within each workshop's seats;
- `mailer`, `calendar`: e-mails and iCalendar files for each person;
- `desk`, `tallies`, `rounds`: the organizer's rules, what the desk counts, rounds;
- `limits`: the public form's budgets; `service.Desk`: the one entry point the pages call.
"""
