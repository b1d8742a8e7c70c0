"""The background worker: the click stream when Redis is configured, partner postbacks and commission
approvals always."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from core.db import db
from payouts.ledger import approve_due
from tracker.pipeline import ClickStreamWorker
from tracker.postback_delivery import deliver_due

log = logging.getLogger(__name__)
IDLE_SLEEP_SECONDS = 1.0
# Postbacks are due at most once a second; polling for them between every click batch would cost the
# stream a query per batch.
POSTBACK_POLL_SECONDS = 1.0
# Hold periods are days long: approving within a minute of one ending is prompt enough, and one scan a
# minute takes nothing noticeable from the click stream.
APPROVAL_POLL_SECONDS = 60.0


@dataclass
class WorkSummary:
    clicks: int = 0
    postbacks: int = 0
    approvals: int = 0


class BackgroundWorker:
    def __init__(self, stream: ClickStreamWorker | None):
        self.stream = stream
        self.summary = WorkSummary()
        self._next_postback_poll = 0.0
        self._next_approval_poll = 0.0

    def step(self) -> int:
        handled = self.stream.step() if self.stream else 0
        return handled + self._deliver_postbacks() + self._approve_commissions()

    def _approve_commissions(self) -> int:
        if time.monotonic() < self._next_approval_poll:
            return 0
        self._next_approval_poll = time.monotonic() + APPROVAL_POLL_SECONDS
        try:
            approved = approve_due()
        except Exception:
            # Like postbacks: a ledger problem must never stop clicks from being stored. The next
            # round retries; approving is idempotent.
            log.exception("commission approval round failed")
            db.session.rollback()
            return 0
        self.summary.approvals += approved
        return approved

    def _deliver_postbacks(self) -> int:
        if time.monotonic() < self._next_postback_poll:
            return 0
        try:
            attempted = deliver_due(limit=100)
        except Exception:
            # A postback problem must never stop clicks from being stored.
            log.exception("postback delivery round failed")
            attempted = 0
        if attempted == 0:
            self._next_postback_poll = time.monotonic() + POSTBACK_POLL_SECONDS
        self.summary.postbacks += attempted
        return attempted

    def run(self, *, burst: bool = False, should_stop=lambda: False) -> WorkSummary:
        while not should_stop():
            worked = self.step()
            if worked:
                continue
            if burst and (self.stream is None or self.stream.drained()):
                break
            if self.stream is None:
                time.sleep(IDLE_SLEEP_SECONDS)  # with a stream, its blocking read already waits
        self.summary.clicks = self.stream.stored if self.stream else 0
        return self.summary
