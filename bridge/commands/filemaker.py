"""``ipoint-bridge filemaker check|sync|webhook NAME``: try a FileMaker source's account, layout
and map; run one read; print the body of the ``Webhook.Add`` call an admin sends to FileMaker
Server 22.0.4+ (Claris FileMaker OData API guide, "Create a webhook")."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from ..progress import Progress
from ..records import to_json_dict
from ..runtime import open_store
from .core import load_settings


async def _check(args: argparse.Namespace) -> int:
    # aiohttp and the connector are imported by the commands that use them, so that every
    # other command (``import`` above all) starts without them.
    import aiohttp

    from ..filemaker.sources import api_of, reader_of, section, spec_of

    settings = load_settings(args)
    fm = section(settings, args.name)
    async with aiohttp.ClientSession() as http:
        api = api_of(settings, args.name, fm, http)
        try:
            await api.login()
            print(f"login: OK ({fm.username} on {fm.url}, database {fm.database})")
            layout = await api.layout(fm.layout)
            print(
                f"layout {fm.layout!r}: {len(layout.fields)} fields, portals: "
                + (", ".join(layout.portals) or "none")
            )
            spec = spec_of(args.name, fm)
            missing = [f for f in spec.required_fields if f not in layout.fields]
            problems = 0
            for name in missing:
                problems += 1
                print(f"missing: field {name!r} is not on layout {fm.layout!r}")
            if missing:
                print("the layout has: " + ", ".join(repr(f) for f in layout.fields))
            if fm.attendees_portal:
                portal = layout.portals.get(fm.attendees_portal)
                if portal is None:
                    problems += 1
                    print(
                        f"missing: portal {fm.attendees_portal!r} is not on the layout "
                        f"(it has: {', '.join(layout.portals) or 'none'}); name the portal "
                        "object in FileMaker's Inspector"
                    )
                elif fm.attendees_field not in portal:
                    problems += 1
                    print(
                        f"missing: field {fm.attendees_field!r} is not in portal "
                        f"{fm.attendees_portal!r} (it has: {', '.join(portal)})"
                    )
            if problems:
                return 1
            page = await api.find(
                fm.layout,
                [{fm.id_field: "*"}],
                sort=[
                    {"fieldName": fm.modified_field, "sortOrder": "descend"},
                    {"fieldName": fm.id_field, "sortOrder": "descend"},
                ],
                limit=1,
            )
            if not page.records:
                print("no records on the layout yet")
                return 0
            record = page.records[0]
            event, found = reader_of(settings, fm)(record)
            if event is None:
                for problem in found:
                    print(f"record {record.get('recordId')}: {problem}")
                return 1
            print(f"newest record (of {page.found}), as the bridge stores it:")
            print(json.dumps(to_json_dict(event), indent=2, ensure_ascii=False))
            return 0
        finally:
            await api.logout()


async def _sync(args: argparse.Namespace) -> int:
    import aiohttp

    from ..filemaker.sources import build_poller
    from ..filemaker.state import migrate

    settings = load_settings(args)
    store = open_store(settings)
    try:
        migrate(store)
        async with aiohttp.ClientSession() as http:
            poller = build_poller(settings, args.name, store, http)
            try:
                with Progress(f"filemaker sync {args.name}: reading", unit="records") as bar:

                    def step(done: int, total: int) -> None:
                        if bar.total != total:
                            bar.set_total(total)
                        bar.update(done)

                    result = await poller.poll(full=args.full, progress=step)
                print(
                    f"[filemaker:{args.name}]: read {result.read}, wrote {result.written}, "
                    f"skipped {result.skipped} ({result.requests} requests)"
                )
                for skip in reversed(poller.status.newest_skips()):
                    where = f" ({skip.field})" if skip.field else ""
                    print(f"skipped {skip.key}{where}: {skip.reason}", file=sys.stderr)
                deleted = await poller.reconcile(force=args.force)
                print(f"[filemaker:{args.name}]: deleted {deleted} records gone from FileMaker")
            finally:
                await poller.api.logout()
    finally:
        store.close()
    return 0


def webhook_body(settings: Any, name: str, fm: Any, table: str, show_token: bool) -> dict[str, Any]:
    base = settings.bridge.base_url or f"http://{settings.web.host}:{settings.web.port}"
    if fm.webhook_token:
        token = fm.webhook_token if show_token else f"<webhook_token of [filemaker:{name}]>"
    else:
        token = settings.web.ingest_token if show_token else "<[web] ingest_token>"
    return {
        "webhook": f"{base.rstrip('/')}/api/v1/filemaker/{name}/webhook",
        "headers": {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        "tableName": table,
        "notifySchemaChanges": False,
        "select": fm.id_field,
    }


def cmd_check(args: argparse.Namespace) -> int:
    return asyncio.run(_check(args))


def cmd_sync(args: argparse.Namespace) -> int:
    return asyncio.run(_sync(args))


def cmd_webhook(args: argparse.Namespace) -> int:
    from ..filemaker.sources import section

    settings = load_settings(args)
    fm = section(settings, args.name)
    body = webhook_body(settings, args.name, fm, args.table or fm.layout, args.show_token)
    odata = f"{fm.url.rstrip('/')}/fmi/odata/v4/{fm.database}/Webhook.Add"
    print(f"# POST {odata}  (an account with the fmodata privilege; FileMaker Server 22.0.4+)")
    if not args.table:
        print("# tableName: the layout's base table occurrence; pass --table if it differs")
    print(json.dumps(body, indent=2, ensure_ascii=False))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("filemaker", help="FileMaker Data API sources ([filemaker:NAME])")
    fsub = p.add_subparsers(dest="filemaker_command", metavar="ACTION", required=True)

    c = fsub.add_parser("check", help="log in, check the layout against the map, show a record")
    c.add_argument("name")
    c.set_defaults(handler=cmd_check)

    s = fsub.add_parser("sync", help="read changes (or everything) once, then look for deletions")
    s.add_argument("name")
    s.add_argument("--full", action="store_true", help="read every record, not only changes")
    s.add_argument("--force", action="store_true", help="skip the mass-delete safety valve")
    s.set_defaults(handler=cmd_sync)

    w = fsub.add_parser("webhook", help="print the Webhook.Add body for FileMaker Server")
    w.add_argument("name")
    w.add_argument("--table", help="FileMaker table occurrence (default: the layout name)")
    w.add_argument(
        "--show-token", action="store_true", help="write the real ingest token into the header"
    )
    w.set_defaults(handler=cmd_webhook)
