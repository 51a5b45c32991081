#!/usr/bin/env python3
"""Checks deploy/ with what is available here (no cluster, no image build):

- deploy/kubernetes/daemonset.yaml parses (every document), has a DaemonSet with hostPID, no
  privileged mode, capabilities dropped to ALL plus a list, read-only mounts of every hostPath,
  resource limits, and the OTLP endpoint from the ConfigMap it defines;
- every hostPath and every added capability appears in README.md's fleet section (as `PATH`
  and `CAP_NAME`);
- deploy/Containerfile has its stages, and every path it COPYs from the repository exists.

  check_manifests.py REPO_ROOT        exit 0, or one line per problem and exit 1
"""
import os
import re
import sys

import yaml


def main(root):
    problems = []
    with open(os.path.join(root, "deploy/kubernetes/daemonset.yaml")) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    kinds = {d.get("kind") for d in docs}
    for kind in ("Namespace", "ConfigMap", "DaemonSet"):
        if kind not in kinds:
            problems.append(f"daemonset.yaml: no {kind}")
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d.get("kind") == "ConfigMap"}
    hostpaths, capabilities = [], []
    for ds in (d for d in docs if d.get("kind") == "DaemonSet"):
        pod = ds["spec"]["template"]["spec"]
        if pod.get("hostPID") is not True:
            problems.append("DaemonSet: hostPID is not true")
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for c in pod["containers"]:
            sc = c.get("securityContext", {})
            if sc.get("privileged"):
                problems.append(f"container {c['name']}: privileged")
            caps = sc.get("capabilities", {})
            if caps.get("drop") != ["ALL"]:
                problems.append(f"container {c['name']}: capabilities are not dropped to ALL first")
            capabilities += caps.get("add", [])
            limits = c.get("resources", {}).get("limits", {})
            if not limits.get("cpu") or not limits.get("memory"):
                problems.append(f"container {c['name']}: no cpu and memory limits")
            for m in c.get("volumeMounts", []):
                v = volumes.get(m["name"])
                if v is None:
                    problems.append(f"mount {m['name']}: no such volume")
                    continue
                if "hostPath" in v:
                    hostpaths.append(v["hostPath"]["path"])
                    if m.get("readOnly") is not True:
                        problems.append(f"hostPath {v['hostPath']['path']} is not mounted read-only")
            refs = [e["valueFrom"]["configMapKeyRef"] for e in c.get("env", [])
                    if "configMapKeyRef" in e.get("valueFrom", {})]
            if not any(r["name"] in configmaps and r["key"] in configmaps[r["name"]] for r in refs):
                problems.append(f"container {c['name']}: no env from the ConfigMap's keys")
            if not any("--otlp" in a for a in c.get("args", [])):
                problems.append(f"container {c['name']}: no --otlp argument")

    with open(os.path.join(root, "README.md")) as f:
        readme = f.read()
    m = re.search(r"^## Fleet[^\n]*\n.*?(?=^## |\Z)", readme, re.S | re.M)
    if not m:
        problems.append("README.md: no '## Fleet' section")
        listed = set()
    else:
        prose = re.sub(r"```.*?```", "", m.group(0), flags=re.S)   # code blocks are not lists
        listed = set(re.findall(r"`([^`]+)`", prose))
    for path in hostpaths:
        if path not in listed:
            problems.append(f"hostPath {path} is not listed in README.md's fleet section")
    for cap in capabilities:
        if "CAP_" + cap not in listed:
            problems.append(f"capability CAP_{cap} is not listed in README.md's fleet section")
    if not hostpaths or not capabilities:
        problems.append("daemonset.yaml names no hostPath or no capability")

    with open(os.path.join(root, "deploy/Containerfile")) as f:
        lines = [l.strip() for l in f if l.strip() and not l.strip().startswith("#")]
    if sum(1 for l in lines if l.startswith("FROM ")) < 2:
        problems.append("Containerfile: not a build stage and a runtime stage")
    if not any(l.startswith("ENTRYPOINT ") for l in lines):
        problems.append("Containerfile: no ENTRYPOINT")
    for l in lines:
        if l.startswith("COPY ") and "--from=" not in l:
            for src in l.split()[1:-1]:
                if not os.path.exists(os.path.join(root, src)):
                    problems.append(f"Containerfile: COPY {src}: not in the repository")

    for p in problems:
        print(p)
    print(f"checked {len(hostpaths)} hostPaths, {len(capabilities)} capabilities", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
