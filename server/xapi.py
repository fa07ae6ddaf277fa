"""xAPI statements to a Learning Record Store (settings `LRS_URL`, `LRS_USERNAME`, `LRS_PASSWORD`).

A statement is written to the `xapi_outbox` table in the same transaction as the learner record it
reports, so nothing is lost when the LRS is down or the server stops; `Sender` (a thread) posts what is
due, one statement at a time, and tries again later (doubling waits up to `LRS_RETRY_MAX_S`) when the LRS
does not accept it. Each statement has its own id, so one the LRS already holds (409) counts as sent.

Verbs (ADL): experienced (opened the guide), attempted (practised, with the score), answered (one quiz
question, success), passed / failed (the check, with the score). The guide version is in the context
(`context.revision` and the extension `VERSION_EXT`).
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from guidecast.server.learning_models import XapiOutbox
from guidecast.server.models import utcnow

log = logging.getLogger("guidecast.xapi")
VERBS = {v: f"http://adlnet.gov/expapi/verbs/{v}" for v in ("experienced", "attempted", "answered", "passed", "failed")}
VERSION_EXT = "https://guidecast.dev/xapi/extensions/guide-version"
ASSESSMENT = "http://adlnet.gov/expapi/activities/assessment"
INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
SIMULATION = "http://adlnet.gov/expapi/activities/simulation"
BATCH = 50


def actor(base_url: str, learner: str, name: str | None, email: str | None) -> dict:
    """The learner as an xAPI Agent: their e-mail when known, else an account on this server."""
    out: dict = {"objectType": "Agent"}
    if name:
        out["name"] = name
    if email:
        out["mbox"] = f"mailto:{email}"
    else:
        out["account"] = {"homePage": base_url, "name": learner}
    return out


def statement(verb: str, who: dict, base_url: str, guide_id: int, version: int, title: str, *,
              part: str | None = None, part_name: str | None = None, result: dict | None = None) -> dict:
    guide_iri = f"{base_url}/g/{guide_id}"
    if part:
        obj_type = {"practice": SIMULATION, "check": ASSESSMENT}.get(part.split("/")[0], INTERACTION)
        obj = {"objectType": "Activity", "id": f"{guide_iri}/{part}",
               "definition": {"name": {"en-US": part_name or title}, "type": obj_type}}
    else:
        obj = {"objectType": "Activity", "id": guide_iri, "definition": {"name": {"en-US": title}}}
    st: dict = {
        "id": str(uuid.uuid4()), "actor": who,
        "verb": {"id": VERBS[verb], "display": {"en-US": verb}}, "object": obj,
        "context": {"revision": str(version), "extensions": {VERSION_EXT: version},
                    "contextActivities": {"parent": [{"objectType": "Activity", "id": guide_iri}]} if part else {}},
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if not part:
        del st["context"]["contextActivities"]
    if result:
        st["result"] = result
    return st


def queue(db: Session, st: dict) -> None:
    db.add(XapiOutbox(statement_id=st["id"], statement_json=json.dumps(st)))


def send_due(ctx, now: float | None = None) -> int:
    """Post every statement that is due; returns how many the LRS accepted. Never raises for the LRS."""
    st = ctx.settings
    if not st.lrs_url:
        return 0
    now = time.time() if now is None else now
    with ctx.db.session() as s:
        rows = s.scalars(select(XapiOutbox).where(XapiOutbox.sent_at.is_(None), XapiOutbox.next_try_at <= now)
                         .order_by(XapiOutbox.id).limit(BATCH)).all()
        due = [(r.id, r.statement_json, r.attempts) for r in rows]
    sent = 0
    auth = (st.lrs_username or "", st.lrs_password or "") if st.lrs_username else None
    url = st.lrs_url.rstrip("/") + "/statements"
    with httpx.Client(timeout=10, auth=auth, headers={"X-Experience-API-Version": "1.0.3"}) as client:
        for row_id, body, attempts in due:
            error = None
            try:
                r = client.post(url, content=body, headers={"Content-Type": "application/json"})
                if r.status_code not in (200, 204, 409):
                    error = f"the LRS answered {r.status_code}: {r.text[:300]}"
            except httpx.HTTPError as e:
                error = f"the LRS could not be reached: {e}"
            with ctx.db.session() as s:
                row = s.get(XapiOutbox, row_id)
                if row is None:
                    continue
                row.attempts = attempts + 1
                if error is None:
                    row.sent_at, row.last_error = utcnow(), None
                    sent += 1
                else:
                    row.last_error = error
                    row.next_try_at = time.time() + min(st.lrs_retry_max_s, 2 ** min(attempts, 16))
            if error is not None:
                log.warning("xAPI statement %s not sent: %s", row_id, error)
                break  # the LRS is down or refusing: the rest waits for the next round
    return sent


def pending(ctx) -> int:
    with ctx.db.session() as s:
        return len(s.scalars(select(XapiOutbox.id).where(XapiOutbox.sent_at.is_(None))).all())


class Sender:
    """A thread sending due statements every `every` seconds (and at once when `poke`d)."""

    def __init__(self, ctx, every: float = 2.0):
        self.ctx, self.every = ctx, every
        self._stop, self._wake = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self.ctx.settings.lrs_url or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="xapi-sender", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(15)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                send_due(self.ctx)
            except Exception:  # the sender outlives any one failure (a database hiccup)
                log.exception("xAPI sender round failed")
            self._wake.wait(self.every)
            self._wake.clear()
