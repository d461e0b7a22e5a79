"""Every refusal Relais makes, as one family, and how each one travels.

A refusal has a stable `code` (what clients, tests and the string tables key on), an
English `message` for logs and developers, and `params` that fill the sentence a person
reads (`error.{code}` in `i18n`, or the code itself for links). One table says which HTTP
status a code gets on a page or an API, and one which websocket close code it gets when
it ends a connection, so that a page, a console and a notes editor explain the same
refusal the same way.
"""

from __future__ import annotations

from typing import Any


class RelaisError(Exception):
    """A refusal: nothing was changed, and `code` says why."""

    code = "error"

    def __init__(self, code: str | None = None, message: str = "", **params: Any) -> None:
        super().__init__(message or code or self.code)
        if code is not None:
            self.code = code
        self.message = message or self.code
        self.params = params


# HTTP status of a refusal on a page or an API call (400 for any code not listed).
HTTP_STATUS = {
    "link_missing": 401,
    "link_invalid": 401,
    "link_expired": 403,
    "link_revoked": 403,
    "link_wrong_event": 403,
    "link_role": 403,
    "forbidden": 403,
    "cross_site": 403,  # a session's POST from another site's page (web/signed.py)
    "consultation.busy": 409,  # another writer holds the contribution (consultation/store.py)
    "signin.refused": 401,
    "signin.no_role": 403,
    "signin.provider_down": 503,
    "signin.not_configured": 404,
    "signin.too_many": 429,
    "account.email": 422,
    "account.role": 422,
    "account.scope": 422,
    "account.admin_scope": 422,
    "account.territory": 422,
    "account.event": 422,
    "account.too_many": 409,
    "not_found": 404,
    "unknown_event": 404,
    "unknown_person": 404,
    "no_such_session": 404,  # plenary (live/web/whip.py)
    "no_such_feed": 404,
    "conflict": 409,
    "plenary_busy": 409,
    "duplicate": 409,
    "too_large": 413,
    "sdp_type": 415,
    "sdp_codec": 415,
    "too_many_connections": 429,
    "invalid": 422,
    "internal": 500,
    "backend_unavailable": 503,  # the shared store (Redis) cannot be reached: retry soon
    # the organizer's desk and link sheet (live/people/desk.py, live/web/links_sheet.py)
    "error.link_validity": 422,
    "links.revoke_own": 409,
    "links.unknown_link": 404,
    "links.unknown_slot": 404,
    "org.bad_integer": 422,
    "org.capacity_below_fixed": 409,
    "org.close_fixed": 409,
    "org.import_empty": 422,
    "org.import_encoding": 422,
    "org.import_no_file": 422,
    "org.import_too_big": 413,
    "org.import_unreadable": 422,
    "org.mail_failed": 502,
    "org.min_over_capacity": 422,
    "org.no_mail": 409,
    "org.no_result": 409,
    "org.no_workshop": 422,
    "org.pin_closed": 409,
    "org.pin_full": 409,
    "org.pin_other_site": 422,
    "org.pin_same_theme": 409,
    "org.revoke_invalid": 422,
    "org.run_failed": 409,
    "org.unknown_person": 404,
    "org.unknown_workshop": 404,
    # participation (live/participation/commands.py)
    "part.no_such_proposal": 404,
    "part.no_such_argument": 404,
    "part.no_such_poll": 404,
    "part.no_such_workshop": 404,
    "part.no_such_site": 404,
    "part.other_workshop": 403,
    "part.not_asked": 403,
    "part.too_soon": 429,
    "part.already_supported": 409,
    "part.workshop_full": 409,
    "part.too_many_proposals": 409,
    "part.too_many_arguments": 409,
    "part.proposal_full": 409,
    "part.too_many_polls": 409,
    "part.poll_closed": 409,
}

# Websocket close codes (4000-4999 are the application's): the pages explain each one.
CLOSE_CODE = {
    "link_missing": 4401,
    "link_invalid": 4401,
    "link_expired": 4403,
    "link_revoked": 4403,
    "link_wrong_event": 4403,
    "link_role": 4403,
    "forbidden": 4403,
    "not_found": 4404,
    "unknown_event": 4404,
    "too_many_connections": 4429,  # the page tries again a little later
    # The notes socket closes on a refused change (its client would silently diverge):
    "too_large": 4413,  # a change over the frame limit
    "doc_too_large": 4413,  # the notes are at their size limit
    "read_only": 4403,  # a change sent with a link that only reads
    "malformed": 4400,  # not a valid Yjs update or sync message
    "too_many_syncs": 4429,  # sync step 1 sent over and over
    "behind": 1013,  # try again later: a client too slow for its outbox reconnects
    "backend_unavailable": 1013,  # the store is away: reconnect a little later
}


def http_status(code: str) -> int:
    return HTTP_STATUS.get(code, 400)


def close_code(code: str) -> int:
    return CLOSE_CODE.get(code, 4400)
