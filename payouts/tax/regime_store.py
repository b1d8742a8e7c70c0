"""Operator edits to the tax presets, kept in the database so every node sees the same rates.

An edit replaces one regime's whole definition (or adds a regime); it is checked together with the
other regimes by the same parser as the presets file, so an edit that would not load is refused before
it is stored. Deleting an edit puts the shipped preset back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from flask import has_app_context
from sqlalchemy import JSON, String, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Model, UtcDateTime, db, utcnow
from payouts.tax.engine.presets import FORMAT, PRESETS_PATH, parse_regimes, preset_regimes
from payouts.tax.engine.regimes import Regime

_cache: dict[tuple, Mapping[str, Regime]] = {}


class TaxRegimeEdit(Model):
    __tablename__ = "tax_regime_edits"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    definition: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))


def _preset_definitions() -> dict[str, dict]:
    data = json.loads(PRESETS_PATH.read_text(encoding="utf-8"), parse_float=Decimal)
    return {item["code"]: item for item in data["regimes"]}


def _merged(edits: dict[str, dict]) -> Mapping[str, Regime]:
    definitions = _preset_definitions() | edits
    return parse_regimes(
        {"format": FORMAT, "regimes": list(definitions.values())}, source="tax presets with operator edits"
    )


def stored_regimes() -> Mapping[str, Regime]:
    """The presets with the stored edits over them; outside a request, or before the table exists, the presets."""
    if not has_app_context():
        return preset_regimes()
    try:
        rows = db.session.execute(select(TaxRegimeEdit.code, TaxRegimeEdit.definition, TaxRegimeEdit.updated_at)).all()
    except SQLAlchemyError:
        db.session.rollback()
        return preset_regimes()
    if not rows:
        return preset_regimes()
    # Parsed once per set of edits: a batch quoting ten thousand partners reads the table, not the file.
    key = tuple(sorted((row.code, row.updated_at.isoformat()) for row in rows))
    if key not in _cache:
        _cache.clear()
        _cache[key] = _merged({row.code: row.definition for row in rows})
    return _cache[key]


def save_edit(code: str, definition: dict, actor: str) -> Regime:
    """Check the edited regime with all the others, then store it; raises PresetError with the reason."""
    if definition.get("code") != code:
        definition = {**definition, "code": code}
    current = {row.code: row.definition for row in db.session.scalars(select(TaxRegimeEdit))}
    regimes = _merged(current | {code: definition})
    edit = db.session.get(TaxRegimeEdit, code) or TaxRegimeEdit(code=code)
    edit.definition, edit.updated_at, edit.updated_by = definition, utcnow(), actor
    db.session.add(edit)
    db.session.commit()
    return regimes[code]


def drop_edit(code: str) -> bool:
    edit = db.session.get(TaxRegimeEdit, code)
    if edit is None:
        return False
    db.session.delete(edit)
    db.session.commit()
    return True
