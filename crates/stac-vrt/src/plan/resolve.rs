//! Step 1: every source through the source layer (resolved, signed, judged
//! by the policy, env scoped to its origin), its grid from metadata or, only
//! when that is missing, from the opened file; then the env all sources
//! share and warnings about the credentials that cannot travel.

use serde_json::Value;
use stac_signers::GdalEnv;

use super::{Planner, ResolvedSource, ResolvedSources};
use crate::sources;

impl Planner<'_> {
    /// Step 1: every source through the source layer (resolved, signed,
    /// judged by the policy, env scoped to its origin); grids from
    /// metadata; open only what lacks a grid.
    pub(super) fn resolve_all(&mut self, items: &[&Value]) -> ResolvedSources {
        let source_options = self.options.source_options();
        let alternates: Vec<&str> = source_options
            .alternates
            .iter()
            .map(String::as_str)
            .collect();
        let mut out = ResolvedSources {
            sources: Vec::new(),
            envs: Vec::new(),
            any_remote: false,
            signed_hrefs: false,
            opened: 0,
        };
        for item in items {
            if let Some(source) = self.resolve_one(item, &alternates, &source_options, &mut out) {
                out.sources.push(source);
            }
        }
        out
    }

    /// One item of step 1: its source, or `None` once it is skipped.
    pub(super) fn resolve_one(
        &mut self,
        item: &Value,
        alternates: &[&str],
        source_options: &stac_raster::SourceOptions,
        out: &mut ResolvedSources,
    ) -> Option<ResolvedSource> {
        let asset = self.asset;
        let id = sources::item_label(item);
        // The one raster-band rule (media type, roles, extension) the cube
        // and `which_engine` use: an XML/JSON/text/HDF4 asset is skipped,
        // named, and never opened.
        if let Err(e @ stac_meta::MetaError::NotRaster { .. }) =
            stac_meta::require_raster(item, asset, alternates)
        {
            self.skip(id, asset_href(item, asset), e.to_string());
            return None;
        }
        let source = match stac_raster::RasterSource::resolve(item, Some(asset), source_options) {
            Ok(s) => s,
            Err(e) => {
                let href = match &e {
                    stac_raster::RasterError::Refused { at, .. }
                    | stac_raster::RasterError::Asset { at, .. } => {
                        at.href.as_deref().map(str::to_owned)
                    }
                    _ => asset_href(item, asset),
                };
                self.skip(id, href, stac_raster::redact_message(&e.to_string()));
                return None;
            }
        };
        let gdal_path = source.gdal_path().to_owned();
        let remote = stac_meta::is_remote(&gdal_path);
        out.any_remote |= remote;
        if self.options.signer.is_some() && remote && !out.signed_hrefs {
            out.signed_hrefs = stac_signers::resolved_href(item, Some(asset), None)
                .is_ok_and(|unsigned| stac_meta::gdal_path(&unsigned) != gdal_path);
        }
        let src_env = source.env().clone();
        let path = sources::vrt_source_path(&gdal_path, &src_env);
        out.envs.push(src_env);
        let href = source.redacted_href().to_owned();
        let meta_grid = match stac_meta::read_extension_metadata(item, Some(asset)) {
            Ok(meta) => match sources::grid_from_metadata(&meta, self.options) {
                Ok(grid) => grid,
                Err(reason) => {
                    self.skip(id, Some(href), reason);
                    return None;
                }
            },
            Err(e) => {
                self.warnings
                    .push(format!("{e}; opening the source to read its grid instead"));
                None
            }
        };
        let (grid, from_metadata) = match meta_grid {
            Some(grid) => (grid, true),
            None => {
                out.opened += 1;
                match sources::grid_from_source(&source) {
                    Ok(grid) => (grid, false),
                    Err(reason) => {
                        let reason = format!("could not open the source: {reason}");
                        self.skip(id, Some(href), reason);
                        return None;
                    }
                }
            }
        };
        Some(ResolvedSource {
            item: id,
            href,
            path,
            grid,
            from_metadata,
        })
    }

    /// The env installed around reads of the VRT, and warnings about the
    /// credentials that cannot travel with it.
    ///
    /// Every source's env: what is equal in all of them is installed around
    /// reads of the VRT; what differs (credentials scoped to some origins)
    /// travels only inside source paths, or not at all.
    pub(super) fn shared_env(&mut self, resolved: &ResolvedSources) -> GdalEnv {
        let envs = &resolved.envs;
        let any_remote = resolved.any_remote;
        let mut env = common_env(envs);
        // Headers travel inside source paths, so the shared env may lack them;
        // any source with credentials keeps GDAL off cached redirect targets.
        if envs.iter().any(stac_raster::carries_http_credentials) {
            stac_raster::guard_redirects(&mut env);
        }
        let mut lost: Vec<String> = envs
            .iter()
            .flat_map(sources::untravelled_credentials)
            .collect();
        lost.sort();
        lost.dedup();
        let (installed, scoped): (Vec<String>, Vec<String>) =
            lost.into_iter().partition(|k| env.get(k).is_some());
        if any_remote && !scoped.is_empty() {
            self.warnings.push(format!(
                "the signer's GDAL options {} are scoped to some of the sources' origins and \
                 cannot travel inside a VRT source path, so reads of those sources get no \
                 credential (read them through the cube or load_asset instead)",
                scoped.join(", ")
            ));
        }
        if any_remote && !installed.is_empty() {
            self.warnings.push(format!(
                "the signer's GDAL options {} cannot travel inside a VRT file: every source's \
                 origin gets them, so Vrt::open installs them around its reads, but a copy of \
                 this VRT written to disk reads without them",
                installed.join(", ")
            ));
        }
        if resolved.signed_hrefs {
            self.warnings.push(
                "the signer rewrote hrefs (e.g. a SAS or presigned query): the signed URLs are \
                 embedded in the VRT's source paths, so writing this VRT to a file writes those \
                 credentials in clear text (and they stop working when they expire)"
                    .to_owned(),
            );
        }
        let headers_embedded = envs.iter().any(|e| e.get("GDAL_HTTP_HEADERS").is_some());
        if headers_embedded && any_remote {
            self.warnings.push(if sources::header_option_supported() {
                "HTTP headers of the signer travel inside the VRT's /vsicurl? source paths for \
                 reads in this process; Vrt::to_file writes the VRT without them (a reader must \
                 bring its own credentials), Vrt::to_file_with_credentials writes them in clear text"
                    .to_owned()
            } else {
                "HTTP headers of the signer travel through an in-memory header file (GDAL < 3.7 \
                 has no /vsicurl?header.<Name>= option): the VRT authenticates in this process \
                 only; a copy written to a file names its sources without credentials"
                    .to_owned()
            });
        }
        env
    }
}

/// The redacted href of `asset` in `item`, when it has one.
fn asset_href(item: &Value, asset: &str) -> Option<String> {
    stac_meta::asset(item, asset)
        .ok()
        .and_then(|a| a.get("href"))
        .and_then(Value::as_str)
        .map(|h| stac_raster::redact_message(&stac_meta::redact(h)))
}

/// The options every env holds with the same value (no `GDAL_HTTP_HEADERS`:
/// headers travel inside source paths). Installing these around a read of
/// the whole VRT gives no source anything its own env lacks.
fn common_env(envs: &[GdalEnv]) -> GdalEnv {
    let Some((first, rest)) = envs.split_first() else {
        return GdalEnv::new();
    };
    first
        .iter()
        .filter(|(k, _)| *k != "GDAL_HTTP_HEADERS")
        .filter(|(k, v)| rest.iter().all(|e| e.get(k) == Some(*v)))
        .collect()
}
