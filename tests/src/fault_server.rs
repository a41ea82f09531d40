//! A tiny HTTP/1.1 server of ours (std `TcpListener` + one thread per
//! connection) whose answers a test scripts, so faults are reproducible:
//! error statuses with `Retry-After`, connections dropped mid-body,
//! malformed pages, looping links, slow responses.
//!
//! Every request is recorded; the highest number of requests in flight at
//! once and the body bytes sent are tracked. Each connection serves one
//! request (`Connection: close`); a `HEAD` gets the head only. The listener
//! thread stops when the server is dropped.
//!
//! [`Reply::bytes`] serves a file with `Range` support (for GDAL's
//! `/vsicurl/` and resumed downloads), [`Reply::Stream`] drips or floods a
//! body, [`Reply::redirect`] points elsewhere, and [`FaultServer::start_on`]
//! binds another loopback address (`127.0.0.2`) to play a foreign host.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path with its query (`/search?limit=2`).
    pub target: String,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// A header's value (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `Range: bytes=START-[END]` asked for, if any.
    pub fn range(&self) -> Option<(usize, Option<usize>)> {
        let spec = self.header("range")?.trim().strip_prefix("bytes=")?;
        let (a, b) = spec.split_once('-')?;
        let start = a.trim().parse().ok()?;
        let end = match b.trim() {
            "" => None,
            e => Some(e.parse().ok()?),
        };
        Some((start, end))
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// What to answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete response.
    Full {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body.
        body: Vec<u8>,
    },
    /// Announce `declared` bytes of body, send `body`, then close the
    /// connection (a connection dropped mid-body).
    Truncated {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// The Content-Length announced.
        declared: usize,
        /// The bytes actually sent.
        body: Vec<u8>,
    },
    /// Close the connection without answering.
    Close,
    /// Send `chunk` `count` times, sleeping `delay` between pieces (a slow
    /// body, a stall after the first piece, or a huge body generated on the
    /// fly). `content_length: None`
    /// sends no `Content-Length` (the body ends when the connection closes).
    /// Stops early when the client goes away.
    Stream {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// The `Content-Length` announced, if any.
        content_length: Option<usize>,
        /// The repeated piece.
        chunk: Vec<u8>,
        /// How many pieces.
        count: usize,
        /// The pause between pieces.
        delay: Duration,
    },
    /// Send `body` (with its `Content-Length`) in pieces of `piece` bytes,
    /// sleeping `delay` between pieces (a slow download). Stops early when
    /// the client goes away.
    Paced {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
        /// Bytes per piece.
        piece: usize,
        /// The pause between pieces.
        delay: Duration,
    },
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json(value: &serde_json::Value) -> Self {
        Self::Full {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
        }
    }

    /// A status with a short text body and extra headers.
    pub fn status(status: u16, headers: &[(&str, &str)]) -> Self {
        Self::Full {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: format!("status {status}").into_bytes(),
        }
    }

    /// A redirect (`301`, `302`, `303`, `307`, `308`) to `location`.
    pub fn redirect(status: u16, location: &str) -> Self {
        Self::status(status, &[("Location", location)])
    }

    /// `data` as a file with a strong `ETag` (`"<etag>"`), as a static file
    /// server sends it: a `Range` is honoured only when an `If-Range`
    /// header is absent or names this ETag (else the whole file, `200`).
    pub fn file(request: &Request, data: &[u8], etag: &str) -> Self {
        let tag = format!("\"{etag}\"");
        let honour = request.header("if-range").is_none_or(|v| v.trim() == tag);
        let mut reply = if honour {
            Self::bytes(request, data)
        } else {
            Self::Full {
                status: 200,
                headers: vec![("Accept-Ranges".to_owned(), "bytes".to_owned())],
                body: data.to_vec(),
            }
        };
        if let Self::Full { headers, .. } = &mut reply {
            headers.push(("ETag".to_owned(), tag));
        }
        reply
    }

    /// `data` as a file: `206` with `Content-Range` for a `Range: bytes=a-b`
    /// (or `a-`) request, `416` for a range past the end, else `200`.
    pub fn bytes(request: &Request, data: &[u8]) -> Self {
        let len = data.len();
        let mut headers = vec![("Accept-Ranges".to_owned(), "bytes".to_owned())];
        match request.range() {
            Some((start, _)) if start >= len => Self::Full {
                status: 416,
                headers: vec![("Content-Range".into(), format!("bytes */{len}"))],
                body: Vec::new(),
            },
            Some((start, end)) => {
                let end = end.map_or(len - 1, |e| e.min(len - 1));
                headers.push(("Content-Range".into(), format!("bytes {start}-{end}/{len}")));
                Self::Full {
                    status: 206,
                    headers,
                    body: data[start..=end].to_vec(),
                }
            }
            None => Self::Full {
                status: 200,
                headers,
                body: data.to_vec(),
            },
        }
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// The running server.
pub struct FaultServer {
    host: String,
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    max_in_flight: Arc<AtomicUsize>,
    sent: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for FaultServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultServer")
            .field("port", &self.port)
            .finish()
    }
}

impl FaultServer {
    /// Start on a free 127.0.0.1 port; `handler` answers every request
    /// (it may sleep to simulate a slow server).
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_on("127.0.0.1", handler)
    }

    /// Start on a free port of another loopback address (e.g. `127.0.0.2`,
    /// a host other than `127.0.0.1` for host-scoping tests).
    pub fn start_on(ip: &str, handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("bind {ip}:0: {e}"));
        let port = listener.local_addr().expect("local addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let sent = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let thread = {
            let (requests, max_in_flight, stop, sent) = (
                requests.clone(),
                max_in_flight.clone(),
                stop.clone(),
                sent.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let counters = Counters {
                                in_flight: in_flight.clone(),
                                max_in_flight: max_in_flight.clone(),
                                sent: sent.clone(),
                            };
                            let (requests, handler) = (requests.clone(), handler.clone());
                            std::thread::spawn(move || {
                                serve(stream, &requests, &*handler, &counters)
                            });
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        Self {
            host: ip.to_owned(),
            port,
            requests,
            max_in_flight,
            sent,
            stop,
            thread: Some(thread),
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://<ip>:<port><path>` (`127.0.0.1` unless started with
    /// [`start_on`](Self::start_on)).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}:{}{path}", self.host, self.port)
    }

    /// Body bytes written to clients so far (all replies).
    pub fn bytes_sent(&self) -> usize {
        self.sent.load(Ordering::SeqCst)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("requests lock").clone()
    }

    /// The requests whose path is `path`.
    pub fn requests_to(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path() == path)
            .collect()
    }

    /// The most requests that were being answered at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Counters {
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    sent: Arc<AtomicUsize>,
}

fn serve(stream: TcpStream, requests: &Mutex<Vec<Request>>, handler: &Handler, c: &Counters) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let Some(request) = read_request(&stream) else {
        return;
    };
    requests
        .lock()
        .expect("requests lock")
        .push(request.clone());
    let now = c.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    c.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let reply = handler(&request);
    c.in_flight.fetch_sub(1, Ordering::SeqCst);
    let head_only = request.method.eq_ignore_ascii_case("HEAD");
    let mut stream = stream;
    let head = |status: u16, headers: &[(String, String)], len: Option<usize>| {
        let mut h = format!("HTTP/1.1 {status} {}\r\n", reason(status));
        for (k, v) in headers {
            h.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(len) = len {
            h.push_str(&format!("Content-Length: {len}\r\n"));
        }
        h.push_str("Connection: close\r\n\r\n");
        h
    };
    let send = |stream: &mut TcpStream, bytes: &[u8]| -> bool {
        if head_only {
            return true;
        }
        let ok = stream.write_all(bytes).is_ok();
        if ok {
            c.sent.fetch_add(bytes.len(), Ordering::SeqCst);
        }
        ok
    };
    match reply {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let _ = stream.write_all(head(status, &headers, Some(body.len())).as_bytes());
            send(&mut stream, &body);
        }
        Reply::Truncated {
            status,
            headers,
            declared,
            body,
        } => {
            let _ = stream.write_all(head(status, &headers, Some(declared)).as_bytes());
            send(&mut stream, &body);
            let _ = stream.flush();
        }
        Reply::Stream {
            status,
            headers,
            content_length,
            chunk,
            count,
            delay,
        } => {
            let _ = stream.write_all(head(status, &headers, content_length).as_bytes());
            let _ = stream.flush();
            for i in 0..count {
                if i > 0 && !delay.is_zero() {
                    std::thread::sleep(delay);
                }
                if head_only || !send(&mut stream, &chunk) {
                    break;
                }
                let _ = stream.flush();
            }
        }
        Reply::Paced {
            status,
            headers,
            body,
            piece,
            delay,
        } => {
            let _ = stream.write_all(head(status, &headers, Some(body.len())).as_bytes());
            let _ = stream.flush();
            for (i, part) in body.chunks(piece.max(1)).enumerate() {
                if i > 0 && !delay.is_zero() {
                    std::thread::sleep(delay);
                }
                if head_only || !send(&mut stream, part) {
                    break;
                }
                let _ = stream.flush();
            }
        }
        Reply::Close => {}
    }
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        403 => "Forbidden",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
