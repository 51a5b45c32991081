import Foundation

/// Where the programs under test are.
public enum Binaries {
    /// The package's root directory (this file is Tests/NstraceTestSupport/Binaries.swift).
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `NSTRACE_BIN_DIR` if set; else the directory of this test binary (swift test puts the
    /// products next to it, whatever `--scratch-path`); else `.build/debug`.
    public static let binDir: String = {
        if let dir = ProcessInfo.processInfo.environment["NSTRACE_BIN_DIR"], !dir.isEmpty { return dir }
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let dir = (exe as NSString).deletingLastPathComponent
            if FileManager.default.isExecutableFile(atPath: dir + "/nstrace") { return dir }
        }
        return packageRoot.appendingPathComponent(".build/debug").path
    }()

    public static var nstrace: String { binDir + "/nstrace" }
    /// The C program that makes the exact syscalls the integration tests expect (comm `nstdrv`).
    public static var testDriver: String { binDir + "/nstrace-testdriver" }

    /// A tool by name, from the usual system directories (the test may run with a short PATH).
    public static func tool(_ name: String) -> String {
        for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"] {
            let path = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return name
    }
}
