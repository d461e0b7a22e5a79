"""Accounts with several server processes on one redis-server: a session opened on one
process is the same on the others (it lives in the store), and withdrawing an account on
one process ends its sessions and closes the pages it opened on every other, at once."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from live.links.signing import Signer
from tests.support.oidc import OidcProvider, walk_sign_in
from tests.support.servers import SECRET, LiveServer, RedisServer

pytestmark = pytest.mark.redis
CAMILLE = "camille.martin@ac-poitiers.fr"
EVENT = "poitiers-2020"


@pytest.fixture
def processes(
    tmp_path: Path, own_redis: RedisServer
) -> Iterator[tuple[OidcProvider, list[LiveServer]]]:
    servers = [
        LiveServer(tmp_path / f"data{i}", backend="redis", env={"REDIS_URL": own_redis.url})
        for i in range(2)
    ]
    claims = {CAMILLE: {"email": CAMILLE, "given_name": "Camille", "usual_name": "Martin"}}
    with OidcProvider(claims, [f"{s.url}/connexion/retour" for s in servers]) as op:
        for server in servers:
            server.extra_env |= {
                "RELAIS_OIDC_ISSUER": op.issuer,
                "RELAIS_OIDC_CLIENT_ID": op.client_id,
                "RELAIS_OIDC_CLIENT_SECRET": op.client_secret,
            }
            server.start()
        try:
            yield op, servers
        finally:
            for server in servers:
                server.stop()


def admin_post(server: LiveServer, **form: str) -> httpx.Response:
    k = Signer(SECRET).sign_admin()
    return httpx.post(f"{server.url}/admin/comptes", params={"k": k}, data=form, timeout=30)


async def test_an_account_withdrawn_on_one_process_loses_access_on_the_others(processes):
    _, (a, b) = processes
    granted = admin_post(
        a,
        action="grant",
        email=CAMILLE,
        role="organizer",
        scope="territory",
        territory="ac-poitiers",
    )
    assert granted.status_code == 303
    async with httpx.AsyncClient(base_url=a.url, timeout=30) as relais:
        signed = await walk_sign_in(relais, await relais.get("/connexion/aller"), CAMILLE)
        assert signed.status_code == 303
        cookie = relais.cookies["relais_session"]
        # The same session on the other process: it is the store's, not a process's.
        on_b = httpx.get(f"{b.url}/compte", cookies={"relais_session": cookie}, timeout=30)
        assert on_b.status_code == 200 and 'data-event="poitiers-2020"' in on_b.text
        opened = await relais.post(
            f"/compte/e/{EVENT}/ouvrir", data={"to": "console"}, headers={"origin": a.url}
        )
        token = httpx.URL(opened.headers["location"]).params["k"]
    with connect(f"{a.ws_url}/ws/events/{EVENT}?k={token}") as console:
        console.send(json.dumps({"type": "hello", "since": None, "epoch": None}))
        json.loads(console.recv(timeout=10))
        withdrawn = admin_post(b, action="withdraw_all", email=CAMILLE)
        assert withdrawn.status_code == 303 and "withdrawn_all" in withdrawn.headers["location"]
        frames = []
        with contextlib.suppress(Exception):
            while True:
                frames.append(json.loads(console.recv(timeout=10)))
        assert [f.get("code") for f in frames if f["type"] == "error"] == ["link_revoked"]
        assert console.close_code == 4403
    for server in (a, b):
        answer = httpx.get(f"{server.url}/compte", cookies={"relais_session": cookie}, timeout=30)
        assert answer.status_code == 303  # signed out everywhere
        page = httpx.get(f"{server.url}/e/{EVENT}/console", params={"k": token}, timeout=30)
        assert page.status_code == 403
