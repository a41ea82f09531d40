//! `cargo xtask setup`: make a fresh Debian machine ready. Idempotent and fast
//! when everything is present.

use std::process::Command;

use crate::process::{have, output, step};

/// System packages the build and tests need: (probe program, Debian packages).
const APT: &[(&str, &[&str])] = &[("gdal-config", &["libgdal-dev", "gdal-bin", "pkg-config"])];

/// Install what is missing.
pub fn run() -> Result<(), String> {
    let missing: Vec<&str> = APT
        .iter()
        .filter(|(probe, _)| !have(probe))
        .flat_map(|(_, pkgs)| pkgs.iter().copied())
        .collect();
    if !missing.is_empty() {
        apt_install(&missing)?;
    }
    Ok(())
}

fn is_root() -> bool {
    output({
        let mut c = Command::new("id");
        c.arg("-u");
        c
    })
    .map(|s| s.trim() == "0")
    .unwrap_or(false)
}

fn apt_install(packages: &[&str]) -> Result<(), String> {
    let list = packages.join(" ");
    if !is_root() || !have("apt-get") {
        return Err(format!(
            "missing system packages; run:\n  sudo apt-get update && sudo apt-get install -y {list}"
        ));
    }
    let mut update = Command::new("apt-get");
    update.args(["update", "-qq"]);
    step("apt-get update", update)?;
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages);
    install.env("DEBIAN_FRONTEND", "noninteractive");
    step(&format!("apt-get install {list}"), install)
}
