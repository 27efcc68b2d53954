#!/usr/bin/env python3
"""Seeds a running basic-admin for the load benchmark, through its public API
only: signs a developer up through the sign-in pages (as the CLI's browser
would), takes the OAuth code to the token endpoint, then creates a team, a
project and a schema with one table of five fields.

Usage: bench/seed.py BASE_URL   →  prints JSON: {"token", "project_id"}
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
status, _, page = fetch("GET", headers["location"])
form = {"csrf": hidden(page, "csrf"), "request": hidden(page, "request"), "decision": "allow"}
status, headers, _ = fetch("POST", "/auth/consent", form=form)
code = urllib.parse.parse_qs(urllib.parse.urlparse(headers["location"]).query)["code"][0]
status, _, body = fetch("POST", "/auth/token", form={"grant_type": "authorization_code", "client_id": CLI,
                                                     "code": code, "redirect_uri": CALLBACK})
token = json.loads(body)["access_token"]

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
# A server-side key that may read the project and check keys.
status, _, body = fetch("POST", f"/project/{project}/key", body={"label": "bench", "roles": "project:read,keys:read"},
                        token=token)
assert status == 200, body
key = json.loads(body)["key"]["value"]
print(json.dumps({"token": token, "project_id": project, "key": key}))
