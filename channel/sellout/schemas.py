"""What the sell-out API accepts and answers."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field
from spectree.model_adapter.pydantic_adapter import BaseFile

from core.api.schemas import ListQuery, Strict


class UploadForm(Strict):
    file: BaseFile = Field(description="CSV (UTF-8, comma, semicolon or tab) or XLSX with the documented header.")


class UploadQuery(Strict):
    rejected_limit: int = Field(1000, ge=0, le=10_000, description="How many rejected rows to list (by row).")
    rejected_offset: int = Field(0, ge=0, le=2**31 - 1)


class UploadListQuery(ListQuery):
    state: str | None = Field(None, description="previewed, committed, undone or discarded")


class RejectedRow(BaseModel):
    row: int = Field(description="The row's number in the file; the header is row 1.")
    kind: str = Field(description="invalid or duplicate")
    reason: str


class LineNote(BaseModel):
    row: int
    reason: str = Field(description="Why the line is booked without its points (the fund refused them).")


class UploadSummary(BaseModel):
    id: int
    state: str = Field(description="previewed, committed, undone or discarded")
    file_name: str
    sha256: str
    uploader_partner_id: int | None
    rows_read: int
    rows_accepted: int
    duplicates: int
    rejected_count: int = Field(description="Rows rejected as invalid (duplicates are counted apart).")
    conflicts: int = Field(description="Accepted sales whose serial another partner holds: booked without points.")
    created_by: str
    created_at: datetime
    committed_at: datetime | None
    undone_at: datetime | None


class UploadOut(UploadSummary):
    points_accrued: int = Field(description="Points the upload's lines accrued (committed uploads).")
    rejected: list[RejectedRow] = Field(description="Rejected and duplicate rows, by row number, one page of them.")
    booked_without_points: list[LineNote]


class UploadList(BaseModel):
    items: list[UploadSummary]


class ConflictQuery(ListQuery):
    state: str = Field("open", description="open or resolved")


class ConflictLine(BaseModel):
    line_id: int
    partner_id: int
    upload_id: int
    row: int
    invoice_number: str
    invoice_date: date
    points: int


class ConflictOut(BaseModel):
    id: int
    serial: str
    state: str
    holder: ConflictLine
    claimant: ConflictLine
    winner_line_id: int | None
    resolved_by: str | None
    resolved_at: datetime | None
    created_at: datetime


class ConflictList(BaseModel):
    items: list[ConflictOut]


class ResolveIn(Strict):
    winner_line_id: int = Field(ge=1, description="The holder's or the claimant's line id: who keeps the serial.")
