#!/usr/bin/env python3
"""A real OTLP/HTTP log receiver for the fleet tests, on loopback only.

Decodes every POST /v1/logs with the official opentelemetry-proto package and appends one JSON
line per log record to OUT: {"resource": {...}, "scope": ..., "body": ..., "attributes": {...},
"time_unix_nano": ...}; attribute values are converted to JSON (string, int, double, bool,
lists and key-value lists as objects). Prints "port=N" once listening.

  otlp_receiver.py OUT [--mode ok|slow|error|garbage] [--delay SECONDS]

  ok       200 with an empty ExportLogsServiceResponse
  slow     the same after --delay seconds
  error    500 with a plain-text body (the records are still decoded and written, marked)
  garbage  200 with a Content-Type of protobuf and a body that is not one
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.common.v1 import common_pb2


def any_value(v: common_pb2.AnyValue):
    kind = v.WhichOneof("value")
    if kind == "string_value":
        return v.string_value
    if kind == "int_value":
        return v.int_value
    if kind == "double_value":
        return v.double_value
    if kind == "bool_value":
        return v.bool_value
    if kind == "bytes_value":
        return v.bytes_value.hex()
    if kind == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in v.kvlist_value.values}
    return None


def attributes(kvs):
    return {kv.key: any_value(kv.value) for kv in kvs}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mode", default="ok", choices=["ok", "slow", "error", "garbage"])
    ap.add_argument("--delay", type=float, default=0)
    args = ap.parse_args()
    lock = threading.Lock()
    out = open(args.out, "a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            request = logs_service_pb2.ExportLogsServiceRequest()
            request.ParseFromString(body)
            with lock:
                for rl in request.resource_logs:
                    resource = attributes(rl.resource.attributes)
                    for sl in rl.scope_logs:
                        for r in sl.log_records:
                            out.write(json.dumps({
                                "path": self.path,
                                "content_type": self.headers.get("Content-Type"),
                                "mode": args.mode,
                                "resource": resource,
                                "scope": sl.scope.name,
                                "body": any_value(r.body),
                                "severity": r.severity_text,
                                "time_unix_nano": r.time_unix_nano,
                                "attributes": attributes(r.attributes),
                            }) + "\n")
            if args.mode == "slow":
                time.sleep(args.delay)
            if args.mode == "error":
                reply, status, ctype = b"receiver says no", 500, "text/plain"
            elif args.mode == "garbage":
                reply, status, ctype = b"\xff\xfe this is not protobuf \x00\x01", 200, "application/x-protobuf"
            else:
                reply = logs_service_pb2.ExportLogsServiceResponse().SerializeToString()
                status, ctype = 200, "application/x-protobuf"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"port={server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
