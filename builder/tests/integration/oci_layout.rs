//! Our OCI output checked by tools nobody here wrote: skopeo reads the layout
//! directory and the archive and picks each platform from the index,
//! `skopeo copy` re-verifies every blob digest, and umoci unpacks the copy to
//! the same files we put in.

use std::fs;
use std::process::Command;

use crate::support::mxbuild::{ok, tool};
use crate::support::tmp;
use mxbuild::image::layer::{self, LayerOptions};
use mxbuild::image::oci::{self, RunConfig};
use mxbuild::store::blobs::Blobs;
use testkit::require;
use xx::Platform;

#[test]
fn skopeo_and_umoci_read_our_multi_platform_layout() {
    if !require(
        tool("skopeo") && tool("umoci"),
        "skopeo and umoci are not installed (scripts/setup.sh installs them)",
    ) {
        return;
    }
    let t = tmp("oci-layout");
    let rootfs = t.join("rootfs");
    fs::create_dir_all(rootfs.join("etc")).unwrap();
    fs::write(rootfs.join("etc/hello"), "hello from a layer\n").unwrap();
    fs::create_dir_all(rootfs.join("usr/bin")).unwrap();
    fs::write(rootfs.join("usr/bin/tool"), "#!/bin/sh\necho tool\n").unwrap();
    let blobs = Blobs::open(&t.join("store")).unwrap();
    let l = layer::from_dir(
        &rootfs,
        &blobs,
        LayerOptions {
            epoch: Some(0),
            ..Default::default()
        },
    )
    .unwrap();
    let run_cfg = RunConfig {
        env: vec!["PATH=/usr/bin:/bin".into()],
        cmd: Some(vec!["/usr/bin/tool".into()]),
        working_dir: Some("/".into()),
        labels: vec![("org.example".into(), "yes".into())],
        ..Default::default()
    };
    let mut manifests = Vec::new();
    for p in ["linux/amd64", "linux/arm64", "linux/arm/v7"] {
        let platform: Platform = p.parse().unwrap();
        manifests.push(
            oci::write_image(
                &blobs,
                &platform,
                std::slice::from_ref(&l),
                &run_cfg,
                &[],
                Some("1970-01-01T00:00:00Z"),
            )
            .unwrap(),
        );
    }
    let (index, _) = oci::write_index(&blobs, manifests).unwrap();
    let dir = t.join("layout");
    oci::export_dir(&blobs, &index, "latest", &dir, &[]).unwrap();
    let archive = t.join("image.oci.tar");
    oci::export_tar(&blobs, &index, "latest", &archive, &[]).unwrap();

    // The raw index lists the three platforms.
    let raw = ok(Command::new("skopeo")
        .args(["inspect", "--raw"])
        .arg(format!("oci:{}:latest", dir.display())));
    let idx: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let platforms: Vec<String> = idx["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let p = &m["platform"];
            let v = p["variant"]
                .as_str()
                .map(|v| format!("/{v}"))
                .unwrap_or_default();
            format!(
                "{}/{}{v}",
                p["os"].as_str().unwrap(),
                p["architecture"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64", "linux/arm/v7"]);

    // skopeo picks each platform, from the directory and from the archive.
    for (arch, variant) in [("arm64", None), ("arm", Some("v7")), ("amd64", None)] {
        for src in [
            format!("oci:{}:latest", dir.display()),
            format!("oci-archive:{}:latest", archive.display()),
        ] {
            let mut cmd = Command::new("skopeo");
            cmd.args(["--override-arch", arch]);
            if let Some(v) = variant {
                cmd.args(["--override-variant", v]);
            }
            let info: serde_json::Value =
                serde_json::from_str(&ok(cmd.args(["inspect"]).arg(&src))).unwrap();
            assert_eq!(info["Architecture"], arch, "{src}");
            assert_eq!(info["Labels"]["org.example"], "yes");
            assert_eq!(info["Layers"].as_array().unwrap().len(), 1);
        }
    }

    // A copy re-verifies every digest; umoci unpacks the arm64 image to our files.
    let copy = t.join("copy");
    ok(Command::new("skopeo")
        .args(["--override-arch", "arm64", "copy"])
        .arg(format!("oci:{}:latest", dir.display()))
        .arg(format!("oci:{}:arm64", copy.display())));
    let bundle = t.join("bundle");
    ok(Command::new("umoci")
        .args(["unpack", "--image"])
        .arg(format!("{}:arm64", copy.display()))
        .arg(&bundle));
    assert_eq!(
        fs::read_to_string(bundle.join("rootfs/etc/hello")).unwrap(),
        "hello from a layer\n"
    );
    assert_eq!(
        fs::read_to_string(bundle.join("rootfs/usr/bin/tool")).unwrap(),
        "#!/bin/sh\necho tool\n"
    );
    let config: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(bundle.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["process"]["args"][0], "/usr/bin/tool");

    // Exporting again gives the same bytes (deterministic archive).
    let again = t.join("again.oci.tar");
    oci::export_tar(&blobs, &index, "latest", &again, &[]).unwrap();
    assert_eq!(fs::read(&archive).unwrap(), fs::read(&again).unwrap());
    let _ = fs::remove_dir_all(&t);
}
