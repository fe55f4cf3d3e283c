"""The shipped Caddyfile run by Debian's Caddy (its own local certificate authority): CalDAV
discovery and sync under ``/caldav/`` and the push API through https."""

from __future__ import annotations

import json
import os
import ssl
import urllib.request
from collections.abc import Iterator

import caldav
import pytest

from tests.deploy.conftest import CHRIS_PASSWORD, TOKEN, Deployment
from tests.proxy import CADDY, Caddy

pytestmark = pytest.mark.skipif(
    not os.path.exists(CADDY), reason="caddy is missing (Debian package 'caddy')"
)


@pytest.fixture(scope="module")
def caddy(deployment: Deployment) -> Iterator[Caddy]:
    serve = deployment.serve
    with Caddy(
        deployment.folder / "caddy", web=serve.address("web"), caldav=serve.address("caldav")
    ) as running:
        yield running


def test_caldav_and_push_through_caddy(caddy: Caddy) -> None:
    context = ssl.create_default_context(cafile=str(caddy.cafile))
    body = {"user": "chris", "title": "Through Caddy", "start": "2026-12-09"}
    request = urllib.request.Request(
        caddy.url + "/api/v1/events/CADDY-1",
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, context=context, timeout=30) as answer:
        assert answer.status == 200

    client = caldav.DAVClient(
        url=caddy.url + "/.well-known/caldav",
        username="chris",
        password=CHRIS_PASSWORD,
        ssl_verify_cert=str(caddy.cafile),
    )
    (calendar,) = [c for c in client.principal().calendars() if "ipoint" in str(c.url)]
    assert str(calendar.url).startswith(caddy.url + "/caldav/chris/"), calendar.url
    found = calendar.objects_by_sync_token(load_objects=True)
    assert "Through Caddy" in [o.icalendar_component["SUMMARY"] for o in found]
    assert all(str(o.url).startswith(caddy.url + "/caldav/chris/") for o in found)
