//! `cargo xtask package`: every publishable crate has the metadata crates.io
//! and docs.rs need, and `cargo package` accepts it (no upload, no build).
//!
//! Publishable = a workspace member without `publish = false`. Checked per
//! crate: `description`, `license`, `repository` (not a placeholder),
//! `readme` (the file exists), 1–5 `keywords`, at least one `categories`
//! entry, `documentation`. Then `cargo package --workspace --no-verify`
//! over the publishable crates, which resolves every dependency against
//! crates.io (the workspace's own crates overlaid in dependency order).

use serde_json::Value;

use crate::process;

/// Check the metadata, then package every publishable crate.
pub(crate) fn run() -> Result<(), String> {
    let output = process::cargo(&["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let metadata: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cargo metadata: not JSON: {e}"))?;
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    let mut problems = Vec::new();
    let mut excluded = Vec::new();
    let mut publishable = 0;
    for package in &packages {
        let name = package["name"].as_str().unwrap_or("?");
        if package["publish"].as_array().is_some_and(Vec::is_empty) {
            excluded.push(name.to_owned());
            continue;
        }
        publishable += 1;
        problems.extend(
            metadata_problems(package)
                .into_iter()
                .map(|p| format!("{name}: {p}")),
        );
    }
    if !problems.is_empty() {
        return Err(format!(
            "crates not ready for crates.io:\n  {}",
            problems.join("\n  ")
        ));
    }
    eprintln!("xtask: {publishable} publishable crates have complete metadata");
    let mut args = vec![
        "package",
        "--workspace",
        "--no-verify",
        "--allow-dirty",
        "--quiet",
    ];
    for name in &excluded {
        args.extend(["--exclude", name.as_str()]);
    }
    process::step(
        "cargo package (publishable crates, no upload)",
        process::cargo(&args),
    )
}

/// What a crates.io upload or a docs.rs page would lack.
fn metadata_problems(package: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let text = |key: &str| package[key].as_str().filter(|s| !s.trim().is_empty());
    for key in ["description", "license", "documentation"] {
        if text(key).is_none() {
            problems.push(format!("no `{key}`"));
        }
    }
    match text("repository") {
        None => problems.push("no `repository`".into()),
        Some(url) if url.contains(".invalid") || url.contains("example.") => {
            problems.push(format!("`repository` is a placeholder: {url}"))
        }
        Some(_) => {}
    }
    match text("readme") {
        None => problems.push("no `readme`".into()),
        Some(readme) => {
            let manifest = package["manifest_path"].as_str().unwrap_or_default();
            let dir = std::path::Path::new(manifest)
                .parent()
                .unwrap_or(std::path::Path::new("."));
            if !dir.join(readme).is_file() {
                problems.push(format!("`readme` {readme} does not exist"));
            }
        }
    }
    let count = |key: &str| package[key].as_array().map_or(0, Vec::len);
    if !(1..=5).contains(&count("keywords")) {
        problems.push(format!(
            "{} keywords (crates.io takes 1–5)",
            count("keywords")
        ));
    }
    if count("categories") == 0 {
        problems.push("no `categories`".into());
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::metadata_problems;
    use serde_json::json;

    #[test]
    fn a_placeholder_repository_and_missing_fields_are_named() {
        let package = json!({
            "description": "d", "license": "MIT", "documentation": "https://docs.rs/x",
            "repository": "https://example.invalid/x", "readme": null,
            "keywords": [], "categories": [], "manifest_path": "/nonexistent/Cargo.toml"
        });
        let problems = metadata_problems(&package).join("; ");
        assert!(problems.contains("placeholder"), "{problems}");
        assert!(problems.contains("no `readme`"), "{problems}");
        assert!(problems.contains("0 keywords"), "{problems}");
        assert!(problems.contains("no `categories`"), "{problems}");
    }

    #[test]
    fn complete_metadata_passes() {
        let dir = env!("CARGO_MANIFEST_DIR");
        let package = json!({
            "description": "d", "license": "MIT", "documentation": "https://docs.rs/x",
            "repository": "https://github.com/stac-gdal/stac-gdal", "readme": "Cargo.toml",
            "keywords": ["stac"], "categories": ["science::geo"],
            "manifest_path": format!("{dir}/Cargo.toml")
        });
        assert_eq!(metadata_problems(&package), Vec::<String>::new());
    }
}
