//! `Cube`: a planned cube as a Python object: plan once (GIL released),
//! then load it whole or chunk by chunk into NumPy arrays that own the Rust
//! buffers (no copy). Pickles as its pinned spec (JSON), so a Dask task can
//! load a chunk in another process.

use numpy::PyArray;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use serde_json::json;
use stac_gdal::cube::{CubeData, CubeLayout, CubeOptions, CubePlan, CubeSpec, Timestep, Window};

use crate::errors::py_err;

/// A planned cube. `Cube(spec_json, patch_url=None, progress=None,
/// signer=None)` plans `spec_json` (a `stac_cube::CubeSpec`) without
/// reading pixels; `spec_json()` is the pinned spec (grid, dtype and nodata
/// fixed), `summary_json()` the plan's summary.
#[pyclass(module = "stac_gdal._native", frozen)]
pub struct Cube {
    spec: CubeSpec,
    spec_json: String,
    layout: String,
    plan: CubePlan,
    timesteps: Vec<Timestep>,
    summary: String,
    patch_url: Option<Py<PyAny>>,
    signer: Option<Py<PyAny>>,
}

impl std::fmt::Debug for Cube {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cube")
            .field("timesteps", &self.timesteps.len())
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

/// The options of a spec, with the Python callables attached.
fn options_for(
    spec: &CubeSpec,
    patch_url: Option<&Py<PyAny>>,
    progress: Option<&Py<PyAny>>,
    signer: Option<&Py<PyAny>>,
) -> PyResult<CubeOptions> {
    let mut o = spec.options().map_err(py_err)?;
    if let Some(f) = patch_url {
        let f = Python::attach(|py| f.clone_ref(py));
        o = o.with_patch_url(move |href: &str| {
            Python::attach(|py| {
                f.call1(py, (href,))
                    .and_then(|r| r.extract::<String>(py))
                    // A failing patch_url leaves the href as it was; the
                    // policy still judges it and the read names it.
                    .unwrap_or_else(|_| href.to_owned())
            })
        });
    }
    if let Some(f) = progress {
        let f = Python::attach(|py| f.clone_ref(py));
        o = o.with_progress(move |p| {
            Python::attach(|py| {
                let _ = f.call1(py, (p.done, p.total));
            });
        });
    }
    if let Some(s) = signer {
        let arc = Python::attach(|py| crate::meta::signer_of(s.bind(py)))?;
        o = o.with_signer(arc);
    }
    Ok(o)
}

/// The layout as the Python half builds its Dataset from it (attributes
/// computed by the layout's own methods).
fn layout_json(l: &CubeLayout) -> serde_json::Value {
    let coord = |c: &stac_gdal::cube::layout::SpatialCoord| json!({"name": c.name, "values": c.values, "attrs": c.attrs()});
    json!({
        "dims": l.dims(),
        "time": {"values": l.time.values, "attrs": l.time_attrs()},
        "y": coord(&l.y),
        "x": coord(&l.x),
        "spatial_ref": {"value": l.spatial_ref.epsg, "attrs": l.spatial_ref.attrs()},
        "bands": l.bands.iter().map(|b| json!({
            "name": b.name, "dtype": b.dtype.as_str(), "attrs": b.attrs(),
        })).collect::<Vec<_>>(),
        "string_coords": l.string_coords(),
        "attrs": l.global_attrs(),
    })
}

/// A cube's pixels as a NumPy array that owns the buffer.
fn to_numpy(py: Python<'_>, data: CubeData) -> PyResult<Py<PyAny>> {
    Ok(match data {
        CubeData::U8(a) => PyArray::from_owned_array(py, a).into_any().unbind(),
        CubeData::I8(a) => PyArray::from_owned_array(py, a).into_any().unbind(),
        CubeData::U16(a) => PyArray::from_owned_array(py, a).into_any().unbind(),
        CubeData::I16(a) => PyArray::from_owned_array(py, a).into_any().unbind(),
        CubeData::U32(a) => PyArray::from_owned_array(py, a).into_any().unbind(),
        CubeData::I32(a) => PyArray::from_owned_array(py, a).into_any().unbind(),
        CubeData::F32(a) => PyArray::from_owned_array(py, a).into_any().unbind(),
        CubeData::F64(a) => PyArray::from_owned_array(py, a).into_any().unbind(),
        _ => {
            return Err(crate::errors::CubeError::new_err(
                "a cube data type this build does not know",
            ));
        }
    })
}

impl Cube {
    fn window(&self, w: (usize, usize, usize, usize)) -> Window {
        let (row_off, col_off, rows, cols) = w;
        Window::new(col_off, row_off, cols, rows)
    }
}

#[pymethods]
impl Cube {
    #[new]
    #[pyo3(signature = (spec_json, patch_url=None, progress=None, signer=None))]
    fn new(
        py: Python<'_>,
        spec_json: &str,
        patch_url: Option<Py<PyAny>>,
        progress: Option<Py<PyAny>>,
        signer: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let spec = CubeSpec::from_json(spec_json).map_err(py_err)?;
        let options = options_for(
            &spec,
            patch_url.as_ref(),
            progress.as_ref(),
            signer.as_ref(),
        )?;
        let (spec, plan) = py
            .detach(|| {
                let mut plan = spec.plan_with(&options).map_err(Box::new)?;
                let pinned = spec.pinned(&mut plan).map_err(Box::new)?;
                Ok::<_, Box<stac_gdal::cube::CubeError>>((pinned, plan))
            })
            .map_err(|e| py_err(*e))?;
        let layout = plan.layout().map_err(py_err)?;
        let mut summary = plan.summary();
        summary["nodata"] = plan
            .nodata()
            .map_or(serde_json::Value::Null, |v| serde_json::json!(v));
        Ok(Self {
            layout: layout_json(&layout).to_string(),
            spec_json: spec.to_json(),
            spec,
            timesteps: plan.timesteps().to_vec(),
            summary: summary.to_string(),
            plan,
            patch_url,
            signer,
        })
    }

    /// The pinned spec as JSON (re-planning it gives the same cube).
    fn spec_json(&self) -> &str {
        &self.spec_json
    }

    /// The cube as an xarray Dataset (`stac_cube::layout::CubeLayout`, the
    /// description the Zarr and NetCDF writers use), as JSON: `dims`,
    /// `time` (`values` in ns, NaT as null; `attrs`: CF encoding), `y`/`x`
    /// (`name`, `values`, `attrs`), `spatial_ref` (`value`, `attrs`),
    /// `bands` (`name`, `dtype`, `attrs`), `string_coords`, `attrs`.
    fn layout_json(&self) -> &str {
        &self.layout
    }

    /// The plan's summary as JSON: `time` (label, datetime, items), `bands`,
    /// `shape`, `dtype`, `nodata`, `grid` (crs, wkt, geotransform, rows, cols).
    fn summary_json(&self) -> &str {
        &self.summary
    }

    /// Load the whole cube: `(array (time, band, y, x), failures JSON)`.
    /// The GIL is released while loading; the array owns the Rust buffer.
    fn load(&self, py: Python<'_>) -> PyResult<(Py<PyAny>, String)> {
        let cube = py
            .detach(|| self.plan.load().map_err(Box::new))
            .map_err(|e| py_err(*e))?;
        let failures = serde_json::to_string(cube.failures()).unwrap_or_else(|_| "[]".into());
        Ok((to_numpy(py, cube.into_data())?, failures))
    }

    /// Load one chunk: timesteps `t0..t1`, the bands at `bands` (indices),
    /// the window `(row_off, col_off, rows, cols)` of the grid, with
    /// `threads` reader threads. Re-plans only the chunk's items and bands
    /// on the pinned grid; returns `(time, band, y, x)`.
    #[pyo3(signature = (t0, t1, bands, window, threads=1))]
    fn load_chunk(
        &self,
        py: Python<'_>,
        t0: usize,
        t1: usize,
        bands: Vec<usize>,
        window: (usize, usize, usize, usize),
        threads: usize,
    ) -> PyResult<Py<PyAny>> {
        let sub = self
            .spec
            .subset(&self.timesteps, t0..t1, &bands)
            .map_err(py_err)?;
        let options = options_for(&sub, self.patch_url.as_ref(), None, self.signer.as_ref())?
            .with_threads(threads);
        let w = self.window(window);
        let data = py
            .detach(|| {
                let plan = sub.plan_with(&options).map_err(Box::new)?;
                if plan.timesteps().len() != t1 - t0 {
                    return Err(Box::new(stac_gdal::cube::CubeError::Grid(format!(
                        "the chunk's items give {} timesteps, expected {}",
                        plan.timesteps().len(),
                        t1 - t0
                    ))));
                }
                Ok(plan.load_window(w).map_err(Box::new)?.into_data())
            })
            .map_err(|e| py_err(*e))?;
        to_numpy(py, data)
    }

    /// Pickle as the pinned spec and the callables.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let cls = py.get_type::<Cube>();
        let none = || py.None();
        let args = (
            self.spec_json.clone(),
            self.patch_url
                .as_ref()
                .map_or_else(none, |f| f.clone_ref(py)),
            none(),
            self.signer.as_ref().map_or_else(none, |f| f.clone_ref(py)),
        );
        (cls, args).into_pyobject(py)
    }
}
