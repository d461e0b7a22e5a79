"""Signed role links: they say who may do what, and cannot be forged or outlive their date."""

from __future__ import annotations

import pytest

from live.links.signing import LinkError, Signer

S = Signer("secret")


def code(fn) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(LinkError) as exc:
        fn()
    return exc.value.code


def test_a_link_carries_its_role_and_place() -> None:
    token = S.sign("ev", "screen", site="niort")
    claims = S.verify(token, "ev")
    assert (claims.role, claims.site) == ("screen", "niort")
    assert S.verify(S.sign("ev", "facilitator"), "ev").role == "facilitator"


def test_missing_forged_and_foreign_links_are_refused() -> None:
    token = S.sign("ev", "facilitator")
    assert code(lambda: S.verify(None, "ev")) == "link_missing"
    assert code(lambda: S.verify(token[:-2] + "zz", "ev")) == "link_invalid"
    assert code(lambda: Signer("other").verify(token, "ev")) == "link_invalid"
    assert code(lambda: S.verify(token, "other-event")) == "link_wrong_event"


def test_a_role_cannot_be_raised_by_editing_the_payload() -> None:
    import base64

    token = S.sign("ev", "participant")
    payload, sig = token.split(".")
    raw = base64.urlsafe_b64decode(payload + "==").replace(b"participant", b"facilitator")
    forged = base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + sig
    assert code(lambda: S.verify(forged, "ev")) == "link_invalid"


def test_expired_and_revoked_links_are_refused() -> None:
    old = S.sign("ev", "facilitator", days=1, now=0)
    assert code(lambda: S.verify(old, "ev")) == "link_expired"
    token = S.sign("ev", "screen", site="a")
    claims = S.verify(token, "ev")
    assert code(lambda: S.verify(token, "ev", revoked=frozenset({claims.id}))) == "link_revoked"
