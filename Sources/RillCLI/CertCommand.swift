import ArgumentParser
import Foundation
import RillTLS

/// `rill cert`: a cluster CA and the certificates it signs, for clusters run by hand (compose, Kubernetes,
/// machines of your own). `rill up` does the same for itself. swift-certificates makes them; no openssl needed.
struct CertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert",
        abstract: "Make a cluster CA and issue the certificates nodes and routers present to one another.",
        discussion: """
            rill cert ca --dir certs
            rill cert issue --dir certs --name node-1 --host rill-1 --host 10.0.0.11
            rill node ... --peer-ca certs/ca.pem --peer-cert certs/node-1.pem --peer-key certs/node-1-key.pem

            Keep ca-key.pem away from the nodes: it is what makes a member. See docs/security.md.
            """,
        subcommands: [CA.self, Issue.self]
    )

    struct DirectoryOption: ParsableArguments {
        @Option(help: "Folder of the CA (ca.pem, ca-key.pem) and of the certificates issued (NAME.pem, NAME-key.pem).")
        var dir: String = "./certs"
    }

    struct CA: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the CA in --dir (kept as it is when the folder already holds one)."
        )
        @OptionGroup var directory: DirectoryOption

        @Option(help: "The CA's common name.")
        var name = "Rill cluster CA"

        func run() throws {
            let folder = CertificateDirectory(path: directory.dir)
            let (_, made) = try folder.prepareCA(named: name)
            print(
                made
                    ? "made the CA: \(folder.caCertificate) (key \(folder.caKey), mode 0600)"
                    : "kept the CA in \(folder.caCertificate)"
            )
        }
    }

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue NAME.pem and NAME-key.pem, signed by the CA in --dir, replacing any there were."
        )
        @OptionGroup var directory: DirectoryOption

        @Option(help: "The certificate's name (its common name and file name), e.g. node-1 or router.")
        var name: String

        @Option(
            name: .customLong("host"),
            help: "A DNS name or IP address the holder is reached at (repeatable); the first is also its common name."
        )
        var hosts: [String] = []

        @Option(
            help: """
                peer: both ends of a connection, what --peer-cert needs; server: serving only, for --tls-cert on the \
                API port.
                """
        )
        var usage: Usage = .peer

        @Option(help: "Days the certificate is valid.")
        var days: Int = 825

        enum Usage: String, ExpressibleByArgument, CaseIterable {
            case peer
            case server
        }

        func validate() throws {
            guard !name.isEmpty, !name.contains("/") else { throw ValidationError("--name must be a file name") }
            guard (1...3650).contains(days) else { throw ValidationError("--days must be between 1 and 3650") }
            if usage == .server, hosts.isEmpty { throw ValidationError("a server certificate needs --host") }
        }

        func run() throws {
            let folder = CertificateDirectory(path: directory.dir)
            guard let ca = folder.readCA() else {
                throw ValidationError("no CA in \(directory.dir): run `rill cert ca --dir \(directory.dir)` first")
            }
            try folder.issue(
                name,
                hosts: hosts.isEmpty ? [name] : hosts,
                usage: usage == .peer ? .serverAndClient : .server,
                signedBy: ca,
                validity: TimeInterval(days) * 86_400
            )
            print("issued \(folder.certificate(name)) (key \(folder.key(name)), mode 0600), valid \(days) days")
        }
    }
}
