"""The demo program a newcomer sees on first start: one advertiser, one offer, three partners, links, keys."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import select, update

from core.api.apikeys import ApiKey, issue_key
from core.db import db
from core.people.accounts import create_person, find_person, set_password
from core.people.models import Person
from core.people.sessions import revoke_sessions
from tracker.creatives.files import add_sample_banners
from tracker.program.models import Advertiser, Link, Offer, Partner
from tracker.program.signals import demo_created
from tracker.services import tracker

DEMO_LABEL = "demo"
PARTNERS = (
    # (link code, name, kind, country, tier, parent link code)
    ("demo-dist", "Northwind Distribution", "distributor", "DE", "distributor", None),
    ("demo-resell", "Contoso Systems", "reseller", "DE", "authorized", "demo-dist"),
    ("demo-aff", "Fabrikam Reviews", "affiliate", "FR", "standard", None),
)


def _get_or_create(model, lookup: dict, **values):
    found = db.session.scalar(select(model).filter_by(**lookup))
    if found is None:
        found = model(**lookup, **values)
        db.session.add(found)
        db.session.flush()
    return found


def create_demo() -> dict:
    """Create what is missing of the demo program and issue fresh demo keys, revoking the old ones."""
    base = tracker().settings.public_base_url
    advertiser = _get_or_create(Advertiser, {"name": "Demo Vendor"}, contact_email="partners@vendor.example")
    offer = _get_or_create(
        Offer,
        {"slug": "demo-crm"},
        advertiser_id=advertiser.id,
        name="Demo CRM, annual licence",
        landing_url=f"{base}/demo/landing?utm_source=partners#pricing",
        allowed_hosts=[urlsplit(base).hostname],
        token_param="atk",
    )
    # The demo landing page is rendered here, by the server that holds the secret, as an advertiser's
    # own thank-you page would be: it signs its pixel, so the demo's conversions need no review.
    offer.pixel_signing = True
    # No hold: an approved demo commission is payable within the minute (the worker's approval run), so a
    # newcomer can build a payout batch right after the first sale.
    offer.hold_days = 0
    banners = add_sample_banners(offer, created_by=DEMO_LABEL)
    partners: dict[str, Partner] = {}
    links: dict[str, Link] = {}
    for code, name, kind, country, tier, parent_code in PARTNERS:
        parent = None if parent_code is None else partners.get(parent_code)
        partner = _get_or_create(
            Partner,
            {"name": name},
            contact_email=f"{code}@partner.example",
            kind=kind,
            country=country,
            tier=tier,
            parent_id=parent.id if parent else None,
        )
        partners[code] = partner
        links[code] = _get_or_create(Link, {"code": code}, partner_id=partner.id, offer_id=offer.id, sub1="demo")
    demo_created.send(offer, partners=list(partners.values()))
    db.session.execute(
        update(ApiKey)
        .where(ApiKey.label == DEMO_LABEL, ApiKey.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    keys = {
        "admin": issue_key("admin", label=DEMO_LABEL)[1],
        "finance": issue_key("finance", label=DEMO_LABEL)[1],
        "advertiser": issue_key("advertiser", advertiser_id=advertiser.id, label=DEMO_LABEL)[1],
    }
    partner_keys = {
        code: issue_key("partner", partner_id=partner.id, label=DEMO_LABEL)[1] for code, partner in partners.items()
    }
    people = [
        _demo_person("admin@handoff.example", "admin"),
        _demo_person("finance@handoff.example", "finance"),
        _demo_person("advertiser@vendor.example", "advertiser", advertiser_id=advertiser.id),
        *(_demo_person(f"{code}@partner.example", "partner", partner_id=p.id) for code, p in partners.items()),
    ]
    db.session.commit()
    return {
        "base_url": base,
        "advertiser": {"id": advertiser.id, "name": advertiser.name},
        "offer": {
            "id": offer.id,
            "slug": offer.slug,
            "landing_url": offer.landing_url,
            "banners": len(banners),
            "banners_api": f"{base}/api/v1/banners?offer={offer.slug}",
        },
        "partners": [
            {
                "id": partners[code].id,
                "name": partners[code].name,
                "kind": partners[code].kind,
                "parent_id": partners[code].parent_id,
                "link_code": code,
                "link_url": f"{base}/c/{code}",
                "key": partner_keys[code],
            }
            for code, *_ in PARTNERS
        ],
        "keys": {role: keys[role] for role in ("admin", "finance", "advertiser")},
        "people": people,
    }


def _demo_person(email: str, role: str, partner_id: int | None = None, advertiser_id: int | None = None) -> dict:
    """A demo person with a fresh password, like the keys: shown once, and the old one stops working."""
    password = secrets.token_urlsafe(12)
    person: Person | None = find_person(email)
    if person is None:
        create_person(email, password, role, partner_id=partner_id, advertiser_id=advertiser_id)
    else:
        set_password(person, password)
        revoke_sessions(person.id)
    organisation = (
        {"partner_id": partner_id} if partner_id else {"advertiser_id": advertiser_id} if advertiser_id else {}
    )
    return {"email": email, "password": password, "role": role, **organisation}


def describe_demo(summary: dict) -> str:
    lines = [
        f"Handoff demo program at {summary['base_url']}",
        "",
        f"Offer {summary['offer']['slug']!r} lands on {summary['offer']['landing_url']}",
        "",
        "Partner links (open one in a browser):",
    ]
    for partner in summary["partners"]:
        lines.append(f"  {partner['link_url']:<40} {partner['name']} ({partner['kind']})")
    lines += ["", "API keys (shown once; running demo again issues new ones):"]
    for role, key in summary["keys"].items():
        lines.append(f"  {role:<11} {key}")
    for partner in summary["partners"]:
        lines.append(f"  partner    {partner['key']}  ({partner['name']})")
    lines += ["", f"People (sign in at {summary['base_url']}/login; running demo again gives new passwords):"]
    for person in summary["people"]:
        organisation = next((f"{k.removesuffix('_id')} {v}" for k, v in person.items() if k.endswith("_id")), "")
        lines.append(f"  {person['role']:<11} {person['email']:<28} {person['password']}  {organisation}".rstrip())
    lines += [
        "",
        f"Try: curl -H 'Authorization: Bearer {summary['keys']['admin']}' "
        f"'{summary['base_url']}/api/v1/stats?group_by=partner'",
    ]
    return "\n".join(lines)
