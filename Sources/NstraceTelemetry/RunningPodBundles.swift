import Glibc

/// Pod names of the containers containerd's CRI plugin was already running when nstrace
/// started: their tasks' bundles stay under containerd's state directory, one per container
/// (`<root>/<64-hex id>/config.json`, with the CRI annotations PodNames reads). Read once at
/// start, each file the same hardened way as a bundle seen being created (PodNames.readConfig),
/// so a pod started before nstrace has its names even where no CRI socket answers.
enum RunningPodBundles {
    /// containerd's v2 shim tasks of the CRI plugin's namespace, k8s.io.
    static let containerdTasks = "/run/containerd/io.containerd.runtime.v2.task/k8s.io"
    /// A node runs a few hundred containers; this bounds a hostile or broken directory.
    static let maxEntries = 4096

    static func read(root: String = containerdTasks) -> [String: PodNames.Pod] {
        guard let dir = opendir(root) else { return [:] }
        defer { closedir(dir) }
        var ids: [String] = []
        while ids.count < maxEntries, let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if CRIMessages.isFullID(name) { ids.append(name) }
        }
        var pods: [String: PodNames.Pod] = [:]
        for id in ids {
            if let pod = PodNames.read(bundle: root + "/" + id), !pod.isEmpty { pods[id] = pod }
        }
        return pods
    }
}
