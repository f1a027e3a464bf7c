"""Schemathesis hooks for .ci/run.

An Idempotency-Key promises one request: a client sends a new key with each
new request and the same key only with a retry of the same one. Schemathesis
draws keys from the header's schema and so reuses a few short ones ("0",
"00") across different requests, which the API rightly refuses with a 422
naming the key. Every well-formed key drawn is therefore made unique before
the call; malformed ones are sent as drawn, so that their refusal is still
fuzzed. Replays of one request are tested in tests/api/idempotency.rs.

Cases that test the Authorization header itself are left alone: the key is
never looked at before authentication, and editing such a case makes
schemathesis send the token it meant to leave out.
"""

import re
import uuid

import schemathesis

WELL_FORMED = re.compile(r"^[!-~]{1,255}$")


@schemathesis.hook
def before_call(ctx, case, kwargs):
    phase = getattr(getattr(case, "meta", None), "phase", None)
    tested = getattr(getattr(phase, "data", None), "parameter", None)
    if isinstance(tested, str) and tested.lower() == "authorization":
        return
    headers = case.headers or {}
    key = next((name for name in headers if name.lower() == "idempotency-key"), None)
    if key is None:
        return
    value = headers[key]
    if isinstance(value, str) and WELL_FORMED.match(value):
        headers[key] = f"{value[:200]}-{uuid.uuid4()}"
