//! `stac-gdal cube --out X.nc`: the cube as one netCDF-4 file (the layout
//! `odc.stac.load(...).to_netcdf()` gives), written window by window while
//! the next window loads (`stac_cube::CubePlan::to_netcdf`).
//!
//! The file is written inside the output's staging folder
//! (`crate::staging`), so `SIGINT`/`SIGTERM` remove it with the folder,
//! and renamed over `X.nc` only when complete: nothing that looks complete
//! is left by an interrupted or failed run.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use stac_gdal::cube::{CubePlan, NetcdfOptions};

use crate::staging::Staging;

/// A NetCDF output, checked and staged before any work.
#[derive(Debug)]
pub(crate) struct NetcdfOutput {
    out: PathBuf,
    staging: Staging,
}

impl NetcdfOutput {
    /// Check `out` (parent folder exists, no link, not a folder) and create
    /// its staging folder. `--preview` is for folder outputs.
    pub(crate) fn prepare(out: &Path, preview: Option<&Path>) -> Result<Self> {
        if preview.is_some() {
            bail!(
                "--preview writes beside a folder of GeoTIFFs; with --output {} (NetCDF) open the file in xarray or GDAL instead",
                out.display()
            );
        }
        crate::staging::check_file_output(out, "--output")?;
        let staging = Staging::for_output(out, "--output")?;
        Ok(Self {
            out: out.to_path_buf(),
            staging,
        })
    }

    /// Write the plan's cube to the file, put it into place and return the
    /// summary (the plan's, with `files` and `failures`).
    pub(crate) fn write(self, plan: &CubePlan) -> Result<serde_json::Value> {
        let name = self.out.file_name().unwrap_or_default();
        let staged = self.staging.path().join(name);
        let report = plan
            .to_netcdf(&staged, &NetcdfOptions::default())
            .map_err(crate::arg_checks::cube_error)?;
        self.staging.commit_file(&staged, &self.out)?;
        let mut summary = plan.summary();
        summary["files"] = serde_json::json!([self.out.display().to_string()]);
        summary["failures"] = serde_json::to_value(&report.failures)?;
        for f in &report.failures {
            crate::logging::warn(f);
        }
        Ok(summary)
    }
}
