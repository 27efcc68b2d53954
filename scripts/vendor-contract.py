#!/usr/bin/env python3
"""Writes the structure of the Basic Admin API contract (an OpenAPI 3.0 file)
to crates/server/tests/fixtures/contract.json: per operation its path,
method, security, parameters, required request fields, status codes and
response field names (and which are strings). No prose is kept.

Usage: scripts/vendor-contract.py PATH/TO/basic-admin-openapi.json
"""
import json
import pathlib
import sys

METHODS = ["get", "post", "put", "patch", "delete"]


def walk(schema, keep, prefix=""):
    """JSON-pointer-like names of the declared properties that `keep` accepts, depth first."""
    out = []
    if not isinstance(schema, dict):
        return out
    for key in ("oneOf", "anyOf", "allOf"):
        for option in schema.get(key, []):
            out += walk(option, keep, prefix)
    if schema.get("type") == "array" or "items" in schema:
        out += walk(schema.get("items", {}), keep, prefix + "[]/" if prefix else "[]/")
    for name, sub in (schema.get("properties") or {}).items():
        if keep(sub):
            out.append(prefix + name)
        out += walk(sub, keep, prefix + name + "/")
    return sorted(set(out))


def fields(schema):
    """Every declared property."""
    return walk(schema, lambda sub: True)


def string_fields(schema):
    """The properties typed string: a client may rely on them never being null."""
    return walk(schema, lambda sub: isinstance(sub, dict) and sub.get("type") == "string" and not sub.get("nullable"))


def operation(path, method, op):
    body = op.get("requestBody") or {}
    content = body.get("content") or {}
    schema = next(iter(content.values()), {}).get("schema", {}) if content else {}
    responses = {}
    for status, response in sorted(op.get("responses", {}).items()):
        rcontent = response.get("content") or {}
        rschema = next(iter(rcontent.values()), {}).get("schema", {}) if rcontent else {}
        responses[status] = {
            "content_types": sorted(rcontent),
            "fields": fields(rschema),
            "string_fields": string_fields(rschema),
        }
    return {
        "method": method,
        "path": path,
        "tags": op.get("tags", []),
        "deprecated": bool(op.get("deprecated", False)),
        "security": sorted({name for req in op.get("security", []) for name in req}),
        "parameters": [
            {"name": p["name"], "in": p["in"], "required": bool(p.get("required", False))}
            for p in op.get("parameters", [])
        ],
        "request": None
        if not content
        else {
            "required": bool(body.get("required", False)),
            "content_types": sorted(content),
            "required_fields": sorted(schema.get("required", [])),
            "fields": fields(schema),
        },
        "responses": responses,
    }


def main():
    spec = json.loads(pathlib.Path(sys.argv[1]).read_text())
    ops = [
        operation(path, method, item[method])
        for path, item in sorted(spec["paths"].items())
        for method in METHODS
        if method in item
    ]
    out = {"openapi": spec["openapi"], "version": spec["info"]["version"], "operations": ops}
    target = pathlib.Path(__file__).resolve().parent.parent / "crates/server/tests/fixtures/contract.json"
    target.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(ops)} operations written to {target}")


if __name__ == "__main__":
    main()
