#!/usr/bin/env python3
"""Drives a real CRI runtime (containerd's CRI plugin) for the container tests, with grpcio and
cri_test.proto (the CRI API's field numbers, only what the tests use).

  cri_driver.py SOCKET run-pod NAME NAMESPACE UID IMAGE   a host-network pod and one container
                                                          `app` running sleep; prints
                                                          `pod=<sandbox id> container=<id>`
  cri_driver.py SOCKET remove-pods NAMESPACE              stops and removes every pod of NAMESPACE

Every failure is one line on stderr and exit status 1. Every call has a timeout.
"""
import atexit
import os
import shutil
import sys
import tempfile

import grpc
from grpc_tools import protoc

TIMEOUT = 60


def load_api():
    here = os.path.dirname(os.path.abspath(__file__))
    out = tempfile.mkdtemp(prefix="nstrace-cri-proto-")
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    rc = protoc.main(["protoc", f"-I{here}", f"-I{include}", f"--python_out={out}", f"--grpc_python_out={out}",
                      os.path.join(here, "cri_test.proto")])
    if rc != 0:
        sys.exit("cri_driver.py: protoc failed on cri_test.proto")
    sys.path.insert(0, out)
    import cri_test_pb2
    import cri_test_pb2_grpc
    return cri_test_pb2, cri_test_pb2_grpc


def run_pod(api, stub, name, namespace, uid, image):
    pb = api
    sandbox_config = pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, namespace=namespace, uid=uid, attempt=0),
        # no hostname: a host-network pod has no UTS namespace of its own
        labels={"io.kubernetes.pod.name": name, "io.kubernetes.pod.namespace": namespace},
        # host network: no CNI needed
        linux=pb.LinuxPodSandboxConfig(security_context=pb.LinuxSandboxSecurityContext(
            namespace_options=pb.NamespaceOption(network=pb.NODE))))
    pod = stub.RunPodSandbox(pb.RunPodSandboxRequest(config=sandbox_config), timeout=TIMEOUT).pod_sandbox_id
    try:
        container = stub.CreateContainer(pb.CreateContainerRequest(
            pod_sandbox_id=pod, sandbox_config=sandbox_config,
            config=pb.ContainerConfig(metadata=pb.ContainerMetadata(name="app"), image=pb.ImageSpec(image=image),
                                      command=["/bin/sleep", "86400"])), timeout=TIMEOUT).container_id
        stub.StartContainer(pb.StartContainerRequest(container_id=container), timeout=TIMEOUT)
    except grpc.RpcError:
        remove(api, stub, pod)
        raise
    print(f"pod={pod} container={container}", flush=True)


def remove(api, stub, pod):
    stub.StopPodSandbox(api.StopPodSandboxRequest(pod_sandbox_id=pod), timeout=TIMEOUT)
    stub.RemovePodSandbox(api.RemovePodSandboxRequest(pod_sandbox_id=pod), timeout=TIMEOUT)


def remove_pods(api, stub, namespace):
    for item in stub.ListPodSandbox(api.ListPodSandboxRequest(), timeout=TIMEOUT).items:
        if item.metadata.namespace == namespace:
            remove(api, stub, item.id)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    socket, command = argv[1], argv[2]
    api, api_grpc = load_api()
    with grpc.insecure_channel(f"unix://{socket}") as channel:
        stub = api_grpc.RuntimeServiceStub(channel)
        try:
            if command == "run-pod" and len(argv) == 7:
                run_pod(api, stub, *argv[3:7])
            elif command == "remove-pods" and len(argv) == 4:
                remove_pods(api, stub, argv[3])
            else:
                sys.exit(__doc__)
        except grpc.RpcError as e:
            sys.exit(f"cri_driver.py {command}: {e.code().name}: {e.details()}")


if __name__ == "__main__":
    main(sys.argv)
