#!/usr/bin/python3
"""STAND-IN for EC2's instance metadata service (not IMDS): the IMDSv2 calls an SDK makes to find an
instance role's credentials, for the test of the AWS host-files fetch (src/clouds/hostFilesBundle.ts).

  imds-standin.py --bind ADDR --port PORT --role NAME --key AKID --secret SECRET --token TOKEN

IMDSv2 only, as studyhost's instances are set up (httpTokens: required): PUT /latest/api/token gives a
session token; every GET without it is refused with 401. GET /latest/meta-data/iam/security-credentials/
names the role, .../NAME gives the credentials. Each request is logged on stderr as
"imds-standin METHOD PATH token=yes|no".
"""
import argparse
import json
import secrets
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    server_version = "imds-standin"

    def reply(self, code, body=b"", headers=None):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def note(self, has_token):
        sys.stderr.write(f"imds-standin {self.command} {self.path} token={'yes' if has_token else 'no'}\n")
        sys.stderr.flush()

    def do_PUT(self):
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        self.note(False)
        if self.path != "/latest/api/token" or not ttl:
            return self.reply(400)
        token = secrets.token_urlsafe(24)
        self.server.tokens.add(token)
        self.reply(200, token.encode(), {"X-Aws-Ec2-Metadata-Token-Ttl-Seconds": ttl})

    def do_GET(self):
        ok = self.headers.get("X-aws-ec2-metadata-token") in self.server.tokens
        self.note(ok)
        if not ok:
            return self.reply(401)
        base = "/latest/meta-data/iam/security-credentials/"
        a = self.server.args
        if self.path == base:
            return self.reply(200, a.role.encode())
        if self.path == base + a.role:
            creds = {
                "Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": a.key, "SecretAccessKey": a.secret, "Token": a.token,
                "LastUpdated": "2026-01-01T00:00:00Z", "Expiration": "2099-01-01T00:00:00Z",
            }
            return self.reply(200, json.dumps(creds).encode())
        self.reply(404)

    def log_message(self, fmt, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--bind", "--port", "--role", "--key", "--secret", "--token"):
        parser.add_argument(name, required=name != "--bind", default="127.0.0.1" if name == "--bind" else None)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.bind, int(args.port)), Handler)
    server.args, server.tokens = args, set()
    server.serve_forever()


if __name__ == "__main__":
    main()
