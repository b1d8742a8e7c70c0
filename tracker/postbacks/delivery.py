"""Sending postbacks: each worker round sends the due deliveries side by side, with retries and backoff.

A round takes at most ``CONCURRENCY`` deliveries and at most ``PER_HOST`` of them to any one host, and
sends them all at once, each within ``POSTBACK_DEADLINE_SECONDS``: a round lasts about one deadline, and
one slow partner holds at most ``PER_HOST`` slots while the others are delivered beside it.
"""

from __future__ import annotations

import http.client
import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

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
from tracker.postbacks.transport import fetch
from tracker.services import tracker

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=6)
CONCURRENCY = 8
PER_HOST = 2
USER_AGENT = "Handoff-Postback/1"


@dataclass(frozen=True)
class _Attempt:
    """What a sending thread needs, copied out of the session: threads never touch the database."""

    id: int
    url: str
    secret: str
    retry: bool


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: 30 s, 1 min, 2 min, ... at most 6 h."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), MAX_RETRY)


def _lease(deadline_seconds: int) -> timedelta:
    """How long a claimed delivery is kept from other workers: well past the round that sends it."""
    return timedelta(seconds=2 * deadline_seconds + 60)


def _host(url: str) -> tuple[str, int]:
    """Host and port: two servers on one name are two hosts, and a slow one must not hold the other."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None  # check_target refuses it when the delivery is sent
    return (parts.hostname or "", port or (443 if parts.scheme == "https" else 80))


def _send(attempt: _Attempt, allow_private: bool, deadline_seconds: int) -> tuple[int | None, str | None]:
    """One HTTP attempt: (status code, None) on 2xx, else (status code or None, why it failed)."""
    try:
        addresses = check_target(attempt.url, allow_private)
        # Prepared as requests would (IDNA host, quoted path): the URL signed is exactly the URL requested,
        # which is what the partner's server can reconstruct.
        url = requests.Request("GET", attempt.url).prepare().url
        if url is None:  # preparing a request with a URL always sets it
            raise ValueError("the prepared postback request has no URL")
        headers = {SIGNATURE_HEADER: sign(attempt.secret, int(utcnow().timestamp()), url), "User-Agent": USER_AGENT}
        # Never a redirect: a public host could redirect us into the private network.
        answer = fetch(url, addresses, headers, deadline_seconds)
    except PostbackRefused as exc:
        return None, f"refused: {exc}"
    except TimeoutError:
        return None, f"no complete answer within {deadline_seconds:g} s"
    except (OSError, http.client.HTTPException, requests.RequestException) as exc:
        return None, f"request failed: {type(exc).__name__}: {exc}"
    except Exception as exc:
        log.exception("postback %s: unexpected error", attempt.id)
        return None, f"unexpected error: {type(exc).__name__}: {exc}"
    code = answer.status
    if 200 <= code < 300:
        return code, None
    if 300 <= code < 400:
        return code, f"HTTP {code}: redirect to {answer.location!r} not followed; use the final URL"
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


def _due(now: datetime, limit: int) -> Select[tuple[PostbackDelivery]]:
    """The first ``limit`` due deliveries, locked until the caller commits, at most PER_HOST per endpoint.

    An endpoint has one host (macros never reach it), so a partner's backlog cannot hide the others'
    deliveries behind it. SKIP LOCKED lets another worker claim other rows meanwhile; SQLite ignores
    FOR UPDATE, so there this is a plain select (run one worker per SQLite database).
    """
    due = (PostbackDelivery.status == "pending", PostbackDelivery.next_attempt_at <= now)
    order = (PostbackDelivery.next_attempt_at, PostbackDelivery.id)
    ranked = (
        select(
            PostbackDelivery.id,
            func.row_number().over(partition_by=PostbackDelivery.endpoint_id, order_by=order).label("rank"),
        )
        .where(*due)
        .subquery()
    )
    first_of_each = select(ranked.c.id).where(ranked.c.rank <= PER_HOST)
    return (
        select(PostbackDelivery)
        .where(PostbackDelivery.id.in_(first_of_each), *due)
        .order_by(*order)
        .limit(limit)
        .options(selectinload(PostbackDelivery.endpoint))
        .with_for_update(skip_locked=True)
    )


def _claim(now: datetime, limit: int, deadline_seconds: int) -> tuple[list[_Attempt], int]:
    """This round's deliveries, leased to it and committed; and how many were closed as undeliverable."""
    claimed: list[_Attempt] = []
    per_host: Counter[tuple[str, int]] = Counter()
    closed = 0
    for delivery in db.session.scalars(_due(now, limit)).all():
        if not delivery.endpoint.active:
            delivery.status, delivery.last_error = "failed", "the postback endpoint is inactive"
            closed += 1
            continue
        host = _host(delivery.url)
        if len(claimed) == CONCURRENCY or per_host[host] == PER_HOST:
            continue  # stays due for the next round
        per_host[host] += 1
        # A lease, not the row lock: the commit below ends the lock, and the HTTP runs after it. A worker
        # that dies mid-round leaves its deliveries due again when the lease runs out.
        delivery.next_attempt_at = now + _lease(deadline_seconds)
        claimed.append(_Attempt(delivery.id, delivery.url, delivery.endpoint.secret, retry=delivery.kind != "test"))
    db.session.commit()
    return claimed, closed


def _finish(attempt: _Attempt, code: int | None, error: str | None, now: datetime) -> None:
    delivery = db.session.get(PostbackDelivery, attempt.id)
    if delivery is None:
        return
    # A test is a one-off check the partner is watching: report the result, never retry it.
    _record(delivery, code, error, now, retry=attempt.retry)
    attempts = delivery.attempts
    db.session.commit()
    if error:
        log.info("postback %s attempt %s failed: %s", attempt.id, attempts, error)


def deliver_due(now: datetime | None = None, limit: int = 100) -> int:
    """Run one round over the first ``limit`` due deliveries; return how many were attempted or closed.

    The HTTP runs in threads; each result is written and committed here, on the caller's thread and
    session, as soon as its attempt ends.
    """
    now = now or utcnow()
    settings = tracker().settings
    deadline, allow_private = settings.postback_deadline_seconds, settings.allow_private_postback_targets
    claimed, closed = _claim(now, limit, deadline)
    if claimed:
        with ThreadPoolExecutor(max_workers=len(claimed), thread_name_prefix="postback") as pool:
            sending = {pool.submit(_send, attempt, allow_private, deadline): attempt for attempt in claimed}
            for done in as_completed(sending):
                _finish(sending[done], *done.result(), now)
    return len(claimed) + closed


def queue_test(endpoint: PostbackEndpoint) -> PostbackDelivery:
    """Queue sample values for the endpoint; the worker sends them once, and the delivery log shows how it went."""
    delivery = new_delivery(endpoint, "test", SAMPLE_VALUES)
    db.session.add(delivery)
    db.session.commit()
    return delivery
