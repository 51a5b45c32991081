import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Part 6: the other half of the overhead budget, real container starts: 20 × `runc run` of a
/// busybox container that runs `true` (create, start, wait, delete), without and with the tracer.
let runcStarts = 20
let runcBudgetPercent = 5.0

/// A runc bundle with a busybox-static root file system, made once in /tmp.
func makeRuncBundle() throws(BenchError) -> String {
    let bundle = "/tmp/nstrace-bench-bundle"
    let candidates: [String] = ["/bin/busybox", "/usr/bin/busybox"]
    let busybox = candidates.first { path in access(path, X_OK) == 0 }
    guard let busybox, access("/usr/sbin/runc", X_OK) == 0 || access("/usr/bin/runc", X_OK) == 0 else {
        throw BenchError("part 6 needs runc and busybox-static (make deps-runtimes installs them)")
    }
    let fm = FileManager.default
    try? fm.removeItem(atPath: bundle)
    do {
        try fm.createDirectory(atPath: bundle + "/rootfs/bin", withIntermediateDirectories: true)
        for dir in ["proc", "sys", "dev", "tmp"] { try fm.createDirectory(atPath: bundle + "/rootfs/" + dir, withIntermediateDirectories: true) }
        try fm.copyItem(atPath: busybox, toPath: bundle + "/rootfs/bin/busybox")
        for applet in ["sh", "true"] { try fm.createSymbolicLink(atPath: bundle + "/rootfs/bin/" + applet, withDestinationPath: "busybox") }
        _ = try spawnWait(runcPath(), ["spec", "--bundle", bundle])
        let configPath = bundle + "/config.json"
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as? [String: Any] ?? [:]
        var root = config["root"] as? [String: Any] ?? [:]
        root["path"] = bundle + "/rootfs"
        root["readonly"] = true
        config["root"] = root
        var process = config["process"] as? [String: Any] ?? [:]
        process["terminal"] = false
        process["args"] = ["true"]
        config["process"] = process
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
    } catch let error as BenchError {
        throw error
    } catch {
        throw BenchError("cannot make the runc bundle in \(bundle): \(error)")
    }
    return bundle
}

func runcPath() -> String { access("/usr/sbin/runc", X_OK) == 0 ? "/usr/sbin/runc" : "/usr/bin/runc" }

/// posix_spawn and wait; the exit status, or an error if it is not 0.
@discardableResult
func spawnWait(_ path: String, quiet: Bool = false, _ args: [String]) throws(BenchError) -> Int32 {
    let argv = cStrings([path] + args)
    defer { freeCStrings(argv) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if quiet { posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0) } // (podman prints ids)
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, nil, argv, SpawnEnvironment.shared.pointers)
    guard rc == 0 else { throw BenchError("posix_spawn \(path): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    guard status == 0 else { throw BenchError("\(path) \(args.joined(separator: " ")) exited with status \(status)") }
    return status
}

func runcLoop(bundle: String, count: Int, tag: String) throws(BenchError) -> Double {
    let start = monotonicNs()
    for i in 0..<count {
        try spawnWait(runcPath(), ["run", "--bundle", bundle, "nstbench-\(tag)-\(i)"])
    }
    return seconds(since: start)
}

func partRuncRuns(nstrace: String, quick: Bool) throws(BenchError) -> Double {
    let runs = quick ? 2 : 11  // one start varies by ±10 % here: many pairs, medians
    let bundle = try makeRuncBundle()
    let lock = try lockRuntimes() // the real runtimes are shared with other sessions' tests
    defer { close(lock) }
    say("part 6: \(runcStarts) x runc run (busybox, true), \(runs) runs without and with the tracer, interleaved")
    _ = try runcLoop(bundle: bundle, count: 3, tag: "warm")
    var without: [Double] = [], with: [Double] = []
    var events = 0, lost = 0
    for i in 0..<runs {
        func runWithout() throws(BenchError) {
            sleepSeconds(0.5)
            without.append(try runcLoop(bundle: bundle, count: runcStarts, tag: "a\(i)"))
        }
        func runWith() throws(BenchError) {
            let tracer = try TracerProcess(binary: nstrace, ringSize: ringSize)
            sleepSeconds(0.5)
            with.append(try runcLoop(bundle: bundle, count: runcStarts, tag: "b\(i)"))
            let summary = try tracer.stop()
            events += Int(summary.events)
            lost += Int(summary.lost)
        }
        if i % 2 == 0 { try runWithout(); try runWith() } else { try runWith(); try runWithout() }
    }
    let a = median(without), b = median(with)
    let overhead = 100 * (b - a) / a
    var table = Table("6. Overhead on container starts (\(runcStarts) x runc run of a busybox container running `true`; \(runs) runs each, interleaved)",
                      columns: ["", "median wall s", "min .. max s", "ms/start"])
    table.add(["without nstrace", fixed(a, 3), "\(fixed(without.min()!, 3)) .. \(fixed(without.max()!, 3))", fixed(a * 1e3 / Double(runcStarts), 1)])
    table.add(["with nstrace", fixed(b, 3), "\(fixed(with.min()!, 3)) .. \(fixed(with.max()!, 3))", fixed(b * 1e3 / Double(runcStarts), 1)])
    let paired = zip(with, without).map { 100 * ($0 - $1) / $1 }
    table.note("per interleaved pair: median \(signedPercent(median(paired))), range \(signedPercent(paired.min()!)) .. \(signedPercent(paired.max()!))")
    table.note("wall-time overhead (medians): \(signedPercent(overhead)), budget +\(fixed(runcBudgetPercent, 0)) %: "
               + (overhead <= runcBudgetPercent ? "within" : "OVER"))
    table.note("events traced during the with-runs: \(grouped(events)) (each start's namespaces and mounts, attributed), lost \(grouped(lost)).")
    table.print()
    return overhead
}
