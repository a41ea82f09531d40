//! A small local token server (std `TcpListener` + threads) speaking the
//! protocols of the three token endpoints the provider signers use, since
//! the real ones cannot be reached from tests:
//!
//! - Planetary Computer SAS: `GET /api/sas/v1/token/<account>/<container>` →
//!   `{"token": "st=…&se=…&sp=rl&sv=…&sr=c&sig=…", "msft:expiry": "<RFC 3339>"}`
//!   (optionally requiring `Ocp-Apim-Subscription-Key`);
//! - Earthdata: `POST /api/users/find_or_create_token` with HTTP basic auth →
//!   `{"access_token", "token_type": "Bearer", "expiration_date"}`;
//! - CDSE (Keycloak OAuth2): `POST /auth/realms/CDSE/protocol/openid-connect/token`,
//!   form `grant_type=password` (client_id, username, password) or
//!   `grant_type=refresh_token` (client_id, refresh_token) →
//!   `{"access_token", "refresh_token", "expires_in", "token_type": "Bearer"}`;
//!   unknown refresh token → 400 `{"error": "invalid_grant"}`.
//!
//! Tokens are `<prefix><n>` with a per-endpoint counter (or one fixed value,
//! see [`TokenServerConfig::fixed_token`]), so tests can tell mints apart and
//! count them. Failures can be switched on at run time.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// Which endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// Planetary Computer SAS tokens.
    Pc,
    /// Earthdata find_or_create_token.
    Earthdata,
    /// CDSE OAuth2 token endpoint (both grants).
    Cdse,
}

/// How an endpoint misbehaves when told to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Answer with this HTTP status and `{"error": "server_error"}`.
    Status(u16),
    /// Answer 200 with a body that is not JSON.
    Malformed,
    /// Answer 200 with a JSON object lacking the token field.
    MissingToken,
    /// Answer with this status and an error body that echoes the
    /// credential the request carried, as the `error` code and in the
    /// description: the PC subscription key, Earthdata's base64
    /// `user:password`, the CDSE password.
    Echo(u16),
}

/// Server settings.
#[derive(Debug, Clone)]
pub struct TokenServerConfig {
    /// Lifetime of PC SAS tokens (`msft:expiry` = now + this).
    pub pc_ttl: Duration,
    /// Leave `msft:expiry` out of PC responses.
    pub pc_omit_expiry: bool,
    /// Require this `Ocp-Apim-Subscription-Key` on PC requests (else 401).
    pub pc_subscription_key: Option<String>,
    /// Earthdata username and password.
    pub earthdata_login: (String, String),
    /// Lifetime of Earthdata tokens (`expiration_date` = now + this).
    pub earthdata_ttl: Duration,
    /// CDSE username and password.
    pub cdse_login: (String, String),
    /// CDSE client id expected.
    pub cdse_client_id: String,
    /// CDSE `expires_in` seconds.
    pub cdse_expires_in: u64,
    /// Every access token / PC `sig` is this value instead of `<prefix><n>`.
    pub fixed_token: Option<String>,
    /// Sleep this long before answering a mint (lets concurrent callers overlap).
    pub delay: Duration,
    /// Successful answers also echo the credential the request carried
    /// (field `echo`), as a careless server might.
    pub echo_on_success: bool,
}

impl Default for TokenServerConfig {
    fn default() -> Self {
        Self {
            pc_ttl: Duration::from_secs(3600),
            pc_omit_expiry: false,
            pc_subscription_key: None,
            earthdata_login: ("edl-user".into(), "edl-pass".into()),
            earthdata_ttl: Duration::from_secs(3600),
            cdse_login: ("cdse-user".into(), "cdse-pass".into()),
            cdse_client_id: "cdse-public".into(),
            cdse_expires_in: 600,
            fixed_token: None,
            delay: Duration::ZERO,
            echo_on_success: false,
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Which endpoint (None: unknown path).
    pub endpoint: Option<Endpoint>,
    /// Method.
    pub method: String,
    /// Path (with query).
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: HashMap<String, String>,
    /// Body.
    pub body: String,
}

#[derive(Default)]
struct State {
    counters: HashMap<&'static str, usize>,
    pc_by_target: HashMap<(String, String), usize>,
    failures: HashMap<Endpoint, Failure>,
    fail_refresh: bool,
    refresh_tokens: HashSet<String>,
    requests: Vec<Recorded>,
}

/// The running server; stopped when dropped.
pub struct TokenServer {
    port: u16,
    config: Arc<TokenServerConfig>,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TokenServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenServer")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl TokenServer {
    /// Start on a free 127.0.0.1 port.
    pub fn start(config: TokenServerConfig) -> TokenServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind token server");
        let port = listener.local_addr().expect("local addr").port();
        let config = Arc::new(config);
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let (config, state, stop) = (config.clone(), state.clone(), stop.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (config, state) = (config.clone(), state.clone());
                    std::thread::spawn(move || {
                        let _ = handle(conn, &config, &state);
                    });
                }
            })
        };
        TokenServer {
            port,
            config,
            state,
            stop,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The PC SAS endpoint (give it as `sas_url`).
    pub fn pc_sas_url(&self) -> String {
        format!("{}/api/sas/v1/token", self.base_url())
    }

    /// The Earthdata find_or_create_token endpoint.
    pub fn earthdata_url(&self) -> String {
        format!("{}/api/users/find_or_create_token", self.base_url())
    }

    /// The CDSE token endpoint.
    pub fn cdse_url(&self) -> String {
        format!(
            "{}/auth/realms/CDSE/protocol/openid-connect/token",
            self.base_url()
        )
    }

    /// The settings it runs with.
    pub fn config(&self) -> &TokenServerConfig {
        &self.config
    }

    /// How many tokens were issued: `"pc"`, `"earthdata"`, `"cdse-password"`,
    /// `"cdse-refresh"` (successful grants only), or `"requests"` (all requests).
    pub fn count(&self, what: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .counters
            .get(what)
            .copied()
            .unwrap_or(0)
    }

    /// How many SAS tokens were issued for one (account, container).
    pub fn pc_count(&self, account: &str, container: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .pc_by_target
            .get(&(account.to_owned(), container.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Make an endpoint fail (`None`: behave again).
    pub fn set_failure(&self, endpoint: Endpoint, failure: Option<Failure>) {
        let mut s = self.state.lock().unwrap();
        match failure {
            Some(f) => s.failures.insert(endpoint, f),
            None => s.failures.remove(&endpoint),
        };
    }

    /// Make every CDSE refresh grant fail with 400 `invalid_grant` (password grants still work).
    pub fn set_refresh_failing(&self, on: bool) {
        self.state.lock().unwrap().fail_refresh = on;
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    // Days → civil date (Howard Hinnant's algorithm), no chrono needed here.
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_form(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn decode_basic(header: &str) -> Option<(String, String)> {
    let b64 = header.strip_prefix("Basic ")?.trim();
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits: u32 = 0;
    let mut nbits = 0;
    let mut out = Vec::new();
    for c in b64.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        bits = (bits << 6) | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    let text = String::from_utf8(out).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

fn respond(conn: &mut TcpStream, status: u16, body: &str) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    write!(
        conn,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    conn.flush()
}

fn handle(
    mut conn: TcpStream,
    config: &TokenServerConfig,
    state: &Mutex<State>,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let path = parts.next().unwrap_or("").to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len.min(1 << 20)];
    reader.read_exact(&mut body)?;
    let body = String::from_utf8_lossy(&body).into_owned();

    let route = path.split('?').next().unwrap_or("");
    let endpoint = if method == "GET" && route.starts_with("/api/sas/v1/token/") {
        Some(Endpoint::Pc)
    } else if method == "POST" && route == "/api/users/find_or_create_token" {
        Some(Endpoint::Earthdata)
    } else if method == "POST" && route == "/auth/realms/CDSE/protocol/openid-connect/token" {
        Some(Endpoint::Cdse)
    } else {
        None
    };
    let failure = {
        let mut s = state.lock().unwrap();
        *s.counters.entry("requests").or_default() += 1;
        s.requests.push(Recorded {
            endpoint,
            method: method.clone(),
            path: path.clone(),
            headers: headers.clone(),
            body: body.clone(),
        });
        endpoint.and_then(|e| s.failures.get(&e).copied())
    };
    let Some(endpoint) = endpoint else {
        return respond(&mut conn, 404, r#"{"error":"not_found"}"#);
    };
    if !config.delay.is_zero() {
        std::thread::sleep(config.delay);
    }
    // The credential this request carried, as a careless server echoes it.
    let credential = match endpoint {
        Endpoint::Pc => headers
            .get("ocp-apim-subscription-key")
            .cloned()
            .unwrap_or_default(),
        Endpoint::Earthdata => headers
            .get("authorization")
            .and_then(|h| h.strip_prefix("Basic "))
            .unwrap_or_default()
            .to_owned(),
        Endpoint::Cdse => parse_form(&body)
            .get("password")
            .cloned()
            .unwrap_or_default(),
    };
    match failure {
        Some(Failure::Echo(code)) => {
            let body = serde_json::json!({
                "error": credential,
                "error_description": format!("the credential {credential} was refused"),
            });
            return respond(&mut conn, code, &body.to_string());
        }
        Some(Failure::Status(code)) => {
            return respond(&mut conn, code, r#"{"error":"server_error"}"#);
        }
        Some(Failure::Malformed) => return respond(&mut conn, 200, "<html>oops</html>"),
        Some(Failure::MissingToken) => return respond(&mut conn, 200, r#"{"note":"no token"}"#),
        None => {}
    }
    let token = |prefix: &str, n: usize| {
        config
            .fixed_token
            .clone()
            .unwrap_or_else(|| format!("{prefix}{n}"))
    };
    let bump = |key: &'static str| {
        let mut s = state.lock().unwrap();
        let c = s.counters.entry(key).or_default();
        *c += 1;
        *c
    };
    match endpoint {
        Endpoint::Pc => {
            if let Some(key) = &config.pc_subscription_key {
                if headers.get("ocp-apim-subscription-key") != Some(key) {
                    return respond(&mut conn, 401, r#"{"error":"invalid_subscription_key"}"#);
                }
            }
            let rest = &route["/api/sas/v1/token/".len()..];
            let mut segs = rest.split('/').map(percent_decode);
            let (Some(account), Some(container)) = (segs.next(), segs.next()) else {
                return respond(&mut conn, 404, r#"{"error":"not_found"}"#);
            };
            let n = bump("pc");
            *state
                .lock()
                .unwrap()
                .pc_by_target
                .entry((account.clone(), container.clone()))
                .or_default() += 1;
            let expiry = SystemTime::now() + config.pc_ttl;
            let sas = format!(
                "st={}&se={}&sp=rl&sv=2021-06-08&sr=c&skoid={account}&sig={}",
                rfc3339(SystemTime::now()).replace(':', "%3A"),
                rfc3339(expiry).replace(':', "%3A"),
                token(&format!("pc-{container}-"), n)
            );
            let mut body = if config.pc_omit_expiry {
                serde_json::json!({ "token": sas })
            } else {
                serde_json::json!({ "token": sas, "msft:expiry": rfc3339(expiry) })
            };
            if config.echo_on_success {
                body["echo"] = credential.clone().into();
            }
            respond(&mut conn, 200, &body.to_string())
        }
        Endpoint::Earthdata => {
            let ok = headers
                .get("authorization")
                .and_then(|h| decode_basic(h))
                .is_some_and(|(u, p)| (u, p) == config.earthdata_login);
            if !ok {
                return respond(&mut conn, 401, r#"{"error":"invalid_credentials"}"#);
            }
            let n = bump("earthdata");
            let mut body = serde_json::json!({
                "access_token": token("edl-", n),
                "token_type": "Bearer",
                "expiration_date": rfc3339(SystemTime::now() + config.earthdata_ttl),
            });
            if config.echo_on_success {
                body["echo"] = credential.clone().into();
            }
            respond(&mut conn, 200, &body.to_string())
        }
        Endpoint::Cdse => {
            let form = parse_form(&body);
            if form.get("client_id") != Some(&config.cdse_client_id) {
                return respond(&mut conn, 401, r#"{"error":"invalid_client"}"#);
            }
            let key = match form.get("grant_type").map(String::as_str) {
                Some("password") => {
                    let ok = form.get("username") == Some(&config.cdse_login.0)
                        && form.get("password") == Some(&config.cdse_login.1);
                    if !ok {
                        return respond(&mut conn, 401, r#"{"error":"invalid_grant"}"#);
                    }
                    "cdse-password"
                }
                Some("refresh_token") => {
                    let mut s = state.lock().unwrap();
                    let presented = form.get("refresh_token").cloned().unwrap_or_default();
                    if s.fail_refresh || !s.refresh_tokens.remove(&presented) {
                        drop(s);
                        return respond(&mut conn, 400, r#"{"error":"invalid_grant"}"#);
                    }
                    "cdse-refresh"
                }
                _ => return respond(&mut conn, 400, r#"{"error":"unsupported_grant_type"}"#),
            };
            let n = bump(key);
            let all = bump("cdse");
            let refresh = format!("cdse-refresh-{all}");
            state.lock().unwrap().refresh_tokens.insert(refresh.clone());
            let mut body = serde_json::json!({
                "access_token": token("cdse-access-", all),
                "refresh_token": refresh,
                "expires_in": config.cdse_expires_in,
                "refresh_expires_in": 3600,
                "token_type": "Bearer",
                "grant_number": n,
            });
            if config.echo_on_success {
                body["echo"] = credential.clone().into();
            }
            respond(&mut conn, 200, &body.to_string())
        }
    }
}
