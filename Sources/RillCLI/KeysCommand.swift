import ArgumentParser
import RillKinesis
import RillNode

/// `rill keys`: edits the key store file that stands in for KMS (docs/security.md). Nodes read it at start and
/// again on SIGHUP; every node of a cluster must see the same file.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "List, create, enable, disable and rotate the master keys of a key store file.",
        subcommands: [List.self, Create.self, Enable.self, Disable.self, Rotate.self]
    )

    struct StoreOption: ParsableArguments {
        @Option(
            name: .customLong("key-store"),
            help: "The key store file (created with alias/aws/kinesis when missing)."
        )
        var path: String = "./rill-data/key-store.json"

        func edit(_ change: (inout MasterKeyStore) throws -> String) throws {
            var store = try RecordKeys.open(path: path, create: true).current
            let message = try change(&store)
            try RecordKeys.write(store, to: path)
            print(message)
            print("Send SIGHUP to every node (or restart them) to use it.")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every key: id, state, versions, aliases.")
        @OptionGroup var store: StoreOption

        func run() throws {
            for key in try RecordKeys.open(path: store.path, create: true).current.keys {
                let state = key.enabled ? "enabled" : "disabled"
                print("\(key.keyId)  \(state)  versions=\(key.currentVersion)  \(key.aliases.joined(separator: ","))")
            }
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a key with fresh random material.")
        @OptionGroup var store: StoreOption
        @Option(help: "An alias for the new key, e.g. alias/orders.")
        var alias: String?

        func run() throws {
            try store.edit { keys in
                var random = SystemRandomNumberGenerator()
                let id = try keys.create(alias: alias, using: &random)
                return "created key \(id)"
            }
        }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a key (id, ARN or alias).")
        @OptionGroup var store: StoreOption
        @Argument var key: String

        func run() throws {
            try store.edit { keys in
                try keys.setEnabled(true, key: key)
                return "enabled \(key)"
            }
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a key: streams whose data keys it wraps refuse reads and writes (KMSDisabledException)."
        )
        @OptionGroup var store: StoreOption
        @Argument var key: String

        func run() throws {
            try store.edit { keys in
                try keys.setEnabled(false, key: key)
                return "disabled \(key)"
            }
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Add a new version of a key: data keys made from now on are wrapped under it; older versions stay, so nothing written before needs rewriting."
        )
        @OptionGroup var store: StoreOption
        @Argument var key: String

        func run() throws {
            try store.edit { keys in
                var random = SystemRandomNumberGenerator()
                let version = try keys.rotate(key: key, using: &random)
                return "\(key) is now at version \(version)"
            }
        }
    }
}
