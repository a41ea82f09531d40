//! Credentials on GDAL reads reach only their origin (issue 13): two
//! origins (127.0.0.1 and 127.0.0.2, each our recording HTTP server with
//! Range support) serve the same COG; a bearer signer scoped to the first
//! reads both through every GDAL entry point — cube, `load_asset`, the
//! item-level reads, a VRT built and read — and through the CLI with
//! `CPL_DEBUG=ON`. Every request each origin received is checked: the
//! token is on the first origin's requests and nowhere on the second's,
//! in no header and no query; a redirect from the first origin to the
//! second drops it too. No output holds it.

use std::process::Command;
use std::sync::Arc;

use ndarray::Array2;
use serde_json::{Value, json};
use stac_gdal::cube::{CubeOptions, DatasetCollection};
use stac_gdal::raster::{Dataset, GridSpec, LoadOptions, PartOptions, load_asset, read_item_part};
use stac_gdal_e2e::fault_server::{FaultServer, Reply};
use stac_gdal_e2e::stac_gdal_bin;
use stac_signers::{BearerTokenSigner, HostList, Origin, Signer};
use stac_vrt::{VrtOptions, build_vrt_from_stac};

const TOKEN: &str = "scoped-token-5f3a9c";

fn cog() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.tif");
    Dataset::create_from_array(
        &Array2::<u16>::from_elem((8, 8), 3),
        &GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630),
        Some(0.0),
    )
    .unwrap()
    .to_file(&p)
    .unwrap();
    std::fs::read(p).unwrap()
}

fn serve(ip: &str, data: Arc<Vec<u8>>, redirect_to: Option<String>) -> FaultServer {
    FaultServer::start_on(ip, move |r| match (&redirect_to, r.path()) {
        (Some(to), p) if p.starts_with("/redirect/") => Reply::redirect(302, to),
        _ => Reply::bytes(r, &data),
    })
}

fn item(id: &str, href: &str) -> Value {
    json!({"id": id, "type": "Feature", "bbox": [-1.7, 47.8, -1.6, 47.9],
           "properties": {"datetime": "2021-06-01T00:00:00Z", "proj:epsg": 32630},
           "assets": {"data": {"href": href, "type": "image/tiff; application=geotiff",
               "proj:shape": [8, 8], "proj:transform": [10.0, 0.0, 600000.0, 0.0, -10.0, 5300000.0],
               "raster:bands": [{"data_type": "uint16", "nodata": 0}]}}})
}

/// Every header value and target a server received, one string per request.
fn seen(server: &FaultServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| {
            let headers: Vec<String> = r.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            format!("{} {}\n{}", r.method, r.target, headers.join("\n"))
        })
        .collect()
}

#[test]
fn a_scoped_bearer_token_reaches_only_its_origin_on_every_gdal_path() {
    let data = Arc::new(cog());
    let b = serve("127.0.0.2", data.clone(), None);
    let a = serve("127.0.0.1", data.clone(), Some(b.url("/redirected.tif")));
    let origin_a: Origin = format!("http://127.0.0.1:{}", a.port()).parse().unwrap();
    let signer: Arc<dyn Signer> = Arc::new(
        BearerTokenSigner::new(TOKEN)
            .with_hosts(HostList::new([format!("127.0.0.1:{}", a.port())]))
            .with_allow_http([origin_a]),
    );
    let items = vec![
        item("on-a", &a.url("/a.tif")),
        item("on-b", &b.url("/b.tif")),
        item("via-redirect", &a.url("/redirect/c.tif")),
    ];
    let mut outputs: Vec<String> = Vec::new();

    // Cube (items without grid metadata too: planning opens them).
    let cube = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default().signer(signer.clone()),
    )
    .unwrap();
    assert_eq!(cube.shape().0, 3);
    assert!(cube.read_array::<u16>().iter().all(|&v| v == 3));
    outputs.push(format!("{:?}", cube.summary()));
    let mut bare = items[1].clone();
    bare["assets"]["data"] = json!({"href": b.url("/bare.tif")});
    let cube = DatasetCollection::from_stac(
        &[items[0].clone(), bare],
        &["data"],
        &CubeOptions::default().signer(signer.clone()),
    )
    .unwrap();
    assert_eq!(cube.grid_report().opened, 1);

    // load_asset and the item-level reads.
    let load = LoadOptions::default().with_signer(signer.clone());
    for it in &items {
        let ds = load_asset(it, Some("data"), &load).unwrap();
        assert_eq!(ds.read_array::<u16>().unwrap()[[0, 0, 0]], 3);
        let part = read_item_part::<u16>(
            it,
            Some("data"),
            [600000.0, 5299960.0, 600040.0, 5300000.0],
            None,
            &PartOptions::default().with_load(load.clone()),
        )
        .unwrap();
        assert!(part.data.iter().all(|&v| v == 3));
    }

    // A VRT built and read.
    let vrt = build_vrt_from_stac(
        &items[..2],
        "data",
        &VrtOptions::default().signer(signer.clone()),
    )
    .unwrap();
    outputs.push(format!("{vrt:?} {:?}", vrt.summary()));
    let ds = vrt.open().unwrap();
    assert!(ds.read_array::<u16>().unwrap().iter().all(|&v| v == 3));

    // The CLI, with GDAL's debug output on.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("items.json");
    std::fs::write(&p, serde_json::to_string(&items).unwrap()).unwrap();
    let origin = format!("http://127.0.0.1:{}", a.port());
    for args in [
        vec![
            "cube",
            p.to_str().unwrap(),
            "--asset",
            "data",
            "--out",
            dir.path().join("cube").to_str().unwrap(),
            "--quiet",
        ],
        vec![
            "vrt",
            p.to_str().unwrap(),
            "--asset",
            "data",
            "-o",
            dir.path().join("m.vrt").to_str().unwrap(),
        ],
    ] {
        let out = Command::new(stac_gdal_bin())
            .args(&args)
            .args([
                "--signer",
                "bearer",
                "--host",
                &format!("127.0.0.1:{}", a.port()),
                "--allow-http",
                &origin,
            ])
            .env("STAC_GDAL_TOKEN", TOKEN)
            .env("CPL_DEBUG", "ON")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{args:?}: {text}");
        outputs.push(text);
    }
    for entry in std::fs::read_dir(dir.path().join("cube")).unwrap() {
        outputs.push(
            String::from_utf8_lossy(&std::fs::read(entry.unwrap().path()).unwrap()).into_owned(),
        );
    }

    // The token reached origin A, and never origin B, whatever the path.
    let on_a = seen(&a);
    assert!(
        on_a.iter().any(|r| r.contains(&format!("Bearer {TOKEN}"))),
        "A never got the token"
    );
    let on_b = seen(&b);
    assert!(!on_b.is_empty());
    assert!(
        on_b.iter().any(|r| r.contains("/redirected.tif")),
        "the redirect was not followed"
    );
    for r in &on_b {
        assert!(!r.contains(TOKEN), "origin B received the token: {r}");
    }
    for o in &outputs {
        assert!(!o.contains(TOKEN), "an output holds the token: {o}");
    }
}

#[test]
fn cpl_debug_vrt_prints_no_signed_query_or_url_password() {
    // Pre-signed hrefs (a SAS-style query) and a URL password, on items
    // without grid metadata (the VRT opens them): GDAL's debug output names
    // the URLs; none of the secrets may appear.
    let data = Arc::new(cog());
    let s = serve("127.0.0.1", data, None);
    let sig = "sv-sig-QWERTY12345";
    let password = "pw-ZXCV98765";
    let hrefs = [
        format!("{}?sig={sig}&se=2030", s.url("/signed.tif")),
        s.url("/pw.tif")
            .replace("http://", &format!("http://user:{password}@")),
    ];
    let items: Vec<Value> = hrefs
        .iter()
        .enumerate()
        .map(|(i, h)| json!({"id": format!("i{i}"), "assets": {"data": {"href": h}}}))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("items.json");
    std::fs::write(&p, serde_json::to_string(&items).unwrap()).unwrap();
    for extra in [vec![], vec!["--no-strict"]] {
        let out = Command::new(stac_gdal_bin())
            .args(["vrt", p.to_str().unwrap(), "--asset", "data", "-o"])
            .arg(dir.path().join("m.vrt"))
            .args(&extra)
            .env("CPL_DEBUG", "ON")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("/signed.tif"), "{text}");
        assert!(!text.contains(sig) && !text.contains(password), "{text}");
    }
    // Failure path: the same secrets on sources that do not exist.
    let missing: Vec<Value> = hrefs
        .iter()
        .enumerate()
        .map(|(i, h)| json!({"id": format!("m{i}"), "assets": {"data": {"href": h.replace(".tif", "-gone.tif").replace("http://", "http://").replace(&format!(":{}", s.port()), ":9")}}}))
        .collect();
    std::fs::write(&p, serde_json::to_string(&missing).unwrap()).unwrap();
    let out = Command::new(stac_gdal_bin())
        .args(["vrt", p.to_str().unwrap(), "--asset", "data", "-o"])
        .arg(dir.path().join("m2.vrt"))
        .env("CPL_DEBUG", "ON")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success());
    assert!(!text.contains(sig) && !text.contains(password), "{text}");
}
