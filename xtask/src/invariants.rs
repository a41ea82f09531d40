//! Architecture invariants from docs/ARCHITECTURE.md, checked with `cargo tree`.

use crate::process::{cargo, output};

/// Crates that only the network features may pull in.
const NETWORK_CRATES: &[&str] = &["reqwest", "hyper", "tokio", "rustls", "ureq", "ring"];
const NETWORK_PREFIXES: &[&str] = &["aws-"];
/// Crates that link libgdal.
const GDAL_CRATES: &[&str] = &["gdal", "gdal-sys"];

struct Rule {
    /// `cargo tree` arguments selecting the package and features.
    package: &'static str,
    features: &'static [&'static str],
    /// What it says, for messages.
    what: &'static str,
    forbidden: &'static [&'static str],
    forbidden_prefixes: &'static [&'static str],
}

const RULES: &[Rule] = &[
    Rule {
        package: "stac-gdal",
        features: &[],
        what: "the facade with default features pulls in no network crate",
        forbidden: NETWORK_CRATES,
        forbidden_prefixes: NETWORK_PREFIXES,
    },
    Rule {
        package: "stac-meta",
        features: &[],
        what: "stac-meta links no GDAL and no network crate",
        forbidden: &[
            "gdal", "gdal-sys", "reqwest", "hyper", "tokio", "rustls", "ureq", "ring",
        ],
        forbidden_prefixes: NETWORK_PREFIXES,
    },
    Rule {
        package: "stac-geoparquet",
        features: &[],
        what: "stac-geoparquet (search included) links no GDAL and no network crate",
        forbidden: &[
            "gdal", "gdal-sys", "reqwest", "hyper", "tokio", "rustls", "ureq", "ring",
        ],
        forbidden_prefixes: NETWORK_PREFIXES,
    },
    Rule {
        package: "stac-signers",
        features: &[],
        what: "stac-signers without `network` links no GDAL and no network crate",
        forbidden: &[
            "gdal", "gdal-sys", "reqwest", "hyper", "tokio", "rustls", "ureq", "ring",
        ],
        forbidden_prefixes: NETWORK_PREFIXES,
    },
    Rule {
        package: "stac-gdal",
        features: &["--no-default-features", "--features", "geoparquet"],
        what: "the facade with only `geoparquet` links no GDAL",
        forbidden: GDAL_CRATES,
        forbidden_prefixes: &[],
    },
    Rule {
        package: "stac-client",
        features: &[],
        what: "stac-client without `cube` links no GDAL",
        forbidden: GDAL_CRATES,
        forbidden_prefixes: &[],
    },
    Rule {
        package: "stac-gdal",
        features: &["--no-default-features", "--features", "client"],
        what: "the facade with only `client` links no GDAL",
        forbidden: GDAL_CRATES,
        forbidden_prefixes: &[],
    },
];

/// Check every rule; a violation names the dependency path that pulled the crate in.
pub(crate) fn run() -> Result<(), String> {
    eprintln!("xtask: ── invariants");
    let mut failures = Vec::new();
    for rule in RULES {
        let mut args = vec![
            "tree",
            "-p",
            rule.package,
            "-e",
            "normal",
            "--prefix",
            "none",
            "-f",
            "{p}",
        ];
        args.extend_from_slice(rule.features);
        let tree = output(cargo(&args))?;
        for name in forbidden_in(&tree, rule) {
            let mut inv = vec![
                "tree",
                "-p",
                rule.package,
                "-e",
                "normal",
                "-i",
                name.as_str(),
            ];
            inv.extend_from_slice(rule.features);
            let path = output(cargo(&inv)).unwrap_or_else(|e| e);
            failures.push(format!(
                "violated: {}\n  `{name}` is pulled in by:\n{}",
                rule.what,
                indent(&path)
            ));
        }
        eprintln!("xtask:    checked: {}", rule.what);
    }
    if failures.is_empty() {
        eprintln!("xtask:    invariants: ok ({} rules)", RULES.len());
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// The forbidden crate names in a `cargo tree --prefix none -f {p}` listing.
fn forbidden_in(tree: &str, rule: &Rule) -> Vec<String> {
    let mut bad: Vec<String> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| {
            rule.forbidden.contains(name)
                || rule.forbidden_prefixes.iter().any(|p| name.starts_with(p))
        })
        .map(str::to_owned)
        .collect();
    bad.sort();
    bad.dedup();
    bad
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_forbidden_crates_by_name_and_prefix() {
        let tree = "stac-gdal v0.1.0 (/w/crates/stac-gdal)\nserde v1.0.0\nreqwest v0.12.0\naws-sigv4 v1.3.0\nreqwest v0.12.0\ngdal-sys v0.12.0\n";
        assert_eq!(forbidden_in(tree, &RULES[0]), ["aws-sigv4", "reqwest"]);
        let gdal_only = RULES
            .iter()
            .find(|r| r.what == "the facade with only `geoparquet` links no GDAL")
            .expect("the rule exists");
        assert_eq!(forbidden_in(tree, gdal_only), ["gdal-sys"]);
        let both = RULES
            .iter()
            .find(|r| r.what.starts_with("stac-geoparquet"))
            .expect("the rule exists");
        assert_eq!(
            forbidden_in(tree, both),
            ["aws-sigv4", "gdal-sys", "reqwest"]
        );
        assert!(
            forbidden_in(
                "stac-meta v0.1.0\nserde_json v1\nhyperlocal-ish v1\n",
                &RULES[1]
            )
            .is_empty()
        );
    }
}
