#!/usr/bin/python3
"""STAND-IN for an S3 bucket (not S3, not MinIO): the few read-only calls rclone's S3 backend makes to
mirror a bucket, served from a folder with Python's standard library, for the end-to-end tests that
boot a host whose boot-time fetch (studyhost:fetch, rclone sync) needs a bucket and no cloud is reachable.

  s3-standin.py --bind ADDR --port PORT ROOT      ROOT/<bucket>/<key...> are the objects
      [--virtual-host SUFFIX]      also virtual-hosted style: Host BUCKET.SUFFIX names the bucket
      [--require-key AKID --require-token TOKEN]
                                   refuse (403) a request not signed with that access key id and session
                                   token (the signature itself is not checked: that is the client's part)

Answers, path-style (or virtual-hosted) and anonymously (unless told otherwise): GET /<bucket>?list-type=2 (ListObjectsV2) and GET /<bucket>
(ListObjects v1), both with prefix, delimiter, max-keys and continuation; GET /<bucket>?location;
HEAD /<bucket>; GET and HEAD /<bucket>/<key> with the MD5 ETag rclone checks. Anything else (writes,
deletes, multipart): 403 AccessDenied. Each request is logged on stderr.
"""
import argparse
import email.utils
import hashlib
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.sax.saxutils import escape

NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def objects(root, bucket):
    """Every object of the bucket, sorted by key: (key, path)."""
    base = os.path.join(root, bucket)
    found = []
    for folder, _, files in os.walk(base):
        for name in files:
            path = os.path.join(folder, name)
            found.append((os.path.relpath(path, base).replace(os.sep, "/"), path))
    return sorted(found)


def etag(path):
    with open(path, "rb") as f:
        return '"%s"' % hashlib.md5(f.read()).hexdigest()


def iso(path):
    import datetime
    t = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Handler(BaseHTTPRequestHandler):
    server_version = "s3-standin"

    def split(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        host = (self.headers.get("Host") or "").split(":")[0]
        suffix = self.server.virtual_host
        if suffix and host.endswith("." + suffix):
            return host[: -len(suffix) - 1], unquote(url.path).lstrip("/"), query
        parts = unquote(url.path).lstrip("/").split("/", 1)
        return parts[0], (parts[1] if len(parts) > 1 else ""), query

    def signed_as_required(self):
        """With --require-key: AWS SigV4's Authorization names the key id, the session token is a header."""
        if not self.server.require_key:
            return True
        auth = self.headers.get("Authorization") or ""
        return f"Credential={self.server.require_key}/" in auth and self.headers.get("X-Amz-Security-Token") == self.server.require_token

    def send(self, code, body=b"", ctype="application/xml", headers=None, head=False):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def error(self, code, name, head=False):
        body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{name}</Code><Message>{name} (s3 stand-in)</Message></Error>'.encode()
        self.send(code, body, head=head)

    def bucket_exists(self, bucket):
        return bucket and os.path.isdir(os.path.join(self.server.root, bucket))

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head=False):
        if not self.signed_as_required():
            return self.error(403, "AccessDenied", head)
        bucket, key, query = self.split()
        if not self.bucket_exists(bucket):
            return self.error(404, "NoSuchBucket", head)
        if not key:
            if "location" in query:
                return self.send(200, f'<?xml version="1.0" encoding="UTF-8"?><LocationConstraint xmlns="{NS}"></LocationConstraint>'.encode(), head=head)
            if head:
                return self.send(200, head=True)
            return self.listing(bucket, query)
        path = os.path.join(self.server.root, bucket, *key.split("/"))
        if ".." in key.split("/") or not os.path.isfile(path):
            return self.error(404, "NoSuchKey", head)
        with open(path, "rb") as f:
            body = f.read()
        headers = {"ETag": etag(path), "Last-Modified": email.utils.formatdate(os.path.getmtime(path), usegmt=True)}
        self.send(200, body, "application/octet-stream", headers, head)

    def listing(self, bucket, query):
        v2 = query.get("list-type") == "2"
        prefix = query.get("prefix", "")
        delimiter = query.get("delimiter", "")
        max_keys = int(query.get("max-keys", "1000") or 1000)
        after = query.get("continuation-token" if v2 else "marker", "") or query.get("start-after", "")
        encode = query.get("encoding-type") == "url"
        enc = (lambda s: quote(s, safe="/")) if encode else (lambda s: s)
        contents, prefixes, truncated, last = [], [], False, ""
        for key, path in objects(self.server.root, bucket):
            if not key.startswith(prefix) or key <= after:
                continue
            rest = key[len(prefix):]
            if delimiter and delimiter in rest:
                common = prefix + rest[: rest.index(delimiter) + len(delimiter)]
                if common in prefixes:
                    continue
                entry = ("prefix", common)
            else:
                entry = ("object", key, path)
            if len(contents) + len(prefixes) >= max_keys:
                truncated = True
                break
            if entry[0] == "prefix":
                prefixes.append(entry[1])
                last = entry[1] + "\uffff"
            else:
                contents.append(entry[1:])
                last = key
        xml = [f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="{NS}"><Name>{escape(bucket)}</Name><Prefix>{escape(enc(prefix))}</Prefix>']
        xml.append(f"<MaxKeys>{max_keys}</MaxKeys><IsTruncated>{'true' if truncated else 'false'}</IsTruncated>")
        if delimiter:
            xml.append(f"<Delimiter>{escape(delimiter)}</Delimiter>")
        if encode:
            xml.append("<EncodingType>url</EncodingType>")
        if v2:
            xml.append(f"<KeyCount>{len(contents) + len(prefixes)}</KeyCount>")
            if truncated:
                xml.append(f"<NextContinuationToken>{escape(last)}</NextContinuationToken>")
        elif truncated:
            xml.append(f"<NextMarker>{escape(enc(last))}</NextMarker>")
        for key, path in contents:
            xml.append(f"<Contents><Key>{escape(enc(key))}</Key><LastModified>{iso(path)}</LastModified><ETag>{escape(etag(path))}</ETag><Size>{os.path.getsize(path)}</Size><StorageClass>STANDARD</StorageClass></Contents>")
        for p in prefixes:
            xml.append(f"<CommonPrefixes><Prefix>{escape(enc(p))}</Prefix></CommonPrefixes>")
        xml.append("</ListBucketResult>")
        self.send(200, "".join(xml).encode())

    def refuse(self):
        self.error(403, "AccessDenied")

    do_PUT = do_POST = do_DELETE = refuse

    def log_message(self, fmt, *args):
        sys.stderr.write("s3-standin %s %s\n" % (self.address_string(), fmt % args))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--virtual-host", default="")
    parser.add_argument("--require-key", default="")
    parser.add_argument("--require-token", default="")
    parser.add_argument("root")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.bind, args.port), Handler)
    server.root = os.path.abspath(args.root)
    server.virtual_host = args.virtual_host
    server.require_key, server.require_token = args.require_key, args.require_token
    server.serve_forever()


if __name__ == "__main__":
    main()
