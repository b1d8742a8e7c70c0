"""Sending postbacks: the worker's due deliveries with retries and backoff, and "send test" at once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import requests
from sqlalchemy import select

from core.db import db, utcnow
from tracker.postbacks.messages import (
    SAMPLE_VALUES,
    SIGNATURE_HEADER,
    PostbackRefused,
    check_target,
    new_delivery,
    sign,
)
from tracker.postbacks.models import PostbackDelivery, PostbackEndpoint
from tracker.services import tracker

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=6)
TIMEOUT_SECONDS = 5
USER_AGENT = "Handoff-Postback/1"


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: 30 s, 1 min, 2 min, ... at most 6 h."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), MAX_RETRY)


def _session() -> requests.Session:
    session = requests.Session()
    # Partner-chosen URLs must never pick up the host's proxy settings or ~/.netrc credentials.
    session.trust_env = False
    return session


def _send(session: requests.Session, delivery: PostbackDelivery) -> tuple[int | None, str | None]:
    """One HTTP attempt: (status code, None) on 2xx, else (status code or None, why it failed)."""
    try:
        check_target(delivery.url, tracker().settings.allow_private_postback_targets)
        request = session.prepare_request(requests.Request("GET", delivery.url))
        if request.url is None:  # preparing a request with a URL always sets it
            raise ValueError("the prepared postback request has no URL")
        # Sign the URL exactly as requested, which is what the partner's server can reconstruct.
        request.headers[SIGNATURE_HEADER] = sign(delivery.endpoint.secret, int(utcnow().timestamp()), request.url)
        request.headers["User-Agent"] = USER_AGENT
        # No redirects: a public host could redirect us into the private network. No body: stream=True.
        with session.send(request, timeout=TIMEOUT_SECONDS, allow_redirects=False, stream=True) as response:
            code = response.status_code
            location = response.headers.get("Location")
    except PostbackRefused as exc:
        return None, f"refused: {exc}"
    except requests.RequestException as exc:
        return None, f"request failed: {type(exc).__name__}: {exc}"
    except Exception as exc:
        log.exception("postback %s: unexpected error", delivery.id)
        return None, f"unexpected error: {type(exc).__name__}: {exc}"
    if 200 <= code < 300:
        return code, None
    if 300 <= code < 400:
        return code, f"HTTP {code}: redirect to {location!r} not followed; use the final URL"
    return code, f"HTTP {code}"


def _record(delivery: PostbackDelivery, code: int | None, error: str | None, now: datetime, retry: bool) -> None:
    delivery.attempts += 1
    delivery.last_status_code = code
    delivery.last_error = error[:500] if error else None
    if error is None:
        delivery.status, delivery.delivered_at = "delivered", utcnow()
    elif not retry or delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = "failed"
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)


def _claim_next(now: datetime) -> PostbackDelivery | None:
    """The next due delivery, locked until the caller commits.

    One row at a time: the lock must last through the HTTP request, and a commit releases every lock
    the transaction holds. SKIP LOCKED lets other workers take other rows meanwhile. SQLite ignores
    FOR UPDATE, so there this is a plain select (run one worker per SQLite database).
    """
    return db.session.scalar(
        select(PostbackDelivery)
        .where(PostbackDelivery.status == "pending", PostbackDelivery.next_attempt_at <= now)
        .order_by(PostbackDelivery.next_attempt_at, PostbackDelivery.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def deliver_due(now: datetime | None = None, limit: int = 100) -> int:
    """Attempt up to ``limit`` due deliveries, committing each; return how many were attempted."""
    now = now or utcnow()
    attempted = 0
    with _session() as session:
        while attempted < limit:
            delivery = _claim_next(now)
            if delivery is None:
                break
            attempted += 1
            if not delivery.endpoint.active:
                delivery.status, delivery.last_error = "failed", "the postback endpoint is inactive"
            else:
                code, error = _send(session, delivery)
                _record(delivery, code, error, now, retry=True)
                if error:
                    log.info("postback %s attempt %s failed: %s", delivery.id, delivery.attempts, error)
            db.session.commit()
    db.session.commit()  # end the transaction of the last, empty claim
    return attempted


def send_test(endpoint: PostbackEndpoint) -> PostbackDelivery:
    """Send sample values to the endpoint now, once, and return the delivery with its result."""
    delivery = new_delivery(endpoint, "test", SAMPLE_VALUES)
    db.session.add(delivery)
    if delivery.status == "pending":
        with _session() as session:
            code, error = _send(session, delivery)
        # A test is a one-off check the partner is watching: report the result, never retry it.
        _record(delivery, code, error, utcnow(), retry=False)
    db.session.commit()
    return delivery
