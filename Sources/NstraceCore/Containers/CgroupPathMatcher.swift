/// Tells which container a cgroup belongs to from the cgroup's path alone.
///
/// ## Input
/// The path *relative to the cgroup hierarchy's root*, as the kernel prints it in
/// /proc/PID/cgroup (`0::/docker/<id>`, `4:memory:/docker/<id>`) and as `CgroupResolver`
/// returns it: `/docker/<id>`, never `/sys/fs/cgroup/unified/docker/<id>`.
/// A mount-point prefix is deliberately *not* stripped: `/sys/fs/cgroup/...` is also a
/// legal cgroup path (anyone may `mkdir sys` in a cgroup root), so guessing would be
/// wrong sometimes. With such a prefix the distinctive layouts below still match (they
/// are found by component, at any depth) and the depth-based `/<id>` and `/<ns>/<id>`
/// layouts do not, so a prefixed path gives the right container or nil, never a wrong one.
///
/// ## Layouts, searched from the deepest component up
/// The deepest component that names a container wins, so a container's own sub-cgroups
/// (podman's `…/container`, systemd inside a container) and nested containers
/// (docker in docker: `/docker/<outer>/docker/<inner>`) give the innermost container.
/// - docker: `/docker/<64hex>` (cgroupfs driver), `docker-<64hex>.scope` (systemd driver)
/// - containerd (CRI): `cri-containerd-<64hex>.scope`
/// - CRI-O: `crio-<64hex>`, `crio-<64hex>.scope`; `crio-conmon-<id>.scope` is the monitor, not the container
/// - podman: `libpod-<64hex>`, `libpod-<64hex>.scope`, also with a trailing `/container`, and
///   `/libpod_parent/libpod-<64hex>` (cgroupfs manager); `libpod-conmon-<id>` is the monitor
/// - systemd cgroupsPath handed literally to a cgroupfs driver:
///   `<slice>:cri-containerd:<64hex>` (also `:crio:`, `:docker:`, `:libpod:`)
/// - Kubernetes: any of the above, or a bare `<64hex>`, below a pod cgroup
///   (`kubepods[/qos]/pod<uid>/…` or `kubepods-<qos>-pod<uid_with_underscores>.slice/…`) →
///   runtime `.kubernetes` with the pod UID in dashed form
/// - LXC: `/lxc/<name>` (LXC 1-2), `/lxc.payload/<name>` (LXC 3), `/lxc.payload.<name>` (LXC 4+);
///   never `lxc.monitor…` (the monitor process, not the container)
/// - systemd-nspawn: `machine-<name>.scope` with systemd's `\xHH` escapes undone; not its
///   `…/supervisor` sub-cgroup (nspawn itself) and not `machine-qemu…` (libvirt VMs)
///
/// ## Depth-based layouts (a guess, refined later)
/// runc and crun put a container at the bundle's `cgroupsPath`, by default `/<id>`, and
/// containerd (ctr) at `/<containerd namespace>/<id>`. Neither says who made it, so:
/// - exactly one component `/<id>` → runtime `.runc`
/// - exactly two components `/<ns>/<id>` → runtime `.containerd` with `containerdNamespace`
/// Only valid ids ([A-Za-z0-9][A-Za-z0-9_.-]*) and containerd namespace names qualify, and
/// neither component may be a well-known host or runtime-parent cgroup (`init.scope`,
/// `*.slice`, `*.service`, `docker`, `libpod_parent`, `kubepods`, `lxc.monitor…`, ...).
/// The runtime lineage (runc/crun/containerd-shim seen in the process tree) is what tells
/// runc from crun from containerd; it overrides this guess. Any other layout gives nil.
public enum CgroupPathMatcher {
    /// The container whose cgroup `cgroupPath` is, or nil when the path is the host's or
    /// its layout is unknown.
    public static func identify(cgroupPath: String) -> ContainerIdentity? {
        classify(cgroupPath[...])?.identity
    }

    /// The container of a process from the whole content of its /proc/PID/cgroup.
    ///
    /// The cgroup v2 line (`0::<path>`) decides when it names a container. Otherwise
    /// (pure v1 hosts, or hybrid hosts where a runtime uses v1 controllers only) the v1
    /// lines are used: they must agree on one container, and a depth-based guess needs at
    /// least two v1 hierarchies showing it, because a single controller's `/<a>/<b>` is
    /// often some host agent's own grouping rather than a container.
    /// The lines of a /proc file, split at "\n" only: a cgroup name may hold a CR or another
    /// character Swift counts as a newline (and "\r\n" is one Character).
    static func lines(_ text: String) -> [Substring] {
        text.unicodeScalars.split(separator: "\n").map { Substring($0) }
    }

    public static func identify(procCgroupContents: String) -> ContainerIdentity? {
        var unifiedPath: Substring?
        var legacyPaths: [Substring] = []
        for line in lines(procCgroupContents) {
            // hierarchy-ID:controller-list:path; the path itself may contain ':'.
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            if fields[0] == "0" && fields[1].isEmpty {
                unifiedPath = fields[2]
            } else {
                legacyPaths.append(fields[2])
            }
        }
        if let unifiedPath, let match = classify(unifiedPath) {
            return match.identity
        }

        var votes: [ContainerIdentity: (count: Int, isGuess: Bool)] = [:]
        for path in legacyPaths {
            guard let match = classify(path) else { continue }
            let previous = votes[match.identity]?.count ?? 0
            votes[match.identity] = (previous + 1, match.isLayoutGuess)
        }
        guard votes.count == 1, let (identity, vote) = votes.first else { return nil }
        if vote.isGuess && vote.count < 2 { return nil }
        return identity
    }

    // MARK: - classification

    /// A recognised container, and whether only the path's depth suggested it.
    struct Match: Hashable {
        let identity: ContainerIdentity
        let isLayoutGuess: Bool
    }

    static func classify(_ path: Substring) -> Match? {
        // split and compared on bytes throughout (a Character at a time is tens of times slower)
        let components = Self.components(of: path)
        guard !components.isEmpty else { return nil }  // "/" is the host's root cgroup
        // Paths outside our cgroup namespace start with "/.."; never a container we can name.
        guard !components.contains(where: { $0 == "." || $0 == ".." }) else { return nil }

        for index in components.indices.reversed() {
            if let identity = container(at: index, of: components) {
                return Match(identity: identity, isLayoutGuess: false)
            }
        }

        switch components.count {
        case 1:
            let id = components[0]
            guard isPlainID(id), !isHostCgroupName(id) else { return nil }
            return Match(identity: ContainerIdentity(id: String(id), runtime: .runc), isLayoutGuess: true)
        case 2:
            let namespace = components[0], id = components[1]
            guard isContainerdNamespace(namespace), !isHostCgroupName(namespace),
                  isPlainID(id), !isHostCgroupName(id)
            else { return nil }
            let identity = ContainerIdentity(
                id: String(id), runtime: .containerd, containerdNamespace: String(namespace))
            return Match(identity: identity, isLayoutGuess: true)
        default:
            return nil
        }
    }

    /// The non-empty `/`-separated components, found on the contiguous bytes (a generic split
    /// of the UTF-8 view cost as much as the rest of a classification).
    static func components(of path: Substring) -> [Substring] {
        let ranges: [Range<Int>] = path.withBytes { raw in
            var found: [Range<Int>] = []
            var start = 0
            for i in 0...raw.count where i == raw.count || raw[i] == 0x2F {
                if i > start { found.append(start..<i) }
                start = i + 1
            }
            return found
        }
        let utf8 = path.utf8
        return ranges.map { r in
            Substring(utf8[utf8.index(utf8.startIndex, offsetBy: r.lowerBound) ..< utf8.index(utf8.startIndex, offsetBy: r.upperBound)])
        }
    }

    /// The container that the component at `index` names by itself or with its parent.
    private static func container(at index: Int, of components: [Substring]) -> ContainerIdentity? {
        let component = components[index]
        let ancestors = components[..<index]
        let parent = index > 0 ? components[index - 1] : nil

        if let (id, runtime) = runtimeUnitID(component) {
            return inPod(ContainerIdentity(id: id, runtime: runtime), ancestors: ancestors)
        }
        if let identity = systemdCgroupsPathID(component, ancestors: ancestors) {
            return identity
        }
        if parent == "docker", isFullHexID(component) {
            return inPod(ContainerIdentity(id: String(component), runtime: .docker), ancestors: ancestors)
        }
        if let parent, isFullHexID(component), let podUID = podUID(inComponent: parent),
           ancestors.contains(where: { $0.hasBytes("kubepods") }) {
            return ContainerIdentity(id: String(component), runtime: .kubernetes, podUID: podUID)
        }
        if parent == "lxc" || parent == "lxc.payload", isLXCName(component) {
            return ContainerIdentity(id: String(component), runtime: .lxc, name: String(component))
        }
        if component.hasBytePrefix(lxcPayloadPrefix) {
            let name = component.droppingBytes(first: lxcPayloadPrefix.utf8.count)
            guard isLXCName(name) else { return nil }
            return ContainerIdentity(id: String(name), runtime: .lxc, name: String(name))
        }
        if let name = nspawnMachineName(component) {
            // machine-<name>.scope/supervisor holds systemd-nspawn itself, like conmon for podman.
            if index + 1 < components.count, components[index + 1] == "supervisor" { return nil }
            return ContainerIdentity(id: name, runtime: .nspawn, name: name)
        }
        return nil
    }

    // MARK: - runtime-specific forms

    private static let lxcPayloadPrefix = "lxc.payload."

    /// A runtime's unit (or plain cgroup) name around a 64-hex id, and whether the plain
    /// form without `.scope` exists for it.
    private static let runtimeUnitPrefixes: [(prefix: String, runtime: ContainerRuntime, plainAllowed: Bool)] = [
        ("docker-", .docker, false),
        ("cri-containerd-", .containerd, false),
        ("crio-", .crio, true),
        ("libpod-", .podman, true),
    ]

    /// `docker-<id>.scope`, `cri-containerd-<id>.scope`, `crio-<id>[.scope]`, `libpod-<id>[.scope]`.
    /// The monitors `crio-conmon-<id>` and `libpod-conmon-<id>` never match: what follows
    /// the prefix must be exactly 64 hex digits.
    private static func runtimeUnitID(_ component: Substring) -> (String, ContainerRuntime)? {
        for candidate in runtimeUnitPrefixes where component.hasBytePrefix(candidate.prefix) {
            var rest = component.droppingBytes(first: candidate.prefix.utf8.count)
            if rest.hasByteSuffix(".scope") {
                rest = rest.droppingBytes(last: ".scope".utf8.count)
            } else if !candidate.plainAllowed {
                continue
            }
            if isFullHexID(rest) { return (String(rest), candidate.runtime) }
        }
        return nil
    }

    private static let systemdCgroupsPathPrefixes: [Substring: ContainerRuntime] = [
        "cri-containerd": .containerd, "crio": .crio, "docker": .docker, "libpod": .podman,
    ]

    /// `<slice>:<prefix>:<id>`: the systemd-driver cgroupsPath (e.g. from kubelet) created
    /// literally by a runtime using the cgroupfs driver.
    private static func systemdCgroupsPathID(_ component: Substring, ancestors: ArraySlice<Substring>) -> ContainerIdentity? {
        guard component.withBytes({ $0.contains(0x3A) }) else { return nil }
        let parts = component.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let runtime = systemdCgroupsPathPrefixes[parts[1]], isFullHexID(parts[2]) else {
            return nil
        }
        let identity = ContainerIdentity(id: String(parts[2]), runtime: runtime)
        if parts[0].hasBytes("kubepods"), let podUID = podUID(inComponent: parts[0]) {
            return ContainerIdentity(id: identity.id, runtime: .kubernetes, podUID: podUID)
        }
        return inPod(identity, ancestors: ancestors)
    }

    /// The identity as a Kubernetes container when an ancestor is a pod's cgroup below kubepods.
    private static func inPod(_ identity: ContainerIdentity, ancestors: ArraySlice<Substring>) -> ContainerIdentity {
        guard ancestors.contains(where: { $0.hasBytes("kubepods") }) else { return identity }
        for ancestor in ancestors.reversed() {
            if let podUID = podUID(inComponent: ancestor) {
                return ContainerIdentity(id: identity.id, runtime: .kubernetes, podUID: podUID)
            }
        }
        return identity
    }

    /// The pod UID of a pod cgroup, dashed: `pod<uid>` (cgroupfs driver) or
    /// `<…kubepods…>-pod<uid_with_underscores>.slice` (systemd driver, which cannot use '-'
    /// inside a slice name component).
    static func podUID(inComponent component: Substring) -> String? {
        let raw: Substring
        if component.hasByteSuffix(".slice") {
            // In a slice name '-' separates the parents, so the UID is after the last '-'.
            let stem = component.droppingBytes(last: ".slice".utf8.count)
            guard let lastDash = stem.utf8.lastIndex(of: 0x2D),
                  Substring(stem.utf8[..<lastDash]).hasBytes("kubepods")
            else { return nil }
            let leaf = Substring(stem.utf8[stem.utf8.index(after: lastDash)...])
            guard leaf.hasBytePrefix("pod") else { return nil }
            raw = leaf.droppingBytes(first: 3)
        } else if component.hasBytePrefix("pod") {
            raw = component.droppingBytes(first: 3)
        } else {
            return nil
        }
        let dashed = String(raw.map { $0 == "_" ? "-" : $0 })
        return isPodUID(dashed[...]) ? dashed : nil
    }

    /// A pod UID: a dashed UUID, or 32 hex digits (static pods' UIDs are a hash).
    private static func isPodUID(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        if bytes.count == 32 { return bytes.allSatisfy(isLowerHex) }
        guard bytes.count == 36 else { return false }
        for (offset, byte) in bytes.enumerated() {
            let wantsDash = offset == 8 || offset == 13 || offset == 18 || offset == 23
            if wantsDash ? byte != UInt8(ascii: "-") : !isLowerHex(byte) { return false }
        }
        return true
    }

    /// `machine-<escaped name>.scope` → the machine name; libvirt's `machine-qemu…` VMs excluded.
    private static func nspawnMachineName(_ component: Substring) -> String? {
        guard component.hasBytePrefix("machine-"), component.hasByteSuffix(".scope"),
              component.utf8.count >= "machine-.scope".utf8.count else { return nil }
        let escaped = component.droppingBytes(first: "machine-".utf8.count).droppingBytes(last: ".scope".utf8.count)
        guard let name = unescapeSystemdUnitName(escaped), !name.isEmpty,
              !name.hasPrefix("qemu-")
        else { return nil }
        return name
    }

    /// Undoes systemd's unit-name escaping (`\x2d` → `-`). nil for a malformed escape.
    static func unescapeSystemdUnitName(_ text: Substring) -> String? {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\") {
                guard index + 3 < bytes.count, bytes[index + 1] == UInt8(ascii: "x"),
                      let high = hexValue(bytes[index + 2]), let low = hexValue(bytes[index + 3])
                else { return nil }
                output.append(high << 4 | low)
                index += 4
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    // MARK: - lexical checks (bytes, no regular expressions: this runs once per new cgroup)

    /// Exactly 64 lowercase hex digits: the ids docker, containerd's CRI, CRI-O and podman make.
    static func isFullHexID(_ text: Substring) -> Bool {
        text.utf8.count == 64 && text.withBytes { $0.allSatisfy(isLowerHex) }
    }

    /// A runc/containerd container id: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 255 bytes.
    static func isPlainID(_ text: Substring) -> Bool {
        text.withBytes { bytes in
            guard let first = bytes.first, bytes.count <= 255, isAlphanumeric(first) else { return false }
            return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
        }
    }

    /// containerd's identifier rule for namespaces: alphanumeric runs joined by single
    /// '.', '_' or '-', at most 76 bytes.
    static func isContainerdNamespace(_ text: Substring) -> Bool {
        text.withBytes { bytes in
            guard !bytes.isEmpty, bytes.count <= 76 else { return false }
            var previousWasSeparator = true  // so a leading separator fails
            for byte in bytes {
                if isAlphanumeric(byte) {
                    previousWasSeparator = false
                } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") {
                    if previousWasSeparator { return false }
                    previousWasSeparator = true
                } else {
                    return false
                }
            }
            return !previousWasSeparator
        }
    }

    /// A name LXC accepts for a container: printable, no '/', not starting with '.'.
    private static func isLXCName(_ text: Substring) -> Bool {
        text.withBytes { bytes in
            guard let first = bytes.first, first != UInt8(ascii: "."), bytes.count <= 255 else { return false }
            return bytes.allSatisfy { $0 > 0x20 && $0 != 0x7f }
        }
    }

    /// Cgroups that hosts, systemd and runtimes create for themselves or as parents of
    /// containers: never a container in the depth-based layouts.
    private static let hostCgroupNames: Set<Substring> = [
        "init.scope", "docker", "libpod_parent", "kubepods", "kubelet", "podruntime", "machine",
        "lxc", "lxc.payload", "lxc.monitor", "lxc.pivot", "system", "user", "init", "containerd",
        "crio", "podman", "conmon", "buildkit", "besteffort", "burstable", "guaranteed",
    ]

    private static let systemdUnitSuffixes = [
        ".slice", ".scope", ".service", ".socket", ".mount", ".swap", ".target", ".device", ".automount",
    ]

    // The names above as bytes, compared with memcmp (a Set<Substring> hashes every component).
    private static let hostCgroupNameBytes: [[UInt8]] = hostCgroupNames.map { Array($0.utf8) }
    private static let systemdUnitSuffixBytes: [[UInt8]] = systemdUnitSuffixes.map { Array($0.utf8) }
    private static let hostCgroupPrefixBytes: [[UInt8]] = [
        // LXC's own cgroups (lxc.monitor.<name>, lxc.pivot, ...); its payloads matched earlier.
        "lxc.",
        // The runtimes' monitor processes (conmon), never the container itself.
        "crio-conmon-", "libpod-conmon-",
    ].map { Array($0.utf8) }

    static func isHostCgroupName(_ component: Substring) -> Bool {
        var text = component
        let named = text.withUTF8 { utf8 in
            let raw = UnsafeRawBufferPointer(utf8)
            return hostCgroupNameBytes.contains { UTF8Search.equals(raw, $0) }
                || systemdUnitSuffixBytes.contains { UTF8Search.hasSuffix(raw, $0) }
                || hostCgroupPrefixBytes.contains { UTF8Search.hasPrefix(raw, $0) }
        }
        if named { return true }
        if podUID(inComponent: component) != nil { return true }
        return false
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// The matcher's tests on bytes: its names and prefixes are ASCII, and an id is then checked
/// byte by byte anyway. (Substring's Character-based hasPrefix, hasSuffix and contains were
/// most of the cost of a new cgroup.)
private extension Substring {
    /// The bytes, compared by memcmp or read as a buffer (a generic walk of the UTF-8 view
    /// costs tens of instructions a byte; a substring of a native String needs no copy).
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var text = self
        return text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    func hasBytePrefix(_ prefix: String) -> Bool { withBytes { UTF8Search.hasPrefix($0, string: prefix) } }

    func hasByteSuffix(_ suffix: String) -> Bool {
        var suffix = suffix
        return withBytes { raw in suffix.withUTF8 { UTF8Search.hasSuffix(raw, bytes: UnsafeRawBufferPointer($0)) } }
    }

    func hasBytes(_ needle: String) -> Bool { withBytes { UTF8Search.contains($0, needle) } }

    func droppingBytes(first n: Int) -> Substring { Substring(utf8.dropFirst(n)) }
    func droppingBytes(last n: Int) -> Substring { Substring(utf8.dropLast(n)) }
}
