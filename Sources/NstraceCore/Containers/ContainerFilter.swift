/// `--container`, `--containers-only`, `--host-only`: applied after attribution.
public struct ContainerFilter: Sendable {
    /// Full ids, id prefixes or names.
    public var selectors: [String]
    public var containersOnly: Bool
    public var hostOnly: Bool

    public init(selectors: [String] = [], containersOnly: Bool = false, hostOnly: Bool = false) {
        self.selectors = selectors
        self.containersOnly = containersOnly
        self.hostOnly = hostOnly
    }

    public var isEmpty: Bool { selectors.isEmpty && !containersOnly && !hostOnly }

    /// `container` is the event's own container, `target` the one a setns entered.
    public func matches(container: ContainerRecord?, target: ContainerRecord?) -> Bool {
        if hostOnly { return container == nil }
        if containersOnly && container == nil && target == nil { return false }
        if selectors.isEmpty { return true }
        return selects(container) || selects(target)
    }

    func selects(_ record: ContainerRecord?) -> Bool {
        guard let record else { return false }
        return selectors.contains { record.id.hasPrefix($0) || record.name == $0 }
    }
}
