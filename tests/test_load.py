"""Load: gunicorn, as in production, under concurrent requests for a bounded time.

The server (``conftest.served_catalogue``, three workers) reads a copy of the suite's test
database, which holds the real catalogue. Every request must succeed: no error, no 500. Speed is
measured by ``make bench``, not here.
"""

from __future__ import annotations

import collections
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

LOAD_SECONDS = 4
CLIENTS = 8

URLS = (
    "/",
    "/products/",
    "/products/?category=gene-therapy&status=authorised",
    "/products/?q=kymria",
    "/products/kymriah/",
    "/products/export.csv?category=gene-therapy",
    "/api/v1/products/",
    "/api/v1/products/?category=gene-therapy&therapeutic_area=multiple-myeloma",
    "/api/v1/products/?q=zolgensma",
    "/api/v1/products/luxturna/",
    "/healthz",
)


@pytest.fixture
def server(served_catalogue):
    return served_catalogue


def test_concurrent_requests_all_succeed(server):
    deadline = time.monotonic() + LOAD_SECONDS

    def client(number: int) -> list[tuple[str, int]]:
        answers = []
        index = number
        while time.monotonic() < deadline:
            path = URLS[index % len(URLS)]
            status, _headers, body = server.get(path, timeout=30)
            answers.append((path, status))
            assert body, path
            index += 1
        return answers

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = [answer for result in pool.map(client, range(CLIENTS)) for answer in result]

    statuses = collections.Counter(status for _path, status in answers)
    failures = [(path, status) for path, status in answers if status != 200]
    assert not failures, f"{statuses}; first failures: {failures[:5]}\n{server.output()[-3000:]}"
    assert {path for path, _status in answers} == set(URLS)
    assert len(answers) >= len(URLS)
    assert "Traceback" not in server.output()


RAW_REQUESTS = (
    # Invalid UTF-8, NUL bytes and SQL as raw bytes on the wire, not only percent-escaped.
    b"GET /products/?q=%ff%fe%00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /products/?q=\xff\xfe HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /api/v1/products/?q=%00%00&page=-1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /api/v1/products/?category=%27%20OR%201=1-- HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /products/export.csv?authorised_from=%c0%af HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /products/%ff%00/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /api/v1/products/%00/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /products/?page=99999999999999999999999 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    # Long, yet under gunicorn's limit of the request line (4094 bytes), so Django sees it.
    b"GET /products/?q=" + b"%27a" * 900 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
)


@pytest.mark.parametrize("request_bytes", RAW_REQUESTS, ids=lambda raw: raw[:40].decode("latin-1"))
def test_hostile_raw_requests_are_answered_without_a_server_error(server, request_bytes):
    host, port = server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection_:
        connection_.sendall(request_bytes)
        response = b""
        while chunk := connection_.recv(65536):
            response += chunk
    status_line = response.split(b"\r\n", 1)[0]
    status = int(status_line.split()[1])
    assert status in (200, 400, 404), status_line
    assert b"Traceback" not in response
