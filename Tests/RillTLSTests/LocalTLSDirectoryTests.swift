import Foundation
import NIOSSL
import Testing
import X509

@testable import RillTLS

struct LocalTLSDirectoryTests {
    static let hosts = ["127.0.0.1", "localhost", "::1"]
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    private func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "rill-tls-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path + "/tls"
    }

    @Test func theServerCertificateNamesEveryHostAndIsSignedByTheCA() throws {
        let ca = try LocalCertificateAuthority.makeCA(now: Self.now)
        let server = try LocalCertificateAuthority.makeServerCertificate(hosts: Self.hosts, signedBy: ca, now: Self.now)
        let caCertificate = try Certificate(pemEncoded: ca.certificatePEM)
        let certificate = try Certificate(pemEncoded: server.certificatePEM)
        #expect(caCertificate.publicKey.isValidSignature(certificate.signature, for: certificate))
        #expect(certificate.issuer == caCertificate.subject)
        #expect(try caCertificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(try certificate.extensions.basicConstraints == .notCertificateAuthority)
        let names = try #require(try certificate.extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("localhost")))
        #expect(names.contains(.ipAddress(.init(contentBytes: [127, 0, 0, 1]))))
        #expect(names.count == 3)
        #expect(LocalCertificateAuthority.serverCertificate(server, covers: Self.hosts, signedBy: ca, now: Self.now))
        #expect(!LocalCertificateAuthority.serverCertificate(server, covers: ["10.0.0.1"], signedBy: ca, now: Self.now))
        // NIOSSL serves with them.
        _ = try NIOSSLContext(
            configuration: .makeServerConfiguration(
                certificateChain: [
                    .certificate(try NIOSSLCertificate(bytes: Array(server.certificatePEM.utf8), format: .pem))
                ],
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(server.privateKeyPEM.utf8), format: .pem))
            )
        )
    }

    @Test func aRestartReusesTheFilesItMade() throws {
        let directory = LocalTLSDirectory(path: try temporaryDirectory())
        #expect(try directory.prepare(hosts: Self.hosts, now: Self.now) == .newCA)
        let before = try [directory.caCertificate, directory.serverCertificate, directory.serverKey].map {
            try String(contentsOfFile: $0, encoding: .utf8)
        }
        #expect(try directory.prepare(hosts: Self.hosts, now: Self.now + 86_400) == .reused)
        let after = try [directory.caCertificate, directory.serverCertificate, directory.serverKey].map {
            try String(contentsOfFile: $0, encoding: .utf8)
        }
        #expect(before == after)
        let mode = try FileManager.default.attributesOfItem(atPath: directory.serverKey)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        _ = try APITLS.serverContext(certificateFile: directory.serverCertificate, keyFile: directory.serverKey)
        _ = try APITLS.clientContext(trusting: directory.caCertificate)
    }

    @Test func aNewHostOrANearExpiryGetsANewServerCertificateFromTheSameCA() throws {
        let directory = LocalTLSDirectory(path: try temporaryDirectory())
        _ = try directory.prepare(hosts: Self.hosts, now: Self.now)
        let ca = try String(contentsOfFile: directory.caCertificate, encoding: .utf8)
        let server = try String(contentsOfFile: directory.serverCertificate, encoding: .utf8)
        #expect(try directory.prepare(hosts: Self.hosts + ["rill.internal"], now: Self.now) == .newServerCertificate)
        let reissued = try String(contentsOfFile: directory.serverCertificate, encoding: .utf8)
        #expect(reissued != server)
        let late = Self.now + LocalCertificateAuthority.serverValidity - 86_400
        #expect(try directory.prepare(hosts: Self.hosts, now: late) == .newServerCertificate)
        #expect(try String(contentsOfFile: directory.caCertificate, encoding: .utf8) == ca)
    }
}
