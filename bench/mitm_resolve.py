"""
mitmdump addon for the Recondo benchmark: sends connections for the intercepted host (BENCH_HOST,
default api.anthropic.com) to BENCH_UPSTREAM ("127.0.0.1:PORT"), as RECONDO_UPSTREAM_OVERRIDE does for
Recondo. It runs once per upstream connection (server_connect), never per request, so it does not slow
mitmproxy's request path.
"""
import os

HOST = os.environ.get("BENCH_HOST", "api.anthropic.com")
_host, _port = os.environ["BENCH_UPSTREAM"].rsplit(":", 1)
TARGET = (_host, int(_port))


def server_connect(data):
    address = data.server.address
    if address and address[0] == HOST:
        data.server.address = TARGET
