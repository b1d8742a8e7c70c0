"""The batch pages name what a batch stores as codes: states, line statuses, rebuild changes, tax regimes and
who acted, in the reader's language; the codes stay as they are in the database."""

from __future__ import annotations

from sqlalchemy import select

from core.db import db
from core.people.models import Person
from payouts.batches.labels import REGIME_TITLES
from payouts.ledger.entries import adjust
from payouts.tax.engine.presets import preset_regimes
from tests.core.people.conftest import cheap_hashes, compiled_catalogues, fresh_request_globals  # noqa: F401
from tests.payouts.batches.test_pages import build, finance, only_batch, post, program  # noqa: F401


def reader_speaks(language: str) -> None:
    person = db.session.scalar(select(Person).where(Person.email == "finance@people.example"))
    person.locale = language
    db.session.commit()


def test_every_shipped_regime_title_is_in_the_catalogues(app):
    with app.test_request_context():
        listed = {str(title) for title in REGIME_TITLES}
    assert {regime.title for regime in preset_regimes().values()} == listed


def test_a_batch_names_its_regimes_statuses_and_the_person_who_built_it(finance, compiled_catalogues):  # noqa: F811
    _, page = build(finance)
    batch = only_batch()
    assert batch.created_by == "finance@people.example (finance)"
    text = page.get_data(as_text=True)
    assert 'title="ru_individual">Russia: individual under a civil contract, tax resident</span>' in text
    assert '<td class="line-status">payable</td>' in text
    assert 'id="batch-created-by">finance@people.example (finance)</span>' in text

    reader_speaks("ru")
    russian = finance.get(f"/portal/batches/{batch.id}").get_data(as_text=True)
    assert 'title="ru_individual">Россия: физическое лицо по договору ГПХ, налоговый резидент</span>' in russian
    assert '<td class="line-status">к выплате</td>' in russian
    assert "черновик" in russian and ">payable<" not in russian and ">draft<" not in russian


def test_a_change_signed_the_old_way_is_shown_with_the_persons_email(finance):  # noqa: F811
    build(finance)
    batch = only_batch()
    person_id = db.session.scalar(select(Person.id).where(Person.email == "finance@people.example"))
    batch.created_by = f"finance person #{person_id}"
    db.session.commit()
    shown = finance.get(f"/portal/batches/{batch.id}").get_data(as_text=True)
    assert 'id="batch-created-by">finance@people.example (finance)</span>' in shown
    assert "finance@people.example (finance)" in finance.get("/portal/batches").get_data(as_text=True)

    batch.created_by = "finance key #3"  # the API's signature names a key, not a person: shown as stored
    db.session.commit()
    assert 'id="batch-created-by">finance key #3</span>' in finance.get(f"/portal/batches/{batch.id}").get_data(
        as_text=True
    )


def test_a_rebuild_names_each_change_in_the_readers_language(finance, program, compiled_catalogues):  # noqa: F811
    build(finance)
    old = only_batch()
    adjust(program.gold.id, 2500, "RUB", "bonus", "finance")
    rebuilt = post(finance, f"/portal/batches/{old.id}/rebuild", f"/portal/batches/{old.id}")
    location = rebuilt.headers["Location"]
    assert '<strong title="added">added</strong>' in finance.get(location).get_data(as_text=True)
    reader_speaks("ru")
    assert '<strong title="added">добавлена</strong>' in finance.get(location).get_data(as_text=True)
