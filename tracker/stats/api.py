"""``GET /api/v1/stats``: clicks, conversions and the L1/L2/S1 chain per group, for the caller's own data."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field, model_validator
from spectree import Response

from core.api.auth import principal, require_roles
from core.api.openapi import ERRORS, api_spec
from core.api.schemas import Strict
from core.db import utcnow
from tracker.stats.queries import GROUPINGS, program_stats

bp = Blueprint("stats_api", __name__, url_prefix="/api/v1")
MAX_RANGE_DAYS = 366


class StatsQuery(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: date | None = Field(None, alias="from", description="First day, inclusive (UTC). Default: 30 days ago.")
    to: date | None = Field(None, description="Last day, inclusive (UTC). Default: today.")
    group_by: Literal[GROUPINGS] = "day"  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _range(self):
        today = utcnow().date()
        self.to = self.to or today
        self.from_ = self.from_ or self.to - timedelta(days=30)
        if self.from_ > self.to:
            raise ValueError("'from' must not be after 'to'")
        if (self.to - self.from_).days >= MAX_RANGE_DAYS:
            raise ValueError(f"a range spans at most {MAX_RANGE_DAYS} days")
        return self

    def days(self) -> tuple[date, date]:
        """The first and last day; ``_range`` has set both by the time a view sees the query."""
        if self.from_ is None or self.to is None:
            raise ValueError("the stats query's range was not validated")
        return self.from_, self.to


class StatsRow(BaseModel):
    key: str | None
    label: str | None = None
    clicks: int
    unique_clicks: int
    bot_clicks: int
    leads: int
    sales: int
    revenue: dict[str, str] = Field(description="Sales revenue per currency, as decimal strings.")
    L1: float | None = Field(description="Leads per unique click.")
    L2: float | None = Field(description="Sales per lead.")
    S1: dict[str, str] = Field(description="Revenue per sale, per currency.")


class StatsReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: date = Field(alias="from")
    to: date
    group_by: str
    rows: list[StatsRow]
    totals: StatsRow


@bp.get("/stats")
@require_roles("admin", "finance", "advertiser", "partner")
@api_spec.validate(query=StatsQuery, resp=Response(HTTP_200=StatsReport, **ERRORS), tags=["stats"])
def stats(query: StatsQuery):
    first, last = query.days()
    rows, totals = program_stats(principal(), first, last, query.group_by)
    # By the alias: the type checker knows the constructor only by "from" (populate_by_name is runtime-only).
    report = StatsReport.model_validate(
        {
            "from": first,
            "to": last,
            "group_by": query.group_by,
            "rows": [StatsRow(**row) for row in rows],
            "totals": StatsRow(**totals),
        }
    )
    return report.model_dump(mode="json", by_alias=True)
