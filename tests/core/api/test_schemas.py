"""Every request model refuses control characters in every string, nested or not, naming the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

import app as _app_module  # noqa: F401  (builds the app, so every feature's request models are defined)
from core.api.schemas import Strict
from core.db import db
from tests.factories import LinkFactory, OfferFactory, auth
from tracker.program.models import Advertiser


def request_models() -> list[type[Strict]]:
    found, todo = [], list(Strict.__subclasses__())
    while todo:
        model = todo.pop()
        found.append(model)
        todo.extend(model.__subclasses__())
    return sorted(set(found), key=lambda model: f"{model.__module__}.{model.__qualname__}")


def errors_of(model: type[Strict], data: dict) -> list[dict]:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return exc.errors(include_url=False)
    return []


def control_errors(model: type[Strict], data: dict) -> list[tuple[tuple, str]]:
    return [(error["loc"], error["msg"]) for error in errors_of(model, data) if error["type"] == "control_character"]


def model_named(name: str) -> type[Strict]:
    [model] = [model for model in request_models() if model.__name__ == name]
    return model


def test_every_field_of_every_request_model_refuses_nul():
    models = request_models()
    assert len(models) >= 20  # the program, attribution, postback, tax, ledger and batch APIs
    for model in models:
        for name in model.model_fields:
            found = control_errors(model, {name: "x\x00y"})
            assert found == [((name,), "must not contain control characters (found U+0000)")], (model, name)


@pytest.mark.parametrize("char", [chr(code) for code in range(0x20)] + ["\x7f"])
def test_names_codes_and_ids_refuse_every_c0_control_and_del(char):
    assert control_errors(model_named("AdvertiserIn"), {"name": f"Acme{char}Corp"}) == [
        (("name",), f"must not contain control characters (found U+{ord(char):04X})")
    ]
    assert control_errors(model_named("CouponIn"), {"code": f"SPRING{char}"})


@pytest.mark.parametrize("model", ["StatusChangeIn", "ReassignIn", "AdjustmentIn"])
def test_reasons_are_prose_and_keep_tabs_and_line_breaks(model):
    reason = "Duplicate of order 1182.\r\nSee the ticket:\tOPS-77"
    assert control_errors(model_named(model), {"reason": reason}) == []
    assert control_errors(model_named(model), {"reason": "Duplicate\x00"}) == [
        (("reason",), "must not contain control characters (found U+0000)")
    ]
    assert control_errors(model_named(model), {"reason": "Duplicate\x0b"})


def test_ordinary_text_passes():
    partner = model_named("PartnerIn").model_validate(
        {"name": "ООО «Ромашка» — партнёр №1 ✓", "contact_email": "a@example.com", "kind": "reseller", "country": "ru"}
    )
    assert partner.name == "ООО «Ромашка» — партнёр №1 ✓"


def test_a_nested_model_names_the_exact_field():
    conversion = {"offer": 1, "event": "lead", "order_id": "o-1", "customer": {"email": "a\x01@example.com"}}
    assert control_errors(model_named("ConversionIn"), conversion) == [
        (("customer", "email"), "must not contain control characters (found U+0001)")
    ]
    forms = [{"form": "W-9", "signed_on": "2026-01-01"}, {"form": "W-9\x7f", "signed_on": "2026-01-01"}]
    assert control_errors(model_named("TaxProfileIn"), {"forms": forms}) == [
        (("forms", 1, "form"), "must not contain control characters (found U+007F)")
    ]


def test_lists_and_free_objects_are_searched_to_the_bottom():
    hosts = ["docs.example", "shop\x00.example"]
    assert control_errors(model_named("OfferIn"), {"allowed_hosts": hosts}) == [
        (("allowed_hosts",), "must not contain control characters (found U+0000 at allowed_hosts.1)")
    ]
    plan = {"currency": "RUB", "events": {"sale": {"by_tier": {"gold": {"percent": "10\n"}}}}}
    assert control_errors(model_named("PlanIn"), {"plan": plan}) == [
        (("plan",), "must not contain control characters (found U+000A at plan.events.sale.by_tier.gold.percent)")
    ]
    # A key holding the character is named escaped, so the error itself carries no control character.
    assert control_errors(model_named("QuoteIn"), {"inputs": {"flag\x00": True}}) == [
        (("inputs",), "must not contain control characters (found U+0000 at inputs.flag\\x00)")
    ]


def test_api_answers_422_naming_the_field(client):
    response = client.post(
        "/api/v1/advertisers", json={"name": "Acme\u0000", "contact_email": "ops@acme.example"}, headers=auth("admin")
    )
    assert response.status_code == 422
    assert response.json == {
        "error": "invalid request: name: must not contain control characters (found U+0000)",
        "status": 422,
        "details": [{"field": "name", "reason": "must not contain control characters (found U+0000)"}],
    }
    assert db.session.scalar(select(func.count()).select_from(Advertiser)) == 0


def test_api_names_a_nested_field(client):
    offer = OfferFactory()
    response = client.post(
        "/api/v1/conversions",
        json={"offer": offer.id, "event": "lead", "order_id": "o-1", "customer": {"email": "a\u0000@x.example"}},
        headers=auth("advertiser", advertiser_id=offer.advertiser_id),
    )
    assert response.status_code == 422
    assert response.json["details"] == [
        {"field": "customer.email", "reason": "must not contain control characters (found U+0000)"}
    ]


def test_api_refuses_control_characters_in_query_strings(client):
    response = client.get("/api/v1/conversions?status=pending%00", headers=auth("admin"))
    assert response.status_code == 422
    assert response.json["details"] == [
        {"field": "status", "reason": "must not contain control characters (found U+0000)"}
    ]


def test_api_refuses_a_link_whose_sub_id_could_not_be_clicked(client):
    offer = LinkFactory().offer
    response = client.post("/api/v1/links", json={"offer_id": offer.id, "sub1": "tab\there"}, headers=auth("admin"))
    assert response.status_code == 422
    assert response.json["details"][0]["field"] == "sub1"
