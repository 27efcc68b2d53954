#!/usr/bin/env python3
"""Seeds a running PocketBase for the load benchmark the way bench/seed.py
seeds basic-admin: a collection with the same five fields, 100 records, and
a superuser token.

Usage: bench/seed-pocketbase.py BASE_URL EMAIL PASSWORD  →  prints JSON:
{"token", "table", "item"} (`table`: the records path; `item`: one record's path)
"""
import json
import sys
import urllib.request

BASE, EMAIL, PASSWORD = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]


def call(method, path, body=None, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = token
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read().decode())


token = call("POST", "/api/collections/_superusers/auth-with-password",
             {"identity": EMAIL, "password": PASSWORD})["token"]
fields = [{"name": "title", "type": "text", "required": True}, {"name": "done", "type": "bool"},
          {"name": "priority", "type": "number"}, {"name": "notes", "type": "text"}, {"name": "tags", "type": "json"}]
call("POST", "/api/collections", {"name": "todos", "type": "base", "fields": fields}, token)
table = "/api/collections/todos/records"
for n in range(100):
    record = call("POST", table, {"title": f"todo {n}", "done": n % 2 == 0, "priority": n, "notes": "seeded",
                                  "tags": ["bench"]}, token)
    if n == 0:
        item = f"{table}/{record['id']}"
print(json.dumps({"token": token, "table": table, "item": item}))
