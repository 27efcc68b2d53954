#!/usr/bin/env python3
"""Seeds a running basic-admin for the load benchmark, through its public API
only: signs a developer up through the sign-in pages (as the CLI's browser
would), takes the OAuth code to the token endpoint, then creates a team, a
project, a schema with one table of five fields and an API key; then signs
in to the project's app as its user, connects that user and stores one item
and a 100-item table for them.

Usage: bench/seed.py BASE_URL   →  prints JSON: {"token", "project_id", "key",
"table", "item", "app_token", "own_table", "own_item"} (`table`: the user's
table path for developers and keys; `item`: one item's path; `own_…`: the
same through the app's own routes, with the user's `app_token`)
"""
import html
import http.cookiejar
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid

BASE = sys.argv[1].rstrip("/")
CLI = "9c3f6704-87e7-4af9-8dd0-36dcb9b5c18c"
CALLBACK = "http://localhost:8080/callback"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


jar = http.cookiejar.CookieJar()
browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)


def fetch(method, path, form=None, body=None, token=None):
    data, headers = None, {}
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    if body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        response = browser.open(request)
    except urllib.error.HTTPError as e:
        response = e
    return response.status, response.headers, response.read().decode()


def hidden(page, name):
    return html.unescape(re.search(f'name="{name}" value="([^"]*)"', page).group(1))


def allow(consent_page, client_id, redirect_uri):
    """Allows access on the consent page and exchanges the code: the access token."""
    status, _, page = fetch("GET", consent_page)
    assert status == 200, page
    form = {"csrf": hidden(page, "csrf"), "request": hidden(page, "request"), "decision": "allow"}
    status, headers, _ = fetch("POST", "/auth/consent", form=form)
    code = urllib.parse.parse_qs(urllib.parse.urlparse(headers["location"]).query)["code"][0]
    status, _, body = fetch("POST", "/auth/token", form={"grant_type": "authorization_code", "client_id": client_id,
                                                         "code": code, "redirect_uri": redirect_uri})
    assert status == 200, body
    return json.loads(body)["access_token"]


query = urllib.parse.urlencode(
    {"client_id": CLI, "redirect_uri": CALLBACK, "response_type": "code", "scope": "profile,admin", "state": "seed"}
)
status, _, page = fetch("GET", f"/auth/signup?{query}")
assert status == 200, page
email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
form = {"csrf": hidden(page, "csrf"), "request": hidden(page, "request"), "email": email,
        "password": "a bench password", "name": "Bench"}
status, headers, page = fetch("POST", "/auth/signup", form=form)
assert status == 303, page
token = allow(headers["location"], CLI, CALLBACK)

slug = f"bench-{uuid.uuid4().hex[:8]}"
status, _, body = fetch("POST", "/team", body={"name": "Bench", "slug": slug}, token=token)
team = json.loads(body)["data"]["id"]
status, _, body = fetch("POST", "/project", body={"name": "Bench", "team_id": team, "slug": slug}, token=token)
project = json.loads(body)["data"]["id"]
fields = {"title": {"type": "string", "indexed": True}, "done": {"type": "boolean"}, "priority": {"type": "number"},
          "notes": {"type": "string"}, "tags": {"type": "json"}}
schema = {"project_id": project, "version": 1, "tables": {"todos": {"type": "collection", "fields": fields}}}
status, _, body = fetch("POST", f"/project/{project}/schema", body={"schema": schema}, token=token)
assert status == 200, body
# A server-side key that may read the project, check keys and keep user data.
roles = "project:read,keys:read,data:read,data:write"
status, _, body = fetch("POST", f"/project/{project}/key", body={"label": "bench", "roles": roles}, token=token)
assert status == 200, body
key = json.loads(body)["key"]["value"]

# The developer also uses the app: sign in to it (already signed in here, so
# straight to consent), exchange the code, report the connection.
APP_CALLBACK = "https://bench.example/callback"
status, _, body = fetch("PATCH", f"/project/{project}/settings", body={"auth": {"redirect_uris": [APP_CALLBACK]}},
                        token=token)
assert status == 200, body
query = urllib.parse.urlencode({"client_id": project, "redirect_uri": APP_CALLBACK, "response_type": "code",
                                "scope": "openid profile", "state": "seed"})
status, headers, page = fetch("GET", f"/auth/authorize?{query}")
assert status == 302, page
app_token = allow(headers["location"], project, APP_CALLBACK)
status, _, body = fetch("POST", f"/project/{project}/user/connect", body={"token": app_token})
assert status == 200, body
did = json.loads(body)["user_did"]
table = f"/project/{project}/user/{urllib.parse.quote(did, safe=':')}/db/todos"
for n in range(100):
    value = {"title": f"todo {n}", "done": n % 2 == 0, "priority": n, "notes": "seeded", "tags": ["bench"]}
    status, _, body = fetch("POST", table, body={"value": value}, token=key)
    assert status == 200, body
    if n == 0:
        item = f"{table}/{json.loads(body)['data']['id']}"
own_table = f"/account/{project}/db/todos"
own_item = f"{own_table}/{item.rsplit('/', 1)[1]}"
print(json.dumps({"token": token, "project_id": project, "key": key, "table": table, "item": item,
                  "app_token": app_token, "own_table": own_table, "own_item": own_item}))
