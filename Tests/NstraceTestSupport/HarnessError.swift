/// Why a test's set-up failed (a program that would not run, output that is not what nstrace
/// documents): the tests report it and fail, never skip.
public struct HarnessError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
