import ArgumentParser
import NstraceCore
#if canImport(Glibc)
import Glibc
#endif

struct NetnsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netns",
        abstract: "Make a container's network namespace usable by `ip netns exec`.",
        subcommands: [NetnsExposeCommand.self, NetnsUnexposeCommand.self]
    )
}

struct NetnsExposeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expose",
        abstract: "Bind-mount a container's network namespace on /run/netns/NAME.",
        discussion: """
            Does what `ip netns attach NAME PID` does for the container's init: /run/netns \
            becomes a shared mount point if it is not one, and /run/netns/NAME a bind mount of \
            its network namespace. `ip netns exec NAME …` then runs in it, `ip netns list` \
            shows it, and `nstrace netns unexpose NAME` or `ip netns delete NAME` removes it \
            (the container itself is not touched). NAME defaults to the container's name, or \
            its short id. Refuses a container that is not running or that uses the host's \
            network namespace.
            """
    )

    @Argument(help: ArgumentHelp("The container: full id, unique id prefix, or name.", valueName: "CONTAINER"))
    var container: String

    @Argument(help: ArgumentHelp("The name under /run/netns (default: the container's name or short id).", valueName: "NAME"))
    var name: String?

    func validate() throws {
        if let name, !NetnsExposure.isValidName(name) {
            throw ValidationError("invalid NAME \"\(Escape.text(name, quote: true))\": a file name, no '/', not '.' or '..'")
        }
    }

    func run() throws {
        let inventory = try Views.scan()
        guard case .container(let container) = try Views.resolve(self.container, in: inventory, allowPID: false) else {
            throw Views.fail("'\(self.container)' is not a container")
        }
        let label = Views.describe(container)
        guard let netns = container.namespaces[.net] else {
            throw Views.fail("cannot read the network namespace of container \(label)")
        }
        if container.sharedWithHost.contains(.net) || netns == inventory.hostNamespaces[.net] {
            throw Views.fail("container \(label) uses the host's network namespace (host networking): there is nothing to expose; plain `ip` already shows its network")
        }
        var chosen = name ?? container.name ?? container.shortID
        if !NetnsExposure.isValidName(chosen) { chosen = container.shortID }
        let result: NetnsExposure.ExposeResult
        do {
            result = try NetnsExposure().expose(pid: container.initPID, expectedInode: netns, name: chosen)
        } catch {
            if case .processExited = error { throw Views.fail("container \(label) stopped while being exposed") }
            throw Views.fail(error.description)
        }
        switch result {
        case .exposed(let path):
            try Views.message("exposed net:[\(netns)] of container \(label) as \(path); try: ip netns exec \(chosen) ip addr")
        case .alreadyExposed(let path):
            try Views.message("net:[\(netns)] of container \(label) is already exposed as \(path)")
        }
    }
}

struct NetnsUnexposeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unexpose",
        abstract: "Remove /run/netns/NAME made by `nstrace netns expose` (umount and unlink).",
        discussion: "Also removes what `ip netns add`/`attach` or `ln -s /proc/PID/ns/net` left there; never touches the container."
    )

    @Argument(help: ArgumentHelp("The name under /run/netns.", valueName: "NAME"))
    var name: String

    func validate() throws {
        if !NetnsExposure.isValidName(name) {
            throw ValidationError("invalid NAME \"\(Escape.text(name, quote: true))\": a file name, no '/', not '.' or '..'")
        }
    }

    func run() throws {
        let exposure = NetnsExposure()
        do {
            try exposure.unexpose(name: name)
        } catch {
            throw Views.fail(error.description)
        }
        try Views.message("removed \(exposure.runDirectory)/\(name)")
    }
}
