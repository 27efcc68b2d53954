#!/usr/bin/env python3
"""A stand-in for an OpenAI-compatible provider, for scripts/contract-fuzz.sh:
answers every chat completion with one valid schema suggestion, so that
`schema/generate` is tested end to end without a real provider.

Usage: scripts/fake-ai.py PORT
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SUGGESTION = {
    "project_id": "suggested",
    "version": 1,
    "tables": {"notes": {"type": "collection", "fields": {"text": {"type": "string"}}}},
}


class Provider(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        reply = {"choices": [{"message": {"role": "assistant", "content": json.dumps(SUGGESTION)}}]}
        body = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Provider).serve_forever()
