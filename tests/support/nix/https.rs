//! An HTTPS/1.1 server on port 443 of its own loopback address, with binary answers (tarballs),
//! recording every request for the test to inspect. The forges of [`super::forge`] run on it.

use std::io::{BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

pub use crate::support::fake_forge::Request;
use crate::support::fake_forge::{read_request, write_answer};

/// An answer: status, headers and body bytes.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Answer {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    pub fn bytes(content_type: &str, body: Vec<u8>) -> Self {
        Answer {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
}

type Handler = dyn Fn(&Request) -> Answer + Send + Sync;

/// A running server; it stops when dropped.
pub struct HttpsServer {
    /// The bare IP address, which is the host in URLs, flake references and token keys.
    pub host: String,
    ip: Ipv4Addr,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl HttpsServer {
    /// Serves `listener` (port 443 of `ip`) through TLS with `tls`.
    pub fn start(
        (listener, ip): (TcpListener, Ipv4Addr),
        tls: Arc<rustls::ServerConfig>,
        handler: impl Fn(&Request) -> Answer + Send + Sync + 'static,
    ) -> Self {
        let handler: Arc<Handler> = Arc::new(handler);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (requests, stop) = (requests.clone(), stop.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(tcp) = stream else { continue };
                    let (requests, handler, tls) = (requests.clone(), handler.clone(), tls.clone());
                    thread::spawn(move || {
                        if let Ok(conn) = rustls::ServerConnection::new(tls) {
                            serve(rustls::StreamOwned::new(conn, tcp), &requests, &*handler);
                        }
                    });
                }
            });
        }
        HttpsServer {
            host: ip.to_string(),
            ip,
            requests,
            stop,
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// `https://HOST`
    pub fn url(&self) -> String {
        format!("https://{}", self.host)
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect((self.ip, 443));
    }
}

/// Reads one request (head and `Content-Length` body), answers it, and closes.
type Tls = rustls::StreamOwned<rustls::ServerConnection, TcpStream>;

fn serve(stream: Tls, requests: &Mutex<Vec<Request>>, handler: &Handler) {
    let mut reader = BufReader::new(stream);
    let Some(request) = read_request(&mut reader) else {
        return;
    };
    requests.lock().unwrap().push(request.clone());
    let answer = handler(&request);
    let mut stream = reader.into_inner();
    let head_only = request.method == "HEAD";
    write_answer(
        &mut stream,
        answer.status,
        &answer.headers,
        &answer.body,
        head_only,
    );
    // A clean TLS close, so that the client reads the whole answer.
    stream.conn.send_close_notify();
    let _ = stream.flush();
}
