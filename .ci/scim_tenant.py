"""Makes a fresh customer tenant for scim2-tester and prints a SCIM token of
it: an administrator, a station licence pool, phone numbers and desk phones
for the telephony extension's canonical values (every user the suite
creates gets some of each; the suite deletes its users as it goes), and
numbers that do not rest after a deletion.

Usage: scim_tenant.py BASE_URL OPERATOR_TOKEN
"""

import json
import secrets
import sys
import urllib.request

BASE, OPERATOR = sys.argv[1], sys.argv[2]
PASSWORD = "Qz7-pLm2-maple-Vx9k-orbit"


def call(method, path, token, body=None):
    request = urllib.request.Request(
        BASE + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


n = secrets.token_hex(4)
admin_login = f"scim-admin-{n}@customer-{n}.example"
tenant = call(
    "POST",
    "/v1/tenants",
    OPERATOR,
    {
        "name": f"SCIM {n}",
        "slug": f"scim-{n}",
        "admin": {"email": admin_login, "first_name": "Sam", "last_name": "Cim", "password": PASSWORD},
    },
)
request = urllib.request.Request(
    BASE + "/v1/auth/login",
    method="POST",
    data=json.dumps({"login": admin_login, "password": PASSWORD}).encode(),
    headers={"Content-Type": "application/json"},
)
with urllib.request.urlopen(request) as response:
    admin = json.load(response)["access_token"]
for code in ("standard", "premium"):
    call("POST", "/v1/stations", OPERATOR,
         {"tenant_id": tenant["id"], "name": code.title(), "code": code, "applications": [], "quantity": 500})
block = int(n, 16) % 1000000
for i in range(100):
    call("POST", "/v1/phone-numbers", OPERATOR, {"tenant_id": tenant["id"], "number": f"+4930{block:06d}{i:02d}"})
for i in range(100):
    call("POST", "/v1/devices", admin,
         {"mac": f"80:5e:c0:{int(n[:2], 16):02x}:{i // 256:02x}:{i % 256:02x}", "vendor": "Yealink", "model": "T54W", "ports": 1})
# The suite reads the canonical values (the free numbers) once, then
# creates and deletes users with them: a deleted user's number must not rest.
call("PUT", "/v1/scim-settings", admin, {"hold_days": 30, "release_station": False, "number_rest_days": 0})
print(call("POST", "/v1/scim-tokens", admin, {"name": "scim2-tester"})["token"])
