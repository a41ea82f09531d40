//! Every signer that carries a credential, set up against real servers on
//! two origins of one nginx ([`crate::origins`]), for the GDAL scoping and
//! secret-sweep tests (`tests/tests/scoping_gdal.rs`):
//!
//! | signer | origin `data` (the credential's) | credential on the wire |
//! |---|---|---|
//! | bearer | `/private/` needs `Authorization: Bearer <token>` | header |
//! | Earthdata | same, token minted by [`TokenServer`] from a login | header |
//! | CDSE | same, token minted by [`TokenServer`] (password grant) | header |
//! | Planetary Computer | `/sas/` needs `?sig=<SAS>`, SAS minted by [`TokenServer`] | query |
//! | AWS SigV4 | `proxy_pass` to a real [`Seaweed`] S3 that checks signatures | SigV4 header |
//!
//! Origin `other` serves the same directory with no credential needed and
//! logs every request: it must never see a credential. Origin `data`
//! answers `302` from `/to-other/` (S3: `/testbucket/to-other/`) to
//! `other`, so a redirect to another origin can be checked too. Each signer
//! is scoped to `data` by `host:port` (and plain http allowed there only),
//! exactly as the CLI's `--host` / `--allow-http` say. A second, *wrong*
//! signer with the same scope fails (wrong token, wrong password, wrong
//! SAS, wrong secret key), for the failure paths of the sweep.
//!
//! [`Corpus`] collects everything a run prints, returns or writes, and
//! checks that no secret is in it.

use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use stac_signers::{
    AwsCredentials, AwsOptions, AwsRequesterPaysSigner, BearerTokenSigner, CdseOptions, CdseSigner,
    EarthdataOptions, EarthdataSigner, GdalEnv, HostList, PcOptions, PlanetaryComputerSigner,
    Secret, Signer, SignerError,
};

use crate::origins::{OriginSpec, Origins};
use crate::seaweed::{ACCESS_KEY, BUCKET, REGION, SECRET_KEY, Seaweed};
use crate::token_server::{TokenServer, TokenServerConfig};

/// A configured bearer token.
pub const BEARER_TOKEN: &str = "bearer-TOKEN-3f9c-SECRET";
/// The Earthdata password (the token server mints [`EDL_TOKEN`] from it).
pub const EDL_PASSWORD: &str = "edl-PASSWORD-51aa-SECRET";
/// The Earthdata token the server mints.
pub const EDL_TOKEN: &str = "edl-TOKEN-7d20-SECRET";
/// The CDSE password (the token server mints [`CDSE_TOKEN`] from it).
pub const CDSE_PASSWORD: &str = "cdse-PASSWORD-0b6e-SECRET";
/// The CDSE access token the server mints.
pub const CDSE_TOKEN: &str = "cdse-TOKEN-c41d-SECRET";
/// The `sig` of every SAS the Planetary Computer token server mints.
pub const PC_SAS: &str = "pcsas-SIG-8e12-SECRET";
/// The `sig` a second, wrong PC token server mints.
pub const PC_WRONG_SAS: &str = "pcsas-WRONG-2c77-SECRET";
/// A wrong AWS secret key (SeaweedFS refuses its signatures).
pub const AWS_WRONG_SECRET: &str = "wrongsecret-AWS-5f5f5f5f5f5f5f5f5f5f5f5f5f";
/// The Azure container the PC hrefs name.
pub const PC_BLOB: &str = "https://pcscope.blob.core.windows.net/cont/";

/// Which signer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// [`BearerTokenSigner`].
    Bearer,
    /// [`EarthdataSigner`] (login, token minted).
    Earthdata,
    /// [`CdseSigner`] (password grant).
    Cdse,
    /// [`PlanetaryComputerSigner`] (SAS minted per container).
    PlanetaryComputer,
    /// [`AwsRequesterPaysSigner`] (SigV4 through GDAL's `/vsis3/`).
    Aws,
}

impl Kind {
    /// Every signer that carries a credential.
    pub const ALL: [Kind; 5] = [
        Kind::Bearer,
        Kind::Earthdata,
        Kind::Cdse,
        Kind::PlanetaryComputer,
        Kind::Aws,
    ];

    /// A short name for labels.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Bearer => "bearer",
            Kind::Earthdata => "earthdata",
            Kind::Cdse => "cdse",
            Kind::PlanetaryComputer => "pc",
            Kind::Aws => "aws",
        }
    }
}

/// The real Planetary Computer signer (SAS minted by our token server),
/// with the signed Azure href pointed at origin `data`'s `/sas/` (which
/// checks `sig=`), since Azure is out of reach. Everything else is the
/// real signer's.
#[derive(Debug)]
pub struct PcViaOrigin {
    pc: PlanetaryComputerSigner,
    to: String,
}

impl PcViaOrigin {
    /// `pc`, with signed `PC_BLOB` hrefs rewritten to `to` (a URL prefix).
    pub fn new(pc: PlanetaryComputerSigner, to: String) -> Self {
        Self { pc, to }
    }
}

impl Signer for PcViaOrigin {
    fn name(&self) -> &str {
        self.pc.name()
    }
    fn sign_request(&self, request: &mut stac_signers::Request) -> Result<(), SignerError> {
        self.pc.sign_request(request)
    }
    fn sign_href(&self, href: &str) -> Result<String, SignerError> {
        Ok(self.pc.sign_href(href)?.replace(PC_BLOB, &self.to))
    }
    fn gdal_env_for(&self, href: &str) -> Result<GdalEnv, SignerError> {
        self.pc.gdal_env_for(href)
    }
    fn allows_url(&self, url: &str) -> bool {
        self.pc.allows_url(url)
    }
    fn secrets(&self) -> Vec<Secret> {
        self.pc.secrets()
    }
}

/// One signer against its servers: see the module docs.
pub struct SignerCase {
    /// Which signer.
    pub kind: Kind,
    /// Origins `data` and `other`.
    pub origins: Origins,
    /// The signer, scoped to `data`.
    pub signer: Arc<dyn Signer>,
    /// The same signer with a wrong credential.
    pub wrong: Arc<dyn Signer>,
    /// Extra GDAL config every read needs (the S3 endpoint).
    pub env: GdalEnv,
    tokens: Option<TokenServer>,
    _wrong_tokens: Option<TokenServer>,
    _s3: Option<Seaweed>,
}

impl Debug for SignerCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignerCase")
            .field("kind", &self.kind)
            .field("origins", &self.origins)
            .finish_non_exhaustive()
    }
}

impl SignerCase {
    /// Start the servers of `kind` over the files in `root` (every `*.tif`
    /// is also uploaded to S3 for [`Kind::Aws`]).
    pub fn start(kind: Kind, root: &Path) -> SignerCase {
        let token_server = |token: &str| {
            TokenServer::start(TokenServerConfig {
                earthdata_login: ("edl-user".into(), EDL_PASSWORD.into()),
                cdse_login: ("cdse-user".into(), CDSE_PASSWORD.into()),
                fixed_token: Some(token.into()),
                ..TokenServerConfig::default()
            })
        };
        let files = |name: &str, secret: &str| {
            OriginSpec::files(name, root)
                .bearer(secret)
                .redirect("/to-other/", "other", "/")
        };
        let other = OriginSpec::files("other", root);
        let (origins, tokens, wrong_tokens, s3) =
            match kind {
                Kind::Bearer => (
                    Origins::start(vec![files("data", BEARER_TOKEN), other]),
                    None,
                    None,
                    None,
                ),
                Kind::Earthdata => (
                    Origins::start(vec![files("data", EDL_TOKEN), other]),
                    Some(token_server(EDL_TOKEN)),
                    None,
                    None,
                ),
                Kind::Cdse => (
                    Origins::start(vec![files("data", CDSE_TOKEN), other]),
                    Some(token_server(CDSE_TOKEN)),
                    None,
                    None,
                ),
                Kind::PlanetaryComputer => (
                    Origins::start(vec![files("data", PC_SAS), other]),
                    Some(token_server(PC_SAS)),
                    Some(token_server(PC_WRONG_SAS)),
                    None,
                ),
                Kind::Aws => {
                    let s3 = Seaweed::start();
                    for entry in std::fs::read_dir(root).expect("list the served files") {
                        let path = entry.expect("dir entry").path();
                        if path.extension().is_some_and(|e| e == "tif") {
                            let name = path.file_name().unwrap().to_string_lossy().into_owned();
                            s3.put(&path, &name);
                        }
                    }
                    let origins =
                        Origins::start(vec![
                            OriginSpec::proxy("data", &format!("http://{}", s3.endpoint()))
                                .redirect(&format!("/{BUCKET}/to-other/"), "other", "/"),
                            other,
                        ]);
                    (origins, None, None, Some(s3))
                }
            };
        let data = origins.host_port("data");
        let scope =
            || HostList::new([data.clone()]).with_allow_http([data.parse().expect("an origin")]);
        let (signer, wrong): (Arc<dyn Signer>, Arc<dyn Signer>) = match kind {
            Kind::Bearer => (
                Arc::new(BearerTokenSigner::new(BEARER_TOKEN).with_hosts(scope())),
                Arc::new(BearerTokenSigner::new("bearer-wrong-token").with_hosts(scope())),
            ),
            Kind::Earthdata => {
                let url = tokens.as_ref().unwrap().earthdata_url();
                let make = |password: &str| -> Arc<dyn Signer> {
                    Arc::new(EarthdataSigner::with_options(
                        EarthdataOptions::default()
                            .with_login("edl-user", password)
                            .with_token_url(&url)
                            .with_hosts(scope()),
                    ))
                };
                (make(EDL_PASSWORD), make("edl-wrong-password"))
            }
            Kind::Cdse => {
                let url = tokens.as_ref().unwrap().cdse_url();
                let make = |password: &str| -> Arc<dyn Signer> {
                    Arc::new(CdseSigner::with_options(
                        CdseOptions::default()
                            .with_login("cdse-user", password)
                            .with_token_url(&url)
                            .with_hosts(scope()),
                    ))
                };
                (make(CDSE_PASSWORD), make("cdse-wrong-password"))
            }
            Kind::PlanetaryComputer => {
                let make = |server: &TokenServer| -> Arc<dyn Signer> {
                    Arc::new(PcViaOrigin::new(
                        PlanetaryComputerSigner::with_options(
                            PcOptions::default().with_sas_url(server.pc_sas_url()),
                        ),
                        origins.url("data", "/sas/"),
                    ))
                };
                (
                    make(tokens.as_ref().unwrap()),
                    make(wrong_tokens.as_ref().unwrap()),
                )
            }
            Kind::Aws => {
                let make = |secret: &str| -> Arc<dyn Signer> {
                    Arc::new(AwsRequesterPaysSigner::with_options(
                        Some(REGION),
                        AwsOptions::default()
                            .with_credentials(AwsCredentials::new(ACCESS_KEY, secret))
                            .with_hosts(HostList::new([data.clone()])),
                    ))
                };
                (make(SECRET_KEY), make(AWS_WRONG_SECRET))
            }
        };
        let env = match kind {
            Kind::Aws => GdalEnv::new()
                .with("AWS_S3_ENDPOINT", data.as_str())
                .with("AWS_HTTPS", "NO")
                .with("AWS_VIRTUAL_HOSTING", "FALSE"),
            _ => GdalEnv::new(),
        };
        SignerCase {
            kind,
            origins,
            signer,
            wrong,
            env,
            tokens,
            _wrong_tokens: wrong_tokens,
            _s3: s3,
        }
    }

    /// The href (as an item names it) of `file` on origin `data`: the
    /// signer signs it, `data` serves it only with the credential.
    pub fn data_href(&self, file: &str) -> String {
        match self.kind {
            Kind::PlanetaryComputer => format!("{PC_BLOB}{file}"),
            Kind::Aws => format!("s3://{BUCKET}/{file}"),
            _ => self.origins.url("data", &format!("/private/{file}")),
        }
    }

    /// The href of `file` on origin `data` as the CLI reads it: as
    /// [`data_href`](Self::data_href), but for Planetary Computer the href
    /// signed already (as `search --sign-items` prints it), since the CLI's
    /// signer signs real Azure hrefs only.
    pub fn cli_data_href(&self, file: &str) -> String {
        match self.kind {
            Kind::PlanetaryComputer => self
                .origins
                .url("data", &format!("/sas/{file}?st=2021&sp=rl&sig={PC_SAS}")),
            _ => self.data_href(file),
        }
    }

    /// The href of `file` on origin `other` (no credential needed).
    pub fn other_href(&self, file: &str) -> String {
        self.origins.url("other", &format!("/{file}"))
    }

    /// An href on origin `data` (signed) that answers `302` to `file` on
    /// origin `other`. `None` for Planetary Computer: its credential is
    /// part of the URL, and what a redirect carries of it is the server's
    /// choice.
    pub fn redirect_href(&self, file: &str) -> Option<String> {
        match self.kind {
            Kind::PlanetaryComputer => None,
            Kind::Aws => Some(format!("s3://{BUCKET}/to-other/{file}")),
            _ => Some(self.origins.url("data", &format!("/to-other/{file}"))),
        }
    }

    /// The CLI arguments that build this signer, scoped like
    /// [`signer`](Self::signer) (`--host host:port`, `--allow-http`).
    pub fn cli_args(&self) -> Vec<String> {
        let data = self.origins.host_port("data");
        let mut args: Vec<String> = match self.kind {
            Kind::Bearer => vec!["--signer".into(), "bearer".into()],
            Kind::Earthdata => vec![
                "--signer".into(),
                "earthdata".into(),
                "--token-url".into(),
                self.tokens.as_ref().unwrap().earthdata_url(),
            ],
            Kind::Cdse => vec![
                "--signer".into(),
                "cdse".into(),
                "--token-url".into(),
                self.tokens.as_ref().unwrap().cdse_url(),
            ],
            Kind::PlanetaryComputer => vec![
                "--signer".into(),
                "pc".into(),
                "--token-url".into(),
                self.tokens.as_ref().unwrap().pc_sas_url(),
            ],
            Kind::Aws => vec![
                "--signer".into(),
                "aws".into(),
                "--region".into(),
                REGION.into(),
            ],
        };
        if self.kind != Kind::PlanetaryComputer {
            args.extend(["--host".into(), data.clone()]);
        }
        if matches!(self.kind, Kind::Bearer | Kind::Earthdata | Kind::Cdse) {
            args.extend(["--allow-http".into(), data]);
        }
        args
    }

    /// The environment of a CLI run with the right (`good`) or a wrong
    /// credential.
    pub fn cli_env(&self, good: bool) -> Vec<(String, String)> {
        let pick = |right: &str, wrong: &str| if good { right } else { wrong }.to_owned();
        let mut env: Vec<(String, String)> = match self.kind {
            Kind::Bearer => vec![(
                "STAC_GDAL_TOKEN".into(),
                pick(BEARER_TOKEN, "bearer-wrong-token"),
            )],
            Kind::Earthdata => vec![
                ("EARTHDATA_USERNAME".into(), "edl-user".into()),
                (
                    "EARTHDATA_PASSWORD".into(),
                    pick(EDL_PASSWORD, "edl-wrong-password"),
                ),
            ],
            Kind::Cdse => vec![
                ("CDSE_USERNAME".into(), "cdse-user".into()),
                (
                    "CDSE_PASSWORD".into(),
                    pick(CDSE_PASSWORD, "cdse-wrong-password"),
                ),
            ],
            Kind::PlanetaryComputer => Vec::new(),
            Kind::Aws => vec![
                ("AWS_ACCESS_KEY_ID".into(), ACCESS_KEY.into()),
                (
                    "AWS_SECRET_ACCESS_KEY".into(),
                    pick(SECRET_KEY, AWS_WRONG_SECRET),
                ),
            ],
        };
        env.extend(self.env.iter().map(|(k, v)| (k.to_owned(), v.to_owned())));
        env
    }

    /// Every secret of this case: configured, minted so far (by either
    /// signer), and for AWS the access key id too (not a secret, but
    /// another origin has no business seeing it).
    pub fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = match self.kind {
            Kind::Bearer => vec![BEARER_TOKEN.into(), "bearer-wrong-token".into()],
            Kind::Earthdata => vec![
                EDL_PASSWORD.into(),
                EDL_TOKEN.into(),
                "edl-wrong-password".into(),
            ],
            Kind::Cdse => vec![
                CDSE_PASSWORD.into(),
                CDSE_TOKEN.into(),
                "cdse-wrong-password".into(),
            ],
            Kind::PlanetaryComputer => vec![PC_SAS.into(), PC_WRONG_SAS.into()],
            Kind::Aws => vec![SECRET_KEY.into(), AWS_WRONG_SECRET.into()],
        };
        for s in self.signer.secrets().iter().chain(&self.wrong.secrets()) {
            let v = s.expose().to_owned();
            if v.len() >= 8 && !out.contains(&v) {
                out.push(v);
            }
        }
        out
    }

    /// Whether origin `data` received the credential (in the form it
    /// travels: the bearer header, the SAS `sig`, a SigV4 signature by our
    /// access key).
    pub fn data_saw_credential(&self) -> bool {
        self.origins.log("data").iter().any(|r| match self.kind {
            Kind::Bearer => r.header("authorization") == Some(&format!("Bearer {BEARER_TOKEN}")),
            Kind::Earthdata => r.header("authorization") == Some(&format!("Bearer {EDL_TOKEN}")),
            Kind::Cdse => r.header("authorization") == Some(&format!("Bearer {CDSE_TOKEN}")),
            Kind::PlanetaryComputer => r.uri.contains(&format!("sig={PC_SAS}")),
            Kind::Aws => r.header("authorization").is_some_and(|a| {
                a.starts_with(&format!("AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/"))
            }),
        })
    }

    /// Panic unless origin `other` received requests, none of which held a
    /// credential: no secret of [`secrets`](Self::secrets) anywhere, no
    /// `Authorization`, `Cookie` or `x-amz-security-token` header, no
    /// access key id.
    pub fn assert_other_saw_no_credential(&self) {
        let log = self.origins.log("other");
        assert!(
            !log.is_empty(),
            "{}: origin other saw no request",
            self.kind.name()
        );
        for s in self.secrets() {
            self.origins.assert_never_saw("other", &s);
        }
        self.origins.assert_never_saw("other", ACCESS_KEY);
        for r in &log {
            for h in ["authorization", "cookie", "x-amz-security-token"] {
                assert!(
                    r.header(h).is_none(),
                    "{}: origin other received {h} on {} {}: {:?}",
                    self.kind.name(),
                    r.method,
                    r.uri,
                    r.header(h)
                );
            }
        }
    }
}

/// Everything a sweep saw, by label: outputs, errors, `Debug` text, files.
#[derive(Default, Debug)]
pub struct Corpus(Vec<(String, String)>);

impl Corpus {
    /// Add a text.
    pub fn add(&mut self, label: impl Into<String>, text: impl Into<String>) {
        self.0.push((label.into(), text.into()));
    }

    /// `Debug`, compact and pretty.
    pub fn debug(&mut self, label: &str, value: &impl Debug) {
        self.add(format!("{label} (Debug)"), format!("{value:?}"));
        self.add(format!("{label} (Debug #)"), format!("{value:#?}"));
    }

    /// An error: `Display`, `Debug` and its source chain.
    pub fn error(&mut self, label: &str, e: &(dyn std::error::Error + 'static)) {
        self.add(format!("{label} (Display)"), e.to_string());
        self.add(format!("{label} (Debug)"), format!("{e:?}"));
        let mut source = e.source();
        while let Some(s) = source {
            self.add(format!("{label} (source)"), s.to_string());
            source = s.source();
        }
    }

    /// Every file under `path`, as (lossy) text.
    pub fn files(&mut self, label: &str, path: &Path) {
        if path.is_dir() {
            for entry in std::fs::read_dir(path).expect("list a written directory") {
                self.files(label, &entry.expect("dir entry").path());
            }
        } else if let Ok(bytes) = std::fs::read(path) {
            self.add(
                format!("{label}: file {}", path.display()),
                String::from_utf8_lossy(&bytes).into_owned(),
            );
        }
    }

    /// A process's stdout and stderr.
    pub fn output(&mut self, label: &str, out: &Output) {
        self.add(
            format!("{label} (stdout)"),
            String::from_utf8_lossy(&out.stdout),
        );
        self.add(
            format!("{label} (stderr)"),
            String::from_utf8_lossy(&out.stderr),
        );
    }

    /// How many texts were collected.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether any text (with `label` containing `label_part`) contains `needle`.
    pub fn contains(&self, label_part: &str, needle: &str) -> bool {
        self.0
            .iter()
            .any(|(l, t)| l.contains(label_part) && t.contains(needle))
    }

    /// Panic naming every place one of `secrets` (or its percent-encoded
    /// form) appears.
    pub fn assert_clean<S: AsRef<str>>(&self, secrets: &[S]) {
        assert!(self.0.len() > 10, "the sweep saw almost nothing");
        let mut leaks = Vec::new();
        for (label, text) in &self.0 {
            for s in secrets {
                let s = s.as_ref();
                let encoded = percent_encode(s);
                for needle in [s, encoded.as_str()] {
                    if let Some(i) = text.find(needle) {
                        let from = text[..i].char_indices().rev().nth(80).map_or(0, |(j, _)| j);
                        let to = (i + needle.len() + 80).min(text.len());
                        let to = (to..=text.len())
                            .find(|&j| text.is_char_boundary(j))
                            .unwrap_or(text.len());
                        leaks.push(format!("{label}: …{}…", &text[from..to]));
                    }
                }
            }
        }
        assert!(
            leaks.is_empty(),
            "{} leak(s):\n{}",
            leaks.len(),
            leaks.join("\n")
        );
    }
}

/// Percent-encode every byte but unreserved ones.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The `stac-gdal` CLI with GDAL's debug output and trace logging on, no
/// inherited credential or GDAL setting, no HTTP retries, and exactly
/// `env` added.
pub fn cli_debug(args: &[String], env: &[(String, String)]) -> Output {
    let mut cmd = Command::new(crate::stac_gdal_bin());
    cmd.args(args)
        .env("RUST_LOG", "trace")
        .env("CPL_DEBUG", "ON")
        .env("RUST_BACKTRACE", "1");
    for (k, _) in std::env::vars() {
        if [
            "AWS_",
            "GDAL_",
            "CPL_",
            "EARTHDATA_",
            "CDSE_",
            "PC_SDK_",
            "STAC_GDAL_TOKEN",
        ]
        .iter()
        .any(|p| k.starts_with(p))
            && k != "CPL_DEBUG"
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("GDAL_HTTP_MAX_RETRY", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("stac-gdal runs")
}

/// A directory's path as a CLI argument.
pub fn arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// `dir/name` as a CLI argument.
pub fn arg_in(dir: &Path, name: &str) -> String {
    arg(&PathBuf::from(dir).join(name))
}
