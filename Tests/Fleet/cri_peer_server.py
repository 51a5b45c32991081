#!/usr/bin/env python3
"""A gRPC server (grpcio) on a unix socket that answers the two CRI calls nstrace makes the
way no runtime installed here does, for the CRI client's tests:

  cri_peer_server.py SOCKET v1alpha2   serves ListPodSandbox/ListContainers only as
                                       runtime.v1alpha2 (runtime.v1: UNIMPLEMENTED, as CRI-O
                                       before 1.20): one pod `old-0` in `legacy`
  cri_peer_server.py SOCKET garbage    runtime.v1 answers with bytes that are no protobuf

Prints `ready` once listening; runs until killed.
"""
import signal
import sys
import time
from concurrent import futures

import grpc

from cri_driver import load_api

SANDBOX = "ab" * 32
CONTAINER = "cd" * 32


def main(socket, mode):
    api, _ = load_api()
    pods = api.ListPodSandboxResponse(items=[api.PodSandbox(
        id=SANDBOX, metadata=api.PodSandboxMetadata(name="old-0", namespace="legacy", uid="1234-abcd"))]).SerializeToString()
    containers = api.ListContainersResponse(containers=[api.Container(
        id=CONTAINER, pod_sandbox_id=SANDBOX, metadata=api.ContainerMetadata(name="app"))]).SerializeToString()
    answers = {
        "v1alpha2": {"/runtime.v1alpha2.RuntimeService/ListPodSandbox": pods,
                     "/runtime.v1alpha2.RuntimeService/ListContainers": containers},
        # a length (0x7f) past the end of the message
        "garbage": {"/runtime.v1.RuntimeService/ListPodSandbox": b"\x0a\x7f\x0a\x03abc",
                    "/runtime.v1.RuntimeService/ListContainers": b""},
    }[mode]

    class Handler(grpc.GenericRpcHandler):
        def service(self, details):
            answer = answers.get(details.method)
            if answer is None:
                return None   # grpc answers UNIMPLEMENTED
            # no (de)serializers: raw bytes in and out
            return grpc.unary_unary_rpc_method_handler(lambda request, context: answer)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=[Handler()])
    server.add_insecure_port(f"unix:{socket}")
    server.start()
    # SIGTERM (the test's tearDown) exits through atexit: the compiled proto's directory goes too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    while True:
        time.sleep(60)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in ("v1alpha2", "garbage"):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
