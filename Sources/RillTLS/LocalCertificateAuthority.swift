import Crypto
import Foundation
import SwiftASN1
import X509

/// The certificates `rill up --tls` serves with: a local CA that clients trust (`ca.pem`), and one server
/// certificate it signs, naming every host the local cluster answers on (SAN: DNS names and IP addresses).
///
/// Pure: the caller passes the time; keys come from the system's generator, as a CA's must. P-256 ECDSA keys and
/// SHA-256 signatures, which every TLS client accepts. The CA carries a critical basicConstraints and keyUsage and
/// a subject key identifier; the server certificate an authority key identifier and `serverAuth`, which strict
/// verifiers (Python 3.13's `VERIFY_X509_STRICT`) require.
public enum LocalCertificateAuthority {
    /// A certificate and its private key, both PEM.
    public struct Issued: Sendable, Equatable {
        public var certificatePEM: String
        public var privateKeyPEM: String
    }

    /// How long the CA is valid: long enough that a local cluster never outlives it.
    public static let caValidity: TimeInterval = 10 * 365 * 86_400
    /// How long a server certificate is valid: 825 days, the most Apple's TLS clients accept.
    public static let serverValidity: TimeInterval = 825 * 86_400
    /// Certificates start an hour early, so a clock slightly behind still accepts a fresh one.
    static let backdating: TimeInterval = 3_600

    /// A new self-signed CA named `name`.
    public static func makeCA(now: Date, name commonName: String = "Rill local CA") throws -> Issued {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Rill")
            CommonName(commonName)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(key.publicKey),
            notValidBefore: now - backdating,
            notValidAfter: now + caValidity,
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(keyIdentifier: keyIdentifier(key.publicKey))
            },
            issuerPrivateKey: .init(key)
        )
        return Issued(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
    }

    /// What a certificate may prove: serving TLS only (the API), or both ends of a connection (peers, which dial
    /// one another and accept one another's connections with the same certificate).
    public enum Usage: Sendable, Equatable {
        case server
        case serverAndClient

        var extendedKeyUsages: [ExtendedKeyUsage.Usage] {
            switch self {
            case .server: [.serverAuth]
            case .serverAndClient: [.serverAuth, .clientAuth]
            }
        }
    }

    /// A server certificate for `hosts` (DNS names or IP literals), signed by `ca`.
    public static func makeServerCertificate(hosts: [String], signedBy ca: Issued, now: Date) throws -> Issued {
        try makeCertificate(name: hosts.first ?? "localhost", hosts: hosts, usage: .server, signedBy: ca, now: now)
    }

    /// A certificate named `name` (its common name) for `hosts`, signed by `ca`, valid for `validity` from `now`.
    public static func makeCertificate(
        name: String,
        hosts: [String],
        usage: Usage,
        signedBy ca: Issued,
        now: Date,
        validity: TimeInterval = serverValidity
    ) throws -> Issued {
        let caCertificate = try Certificate(pemEncoded: ca.certificatePEM)
        let caKey = try P256.Signing.PrivateKey(pemRepresentation: ca.privateKeyPEM)
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("Rill")
            CommonName(name)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(key.publicKey),
            notValidBefore: now - backdating,
            notValidAfter: now + validity,
            issuer: caCertificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage(usage.extendedKeyUsages)
                SubjectAlternativeNames(generalNames(hosts))
                AuthorityKeyIdentifier(keyIdentifier: keyIdentifier(caKey.publicKey))
                SubjectKeyIdentifier(keyIdentifier: keyIdentifier(key.publicKey))
            },
            issuerPrivateKey: .init(caKey)
        )
        return Issued(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
    }

    /// Whether `certificate` still serves `hosts` at `now` for at least `margin` more, signed by `ca`: what lets a
    /// restart keep the certificates it made before.
    public static func serverCertificate(
        _ certificate: Issued,
        covers hosts: [String],
        signedBy ca: Issued,
        now: Date,
        margin: TimeInterval = 30 * 86_400
    ) -> Bool {
        guard let parsed = try? Certificate(pemEncoded: certificate.certificatePEM),
            let caParsed = try? Certificate(pemEncoded: ca.certificatePEM),
            let names = try? parsed.extensions.subjectAlternativeNames
        else { return false }
        return Set(generalNames(hosts)).isSubset(of: Set(names)) && parsed.notValidBefore <= now
            && parsed.notValidAfter > now + margin
            && caParsed.notValidAfter > now + margin
            && caParsed.publicKey.isValidSignature(parsed.signature, for: parsed)
    }

    /// SAN entries: an IPv4 or IPv6 literal becomes an IP address, anything else a DNS name.
    static func generalNames(_ hosts: [String]) -> [GeneralName] {
        var seen = Set<String>()
        return hosts.filter { seen.insert($0).inserted }.map { host in
            if let address = IPAddressBytes.parse(host) {
                return .ipAddress(ASN1OctetString(contentBytes: address[...]))
            }
            return .dnsName(host)
        }
    }

    /// RFC 5280 §4.2.1.2 method (1): the SHA-1 of the public key's bytes.
    static func keyIdentifier(_ key: P256.Signing.PublicKey) -> ArraySlice<UInt8> {
        ArraySlice(Insecure.SHA1.hash(data: key.x963Representation))
    }
}

/// IP literals as the bytes a SAN `iPAddress` holds.
enum IPAddressBytes {
    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
