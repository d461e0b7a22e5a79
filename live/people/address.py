"""E-mail addresses: the one parser the form, the CSV import and the mailer share.

An address is exactly one mailbox, `local@domain`, nothing around it: no display name,
no angle brackets, no comma or semicolon (`a@b.org,direction` was once a second SMTP
recipient), no whitespace, no line break, no quoted local part, no IP literal, not over
254 characters. The syntax is checked by `email-validator` (no DNS lookup: a typo'd domain
is the person's to fix, and the check must not depend on the network). Accented addresses
are accepted (`zoé@exemple.fr`; smtplib then asks the server for SMTPUTF8).
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 254  # RFC 5321's limit on a forward path, less its angle brackets
MAX_LOCAL = 64


class BadAddress(ValueError):
    """Not exactly one valid mailbox."""


def _validated(text: str) -> tuple[str, str]:
    """(normalized, ASCII) forms of the address, lower case, or BadAddress."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        raise BadAddress("not an address or too long")
    try:
        found = validate_email(
            text,
            check_deliverability=False,
            allow_smtputf8=True,
            allow_display_name=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as exc:
        raise BadAddress(str(exc)) from None
    if len(found.local_part) > MAX_LOCAL or len(found.ascii_email or "") > MAX_LENGTH:
        raise BadAddress("too long")
    return found.normalized.lower(), (found.ascii_email or found.normalized).lower()


def email_address(text: str) -> str:
    """The address typed or imported, as stored (lower case; spaces around it ignored,
    since phones add one), or BadAddress."""
    return _validated(text.strip() if isinstance(text, str) else text)[0]


def smtp_address(text: str) -> str:
    """The one recipient of a mail, as SMTP takes it (an internationalized domain in
    punycode when the rest is ASCII), or BadAddress. Nothing is trimmed: what reaches the mailer was
    already checked, so anything else is refused."""
    return _validated(text)[1]
