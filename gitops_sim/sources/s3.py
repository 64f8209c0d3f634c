"""S3 for Bucket sources: a client (what minio-go does for source-controller) and a server for the
buckets a simulation hosts.

`S3Client` speaks the S3 REST API path-style (`/<bucket>/<key>`): HeadBucket, ListObjectsV2
(paged), GetObject, PutObject and CreateBucket, signed with AWS Signature Version 4 when keys
are given (anonymous otherwise). It is tested against a real S3 implementation (moto's server)
as well as against `S3Server`.

`S3Server` keeps objects in memory and serves the same operations on 127.0.0.1, checking SigV4
signatures against the bucket's keys when it has them; a bucket can be made `unavailable` (503).
`Endpoints.route` says where an endpoint (`minio.example.com:9000`) is reached: hosted endpoints
go to the server (`unreachable` ones to a port that refuses), endpoints on 127.0.0.1 directly,
others do not resolve.

Callers: the Bucket controller and the scenario runner. Never reads the clock: a request's
signing time is passed in (the controller's clock).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from gitops_sim.sources import loopback

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


class S3Error(Exception):
    def __init__(self, message: str, *, status: int = 0, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


# -- Signature Version 4 --------------------------------------------------------------------


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signature(
    secret_key: str,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    signed: list[str],
    payload_hash: str,
    amz_date: str,
    region: str,
) -> str:
    """The SigV4 signature of a request (service s3). `headers` by lower-case name."""
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in sorted(parse_qsl(query, keep_blank_values=True))
    )
    canonical = "\n".join(
        [
            method,
            quote(path, safe="/-_.~"),
            canonical_query,
            "".join(f"{h}:{' '.join(headers[h].split())}\n" for h in signed),
            ";".join(signed),
            payload_hash,
        ]
    )
    scope = f"{amz_date[:8]}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), amz_date[:8]), region), "s3"), "aws4_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Keys:
    access_key: str
    secret_key: str


# -- client ---------------------------------------------------------------------------------


class S3Client:
    def __init__(
        self,
        route: Callable[[str], tuple[str, str, bool] | None],
        endpoint: str,
        *,
        secure: bool = True,
        keys: Keys | None = None,
        region: str = "us-east-1",
        amz_date: str = "20250101T000000Z",
        timeout_s: float = 60.0,
    ) -> None:
        """`route(endpoint)` → (address, Host header, hosted) or None (see `Endpoints.route`);
        `amz_date` is the signing time (the simulation's clock, `YYYYMMDDTHHMMSSZ`)."""
        self._route = route
        self.endpoint = endpoint
        self._secure = secure
        self._keys = keys
        self._region = region
        self._amz_date = amz_date
        self._timeout_s = timeout_s

    def bucket_exists(self, bucket: str) -> bool:
        status, _, _ = self._request("HEAD", f"/{bucket}", ok=(200, 404))
        return status == 200

    def list_objects(self, bucket: str, prefix: str = "") -> dict[str, str]:
        """Every key under `prefix` and its ETag (quotes removed, as minio-go gives them)."""
        out: dict[str, str] = {}
        token = ""
        while True:
            query = {"list-type": "2", "prefix": prefix, **({"continuation-token": token} if token else {})}
            _, _, body = self._request("GET", f"/{bucket}", query=query)
            root = ET.fromstring(body)
            for item in root.iter(f"{NS}Contents"):
                key = item.findtext(f"{NS}Key") or ""
                out[key] = (item.findtext(f"{NS}ETag") or "").strip('"')
            if (root.findtext(f"{NS}IsTruncated") or "false") != "true":
                return out
            token = root.findtext(f"{NS}NextContinuationToken") or ""

    def get_object(self, bucket: str, key: str) -> bytes:
        return self._request("GET", f"/{bucket}/{key}")[2]

    def put_object(self, bucket: str, key: str, data: bytes) -> str:
        _, headers, _ = self._request("PUT", f"/{bucket}/{key}", body=data)
        return headers.get("etag", "").strip('"')

    def create_bucket(self, bucket: str) -> None:
        self._request("PUT", f"/{bucket}", ok=(200, 409))

    def _request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: bytes = b"",
        ok: tuple[int, ...] = (200,),
    ) -> tuple[int, dict[str, str], bytes]:
        scheme = "https" if self._secure else "http"
        query_string = urlencode(query or {})
        url = f"{scheme}://{self.endpoint}{path}" + (f"?{query_string}" if query_string else "")
        target = self._route(self.endpoint)
        if target is None:
            raise S3Error(
                f'{method.title()} "{url}": dial tcp: lookup {self.endpoint.split(":")[0]}: no such host'
            )
        address, host_header, hosted = target
        payload_hash = hashlib.sha256(body).hexdigest()
        headers = {"host": host_header, "x-amz-content-sha256": payload_hash, "x-amz-date": self._amz_date}
        if self._keys is not None:
            signed = sorted(headers)
            sig = signature(
                self._keys.secret_key,
                method,
                path,
                query_string,
                headers,
                signed,
                payload_hash,
                self._amz_date,
                self._region,
            )
            headers["authorization"] = (
                f"AWS4-HMAC-SHA256 Credential={self._keys.access_key}/{self._amz_date[:8]}/{self._region}/s3/"
                f"aws4_request, SignedHeaders={';'.join(signed)}, Signature={sig}"
            )
        secure = self._secure and not hosted
        conn = (http.client.HTTPSConnection if secure else loopback.HTTPConnection)(
            address, timeout=self._timeout_s
        )
        try:
            conn.request(
                method,
                quote(path) + (f"?{query_string}" if query_string else ""),
                body=body or None,
                headers=headers,
            )
            response = conn.getresponse()
            data = response.read()
        except TimeoutError as exc:
            raise S3Error(f'{method.title()} "{url}": context deadline exceeded') from exc
        except (ConnectionError, OSError, http.client.HTTPException) as exc:
            what = "connection refused" if isinstance(exc, ConnectionRefusedError) else str(exc)
            raise S3Error(f'{method.title()} "{url}": dial tcp {self.endpoint}: connect: {what}') from exc
        finally:
            conn.close()
        if response.status not in ok:
            # A HEAD has no body: minio-go names the error from the status alone.
            code, message = {403: ("AccessDenied", "Access Denied.")}.get(
                response.status, ("", response.reason)
            )
            with contextlib.suppress(ET.ParseError):
                root = ET.fromstring(data) if data else None
                if root is not None:
                    code = root.findtext("Code") or ""
                    message = root.findtext("Message") or message
            raise S3Error(message, status=response.status, code=code)
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data


# -- server ---------------------------------------------------------------------------------


@dataclass(slots=True)
class HostedBucket:
    objects: dict[str, bytes] = field(default_factory=dict)
    keys: Keys | None = None
    fault: str | None = None  # "unavailable"


class Endpoints(loopback.Hosting):
    """The S3 endpoints a simulation hosts, their buckets, and where any endpoint is reached."""

    def __init__(self) -> None:
        self.buckets: dict[str, HostedBucket] = {}  # "minio.example.com:9000/apps" -> bucket
        self.hosted: set[str] = set()
        self.unreachable: set[str] = set()
        super().__init__()

    def _start(self) -> loopback.Server:
        return loopback.Server(_Handler, "gitops-sim-s3", endpoints=self)

    def bucket(self, endpoint: str, name: str) -> HostedBucket:
        self.hosted.add(endpoint)
        return self.buckets.setdefault(f"{endpoint}/{name}", HostedBucket())

    def put(self, endpoint: str, bucket: str, key: str, data: bytes | None) -> None:
        objects = self.bucket(endpoint, bucket).objects
        if data is None:
            objects.pop(key, None)
        else:
            objects[key] = data

    def set_fault(self, target: str, fault: str | None) -> None:
        """Fault `target` (`endpoint` or `endpoint/bucket`): `unreachable` refuses connections
        to the endpoint, `unavailable` makes the bucket answer 503; None heals both."""
        endpoint, _, name = target.partition("/")
        if fault == "unreachable":
            self.unreachable.add(endpoint)
        elif fault == "unavailable":
            self.bucket(endpoint, name).fault = "unavailable"
        else:
            self.unreachable.discard(endpoint)
            if name:
                self.bucket(endpoint, name).fault = None

    def route(self, endpoint: str) -> tuple[str, str, bool] | None:
        if endpoint in self.unreachable:
            return self.refusing(), endpoint, True
        if endpoint in self.hosted:
            return self.serving(), endpoint, True
        if loopback.is_loopback(endpoint):
            return endpoint, endpoint, False
        return None


def _etag(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _xml_error(code: str, message: str) -> bytes:
    head = '<?xml version="1.0" encoding="UTF-8"?>'
    return f"{head}<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()


class _Handler(loopback.Handler):
    endpoints: Endpoints

    def _send(
        self, status: int, body: bytes = b"", content_type: str = "application/xml", **headers: str
    ) -> None:
        self.send(status, body, content_type, **headers)

    def _target(self) -> tuple[str, str, str, HostedBucket | None] | None:
        parts = urlsplit(self.path)
        bucket_name, _, key = parts.path.lstrip("/").partition("/")
        endpoint = self.headers.get("Host", "")
        bucket = self.endpoints.buckets.get(f"{endpoint}/{bucket_name}")
        if bucket is not None and bucket.fault == "unavailable":
            self._send(503, _xml_error("ServiceUnavailable", "Please reduce your request rate."))
            return None
        if bucket is not None and bucket.keys is not None and not self._authorized(bucket.keys):
            self._send(
                403,
                _xml_error(
                    "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you provided. "
                    "Check your key and signing method.",
                ),
            )
            return None
        return endpoint, bucket_name, key, bucket

    def _authorized(self, keys: Keys) -> bool:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return False
        fields = dict(
            part.strip().split("=", 1) for part in auth.removeprefix("AWS4-HMAC-SHA256 ").split(",")
        )
        credential = fields.get("Credential", "").split("/")
        if credential[0] != keys.access_key or len(credential) < 3:
            return False
        signed = fields.get("SignedHeaders", "").split(";")
        headers = {h: self.headers.get(h, "") for h in signed}
        parts = urlsplit(self.path)
        expected = signature(
            keys.secret_key,
            self.command,
            unquote(parts.path),
            parts.query,
            headers,
            signed,
            self.headers.get("x-amz-content-sha256", ""),
            self.headers.get("x-amz-date", ""),
            credential[2],
        )
        return hmac.compare_digest(expected, fields.get("Signature", ""))

    def do_HEAD(self) -> None:
        target = self._target()
        if target is None:
            return
        _, _, key, bucket = target
        if bucket is None or (key and key not in bucket.objects):
            self._send(404)
            return
        self._send(200)

    def do_GET(self) -> None:
        target = self._target()
        if target is None:
            return
        _, name, key, bucket = target
        if bucket is None:
            self._send(404, _xml_error("NoSuchBucket", "The specified bucket does not exist"))
            return
        if key:
            data = bucket.objects.get(key)
            if data is None:
                self._send(404, _xml_error("NoSuchKey", "The specified key does not exist."))
                return
            self._send(200, data, "application/octet-stream", ETag=f'"{_etag(data)}"')
            return
        query = dict(parse_qsl(urlsplit(self.path).query))
        prefix = query.get("prefix", "")
        keys = sorted(k for k in bucket.objects if k.startswith(prefix))
        contents = "".join(
            f"<Contents><Key>{k}</Key><ETag>&quot;{_etag(bucket.objects[k])}&quot;</ETag>"
            f"<Size>{len(bucket.objects[k])}</Size></Contents>"
            for k in keys
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>{name}</Name>'
            f"<Prefix>{prefix}</Prefix><KeyCount>{len(keys)}</KeyCount><IsTruncated>false</IsTruncated>"
            f"{contents}</ListBucketResult>"
        )
        self._send(200, body.encode())

    def do_PUT(self) -> None:
        target = self._target()
        if target is None:
            return
        endpoint, name, key, _ = target
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        bucket = self.endpoints.bucket(endpoint, name)
        if key:
            bucket.objects[key] = data
            self._send(200, ETag=f'"{_etag(data)}"')
        else:
            self._send(200)
