//! Real TLS: a forge behind a company CA works when the system trust store (here
//! `SSL_CERT_FILE`) holds that CA, with no flag, and fails without it, saving nothing.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::support::fake_forge::{FakeServer, Reply};
use crate::support::*;

const TOKEN: &str = "giteatoken1234567890";

/// A company CA (as PEM) and a GHES-like server for `localhost` whose certificate it signed.
fn company_forge() -> (String, FakeServer) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Corp Internal CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let chain = vec![CertificateDer::from(leaf.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let expected = format!("token {TOKEN}");
    let server = FakeServer::start_tls(chain, key, move |r| {
        if r.path == "/api/v1/user" && r.header("authorization") == Some(expected.as_str()) {
            Reply::json(200, serde_json::json!({"login": "corp-user"}))
        } else {
            Reply::json(401, serde_json::json!({"message": "token is required"}))
        }
    });
    (ca_cert.pem(), server)
}

#[test]
fn a_forge_behind_a_company_ca_works_through_the_trust_store() {
    let env = TestEnv::new();
    let (ca_pem, server) = company_forge();
    let ca_file = env.root.join("corp-ca.pem");
    env.write(&ca_file, &ca_pem);
    // A token made by hand: one request, the token's check.
    let args = [
        "login",
        "git.corp.example",
        "--provider",
        "gitea",
        "--base-url",
        &server.url,
        "--flow",
        "token",
    ];

    // Without the CA, the certificate is refused and nothing is saved.
    let empty_ca = env.root.join("no-ca.pem");
    env.write(&empty_ca, "");
    let before = env.snapshot();
    let out = env
        .cmd()
        .args(args)
        .env("SSL_CERT_FILE", &empty_ca)
        .write_stdin(format!("{TOKEN}\n"))
        .output()
        .unwrap();
    assert_clean_failure(&out, 1);
    assert!(
        stderr(&out).contains("could not check the token"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.snapshot(), before);
    assert!(
        server.requests().is_empty(),
        "no request went through an untrusted connection"
    );

    // With the company CA in the trust store, no flag is needed.
    let out = env
        .cmd()
        .args(args)
        .env("SSL_CERT_FILE", &ca_file)
        .write_stdin(format!("{TOKEN}\n"))
        .output()
        .unwrap();
    assert_success(&out);
    assert!(stderr(&out).contains("as corp-user"), "{}", stderr(&out));
    assert_eq!(server.requests().len(), 1);
}
