#if canImport(Glibc)
import Glibc
#endif

/// One line of /proc/PID/mountinfo, decoded as proc(5) documents it:
///
///     36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
///     (1)(2) (3)   (4)   (5)      (6)      (7)   (8) (9)    (10)         (11)
///
/// Path-like fields (root, mount point, fstype, source, each super option) have the
/// kernel's octal escapes (`\040` space, `\011` tab, `\012` newline, `\134` backslash)
/// undone. Bytes that are not UTF-8 become U+FFFD: these values are for display and
/// matching, not for opening files again.
public struct MountInfoEntry: Sendable, Hashable {
    /// (1) Unique id of the mount (may be reused after umount).
    public var mountID: Int
    /// (2) The parent mount's id; for the root of this mount namespace, its own or an
    /// invisible parent's id.
    public var parentID: Int
    /// (3) The st_dev of files on this filesystem.
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    /// (4) The directory *within the filesystem* that is mounted: `/` for a whole
    /// filesystem, the source directory for a bind mount (docker's `-v /home:/outside-home`
    /// shows `/home` here, with the ext4 device as source).
    public var root: String
    /// (5) Where it is mounted, relative to the reading process's root.
    public var mountPoint: String
    /// (6) Per-mount options (`rw`, `nosuid`, `relatime`, ...).
    public var mountOptions: [String]
    /// (7) Optional fields: propagation peer groups and any the kernel adds later.
    public var optionalFields: [OptionalField]
    /// (9) Filesystem type, `type.subtype` for FUSE (`fuse.sshfs`).
    public var fsType: String
    /// (10) Filesystem-specific source (`/dev/vda`, `overlay`, `none`, ...).
    public var source: String
    /// (11) Per-superblock options (`rw`, `lowerdir=...`, ...).
    public var superOptions: [String]

    public init(
        mountID: Int, parentID: Int, deviceMajor: UInt32, deviceMinor: UInt32,
        root: String, mountPoint: String, mountOptions: [String], optionalFields: [OptionalField],
        fsType: String, source: String, superOptions: [String]
    ) {
        self.mountID = mountID
        self.parentID = parentID
        self.deviceMajor = deviceMajor
        self.deviceMinor = deviceMinor
        self.root = root
        self.mountPoint = mountPoint
        self.mountOptions = mountOptions
        self.optionalFields = optionalFields
        self.fsType = fsType
        self.source = source
        self.superOptions = superOptions
    }

    /// A tagged optional field (7).
    public enum OptionalField: Sendable, Hashable, CustomStringConvertible {
        /// `shared:N`: shared with peer group N.
        case shared(peerGroup: Int)
        /// `master:N`: a slave of peer group N.
        case master(peerGroup: Int)
        /// `propagate_from:N`: a slave receiving from peer group N, the closest dominant
        /// peer group under the process's root (only shown when N is not visible).
        case propagateFrom(peerGroup: Int)
        /// `unbindable`.
        case unbindable
        /// Anything else, kept verbatim: proc(5) tells parsers to ignore unknown fields.
        case unrecognized(String)

        public var description: String {
            switch self {
            case .shared(let group): return "shared:\(group)"
            case .master(let group): return "master:\(group)"
            case .propagateFrom(let group): return "propagate_from:\(group)"
            case .unbindable: return "unbindable"
            case .unrecognized(let text): return text
            }
        }
    }

    /// How mount events propagate to and from this mount, derived from the optional fields.
    public struct Propagation: Sendable, Hashable, CustomStringConvertible {
        public enum Kind: String, Sendable, Hashable {
            case shared
            case slave
            /// Receives from a master and shares with its own peers (`shared:N master:M`).
            case sharedAndSlave = "shared,slave"
            case `private`
            case unbindable
        }

        public var sharedPeerGroup: Int?
        public var masterPeerGroup: Int?
        public var propagateFromPeerGroup: Int?
        public var isUnbindable: Bool

        public init(sharedPeerGroup: Int? = nil, masterPeerGroup: Int? = nil,
                    propagateFromPeerGroup: Int? = nil, isUnbindable: Bool = false) {
            self.sharedPeerGroup = sharedPeerGroup
            self.masterPeerGroup = masterPeerGroup
            self.propagateFromPeerGroup = propagateFromPeerGroup
            self.isUnbindable = isUnbindable
        }

        public var kind: Kind {
            // The kernel clears shared and slave state when a mount is made unbindable.
            if isUnbindable { return .unbindable }
            switch (sharedPeerGroup != nil, masterPeerGroup != nil) {
            case (true, true): return .sharedAndSlave
            case (true, false): return .shared
            case (false, true): return .slave
            case (false, false): return .private
            }
        }

        /// E.g. `shared:1`, `master:2`, `shared:3 master:1`, `private`, `unbindable`.
        public var description: String {
            var parts: [String] = []
            if let sharedPeerGroup { parts.append("shared:\(sharedPeerGroup)") }
            if let masterPeerGroup { parts.append("master:\(masterPeerGroup)") }
            if let propagateFromPeerGroup { parts.append("propagate_from:\(propagateFromPeerGroup)") }
            if isUnbindable { parts.append("unbindable") }
            return parts.isEmpty ? "private" : parts.joined(separator: " ")
        }
    }

    public var propagation: Propagation {
        var result = Propagation()
        for field in optionalFields {
            switch field {
            case .shared(let group): result.sharedPeerGroup = group
            case .master(let group): result.masterPeerGroup = group
            case .propagateFrom(let group): result.propagateFromPeerGroup = group
            case .unbindable: result.isUnbindable = true
            case .unrecognized: break
            }
        }
        return result
    }

    /// Whether this mount shows only part of its filesystem (a bind mount or a
    /// subvolume): its root is not the filesystem's root.
    public var isPartialFilesystem: Bool { root != "/" }
}

/// A line of mountinfo that could not be decoded, with why. Never fatal: the other
/// lines of the table stay usable.
public struct MountInfoParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number in the parsed text; 0 when a single line was parsed.
    public var lineNumber: Int
    public var line: String
    public var reason: String

    public init(lineNumber: Int, line: String, reason: String) {
        self.lineNumber = lineNumber
        self.line = line
        self.reason = reason
    }

    public var description: String {
        let location = lineNumber > 0 ? "mountinfo line \(lineNumber)" : "mountinfo line"
        return "\(location): \(reason): \(line.debugDescription)"
    }
}

/// A process's mount table: the lines that decoded, in file order, and those that did not.
public struct MountTable: Sendable, Hashable {
    public var entries: [MountInfoEntry]
    public var errors: [MountInfoParseError]

    public init(entries: [MountInfoEntry], errors: [MountInfoParseError]) {
        self.entries = entries
        self.errors = errors
    }
}

/// Reading and parsing of /proc/PID/mountinfo.
public enum MountInfo {
    /// Reads and parses /proc/`pid`/mountinfo.
    public static func read(pid: Int32, procRoot: String = "/proc") throws(ProcReadError) -> MountTable {
        let path = "\(procRoot)/\(pid)/mountinfo"
        do {
            return parse(try HostFiles.readText(path))
        } catch where error.errno == EINVAL {
            // The kernel's answer for a zombie: its mount namespace is already released.
            throw ProcReadError(pid: pid, path: path, reason: .processExited)
        } catch {
            throw ProcReadError.from(error, pid: pid, procRoot: procRoot)
        }
    }

    /// Parses the whole text of a mountinfo file; empty lines are skipped.
    public static func parse(_ text: String) -> MountTable {
        var entries: [MountInfoEntry] = []
        var errors: [MountInfoParseError] = []
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.isEmpty { continue }
            switch parseLine(line) {
            case .success(let entry):
                entries.append(entry)
            case .failure(var failure):
                failure.lineNumber = lineNumber
                errors.append(failure)
            }
        }
        return MountTable(entries: entries, errors: errors)
    }

    /// Parses one line (without its newline).
    public static func parseLine(_ line: Substring) -> Result<MountInfoEntry, MountInfoParseError> {
        func failure(_ reason: String) -> Result<MountInfoEntry, MountInfoParseError> {
            .failure(MountInfoParseError(lineNumber: 0, line: String(line), reason: reason))
        }

        // Fields are separated by exactly one space; escaped values cannot contain one,
        // so an empty field (two spaces) is a real empty value, e.g. an empty source.
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        // Six fixed fields come first, so the separator is the first "-" from the seventh on.
        guard fields.count > 6 else { return failure("fewer than 6 fields before the '-' separator") }
        guard let separator = fields[6...].firstIndex(of: "-") else { return failure("no '-' separator") }
        let trailing = fields[(separator + 1)...]
        guard trailing.count == 3 else {
            return failure("\(trailing.count) fields after the '-' separator, expected 3")
        }
        guard let mountID = decimal(fields[0]) else { return failure("mount id is not a number") }
        guard let parentID = decimal(fields[1]) else { return failure("parent id is not a number") }

        let device = fields[2].split(separator: ":", omittingEmptySubsequences: false)
        guard device.count == 2, let major = decimal(device[0]), let minor = decimal(device[1]),
              let deviceMajor = UInt32(exactly: major), let deviceMinor = UInt32(exactly: minor)
        else { return failure("device is not major:minor") }

        let root = unescapeOctal(fields[3])
        let mountPoint = unescapeOctal(fields[4])
        guard !fields[3].isEmpty, !fields[4].isEmpty else { return failure("empty root or mount point") }

        let mountOptions = fields[5].split(separator: ",").map(String.init)
        let optionalFields = fields[6..<separator].map(optionalField)

        let base = trailing.startIndex
        let fsType = unescapeOctal(trailing[base])
        guard !fsType.isEmpty else { return failure("empty filesystem type") }
        let source = unescapeOctal(trailing[base + 1])
        // Split before unescaping: a ',' inside an option's value is escaped (\054) by the kernel.
        let superOptions = trailing[base + 2].split(separator: ",").map(unescapeOctal)

        return .success(MountInfoEntry(
            mountID: mountID, parentID: parentID, deviceMajor: deviceMajor, deviceMinor: deviceMinor,
            root: root, mountPoint: mountPoint, mountOptions: mountOptions,
            optionalFields: optionalFields, fsType: fsType, source: source, superOptions: superOptions))
    }

    public static func parseLine(_ line: String) -> Result<MountInfoEntry, MountInfoParseError> {
        parseLine(line[...])
    }

    /// Undoes the kernel's `\ooo` escapes (seq_escape/mangle). A backslash not followed by
    /// three octal digits of a byte value is kept as it is.
    public static func unescapeOctal(_ text: Substring) -> String {
        guard text.utf8.contains(UInt8(ascii: "\\")) else { return String(text) }
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\"), index + 3 < bytes.count,
               let value = octalByte(bytes[index + 1], bytes[index + 2], bytes[index + 3]) {
                output.append(value)
                index += 4
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    // MARK: - private

    private static func optionalField(_ text: Substring) -> MountInfoEntry.OptionalField {
        if text == "unbindable" { return .unbindable }
        guard let colon = text.firstIndex(of: ":"), let group = decimal(text[text.index(after: colon)...]) else {
            return .unrecognized(String(text))
        }
        switch text[..<colon] {
        case "shared": return .shared(peerGroup: group)
        case "master": return .master(peerGroup: group)
        case "propagate_from": return .propagateFrom(peerGroup: group)
        default: return .unrecognized(String(text))
        }
    }

    /// A non-negative decimal made of ASCII digits only (no sign, no spaces), or nil.
    private static func decimal(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 18,
              text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return Int(text)
    }

    private static func octalByte(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8? {
        let zero = UInt8(ascii: "0"), seven = UInt8(ascii: "7")
        guard (zero...seven).contains(a), (zero...seven).contains(b), (zero...seven).contains(c) else { return nil }
        let value = Int(a - zero) * 64 + Int(b - zero) * 8 + Int(c - zero)
        return UInt8(exactly: value)
    }
}
