#!/usr/bin/env python3
"""Writes the published Basic Admin API description (an OpenAPI 3.0 file),
without its prose (descriptions, summaries, examples), to
crates/server/tests/fixtures/published-openapi.json: contract fuzzing runs
schemathesis against it as well as against our own document.

Usage: scripts/vendor-published-openapi.py PATH/TO/basic-admin-openapi.json
"""
import json
import pathlib
import sys

PROSE = {"description", "summary", "example", "examples", "externalDocs"}


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in PROSE}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def main():
    spec = json.loads(pathlib.Path(sys.argv[1]).read_text())
    spec.pop("servers", None)
    out = strip(spec)
    target = pathlib.Path(__file__).resolve().parent.parent / "crates/server/tests/fixtures/published-openapi.json"
    target.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(out['paths'])} paths written to {target}")


if __name__ == "__main__":
    main()
