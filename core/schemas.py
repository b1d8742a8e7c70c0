"""Request shapes every API shares: strict objects, list paging, and a currency code."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Shape only; whether the code is a real ISO 4217 currency is checked where the amount is read.
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class Strict(BaseModel):
    """A request body or query: an unknown field is refused, never silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ListQuery(Strict):
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)
