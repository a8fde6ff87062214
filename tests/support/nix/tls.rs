//! A test certificate authority, and listeners on port 443 of their own loopback address, so that
//! a forge's host is a bare IP address with no port, as a real forge's host is a bare name.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A CA that signs one certificate per server; Nix trusts it through `NIX_SSL_CERT_FILE`, git
/// through `GIT_SSL_CAINFO` and nix-tokens through `SSL_CERT_FILE`.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pub pem: String,
}

impl TestCa {
    pub fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "nix-tokens test CA");
        let pem = params.self_signed(&key).unwrap().pem();
        TestCa {
            issuer: Issuer::new(params, key),
            pem,
        }
    }

    /// Writes the CA certificate (PEM) to `path`.
    pub fn write(&self, path: &Path) {
        std::fs::write(path, &self.pem).unwrap();
    }

    /// A TLS server configuration for the names (host names or IP addresses) in `names`.
    pub fn server_config(&self, names: &[&str]) -> Arc<rustls::ServerConfig> {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &self.issuer)
            .unwrap();
        let chain = vec![CertificateDer::from(cert.der().to_vec())];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("a usable test certificate");
        Arc::new(config)
    }
}

/// The next loopback address to try, counted across the whole test run.
static NEXT: AtomicU32 = AtomicU32::new(0);

/// A listener on port 443 of a loopback address no other server uses (`127.0.X.Y`), or `None`
/// when port 443 cannot be bound (not root) outside CI; on CI that fails the test.
pub fn listen_443() -> Option<(TcpListener, Ipv4Addr)> {
    // Start at an address that depends on the process, so that two test runs at once rarely try
    // the same addresses; an address in use is skipped.
    let base = std::process::id() % 100 * 400;
    for _ in 0..2000 {
        let n = base + NEXT.fetch_add(1, Ordering::SeqCst);
        let ip = Ipv4Addr::new(127, 1 + (n / 250 % 200) as u8, 0, 1 + (n % 250) as u8);
        match TcpListener::bind(SocketAddrV4::new(ip, 443)) {
            Ok(listener) => return Some((listener, ip)),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
            Err(e) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CI runs the tests as root, so that servers can listen on port 443: binding {ip}:443 failed: {e}"
                );
                eprintln!(
                    "skipping: cannot listen on {ip}:443 ({e}); the real-fetch tests need root"
                );
                return None;
            }
        }
    }
    panic!("no free loopback address for port 443");
}
