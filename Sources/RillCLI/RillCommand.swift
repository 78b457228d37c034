import ArgumentParser
import RillBench

/// `rill`: one binary, a subcommand per role.
public struct RillCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rill",
        abstract: "A durable stream cluster that speaks the Amazon Kinesis Data Streams API.",
        subcommands: [
            NodeCommand.self, RouterCommand.self, UpCommand.self, BenchCommand.self, StatusCommand.self,
            ChaosCommand.self,
            PutCommand.self, TailCommand.self, AgentCommand.self, TriggerCommand.self, ArchiveCommand.self,
            KeysCommand.self, CertCommand.self,
        ]
    )

    public init() {}
}
