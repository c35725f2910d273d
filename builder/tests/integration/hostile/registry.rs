//! Hostile registries: a real `docker-registry` holding a manifest whose
//! layer descriptor is smaller than the blob (it accepts that), and a fake
//! registry (a std TcpListener thread, behind a Bearer token) serving an
//! endless manifest, a 330,000-layer manifest, a layer longer than declared
//! without a Content-Length, a 126-layer image and an endless token. Each
//! pull is refused with an error naming the image (and digest), stores
//! nothing unverified, stays within a bounded peak RSS, and a good image
//! pulls from the same store afterwards.

use std::time::Duration;

use crate::support::bounded::{have_time, mx};
use crate::support::fake_registry::{Body, FakeRegistry, Routes};
use crate::support::hostile_image::{
    Bag, OCI_MANIFEST, assert_store_clean, blob_path, digest as d,
};
use crate::support::mxbuild::tool;
use crate::support::raw_http::{push_blob, push_manifest};
use crate::support::registry::Registry;
use crate::support::tmp;
use serde_json::json;
use testkit::require;

const DEADLINE: Duration = Duration::from_secs(180);
/// mxbuild's peak RSS while refusing any of these stays below this.
const MAX_RSS_MIB: u64 = 200;

#[test]
fn docker_registry_layer_larger_than_its_descriptor() {
    if !require(
        tool("docker-registry") && have_time(),
        "docker-registry and GNU time are needed (scripts/setup.sh installs them)",
    ) {
        return;
    }
    let t = tmp("hostile-registry-size");
    let reg = Registry::start(&t, None);
    let host = reg.host();
    let repo = "hostile/sizelie";

    // A 40 MB layer whose descriptor says 1 KiB; docker-registry stores the
    // manifest without comparing sizes.
    let mut b = Bag::default();
    let (mut l, id) = b.layer("big", &vec![0u8; 40 << 20]);
    let real = l["size"].as_u64().unwrap();
    l["size"] = json!(1024);
    let c = b.config(&[id]);
    let (lie, _) = b.manifest(&c, std::slice::from_ref(&l));
    for bytes in b.blobs.values() {
        push_blob(&host, repo, bytes);
    }
    assert_eq!(
        push_manifest(&host, repo, "lie", &lie),
        201,
        "docker-registry takes the lying manifest"
    );
    let store = t.join("store");
    let image = format!("{host}/{repo}:lie");
    let run = mx(
        &store,
        &["image", "pull", "--platform", "linux/amd64", &image],
        DEADLINE,
    );
    println!(
        "size lie: exit {:?}, peak RSS {} MiB: {}",
        run.code,
        run.max_rss_mib,
        run.text.trim()
    );
    assert_eq!(run.code, Some(1), "{}", run.text);
    assert!(
        run.text.contains(&image)
            && run.text.contains(&d(&l))
            && run.text.contains("1024 bytes its descriptor declares"),
        "{}",
        run.text
    );
    assert!(run.max_rss_mib < MAX_RSS_MIB, "{} MiB", run.max_rss_mib);
    assert_store_clean(&store, &[&d(&l), &d(&c)]);

    // The honest manifest for the same blobs pulls into the same store.
    l["size"] = json!(real);
    let (honest, _) = b.manifest(&c, std::slice::from_ref(&l));
    assert_eq!(push_manifest(&host, repo, "honest", &honest), 201);
    let run = mx(
        &store,
        &[
            "image",
            "pull",
            "--platform",
            "linux/amd64",
            &format!("{host}/{repo}:honest"),
        ],
        DEADLINE,
    );
    println!("honest: exit {:?}: {}", run.code, run.text.trim());
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert!(blob_path(&store, &d(&l)).exists());
    assert_store_clean(&store, &[]);
    let _ = std::fs::remove_dir_all(&t);
}

/// Routes for manifest `tag` of repository `r` and every blob of `bag`.
fn routes(bag: &Bag, r: &str, manifests: &[(&str, Body)]) -> Routes {
    let mut out = Routes::new();
    for (d, bytes) in &bag.blobs {
        out.insert(
            format!("/v2/{r}/blobs/{d}"),
            (
                "application/octet-stream".into(),
                Body::Sized(bytes.clone()),
            ),
        );
    }
    for (tag, body) in manifests {
        out.insert(
            format!("/v2/{r}/manifests/{tag}"),
            (OCI_MANIFEST.into(), body.clone()),
        );
    }
    out
}

#[test]
fn fake_registry_hostile_manifests_blobs_and_tokens() {
    if !require(
        have_time(),
        "GNU time is needed (scripts/setup.sh installs it)",
    ) {
        return;
    }
    let t = tmp("hostile-fake");
    let store = t.join("store");
    let r = "evil/app";

    // A good image (also the source of blobs the lies point at).
    let mut bag = Bag::default();
    let (good, _) = bag.good("from the fake registry\n");

    // 330,000 layers (~40 MB of JSON), sent with its length.
    let (l, id) = bag.layer("a", b"a");
    let c = bag.config(std::slice::from_ref(&id));
    let many = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": c,
        "layers": vec![l.clone(); 330_000],
    })
    .to_string()
    .into_bytes();
    println!("330,000-layer manifest: {} bytes", many.len());
    let many_says = format!(
        "announced a manifest for many of {} bytes, over the limit",
        many.len()
    );

    // 126 layers, within 4 MiB: refused by count before any blob is fetched.
    let c126 = bag.config(&vec![id; 126]);
    let (deep, _) = bag.manifest(&c126, &vec![l.clone(); 126]);

    // A layer declared as 1 KiB, served as 40 MB without a Content-Length.
    let mut liar_bag = Bag::default();
    let (mut big, big_id) = liar_bag.layer("big", &vec![7u8; 40 << 20]);
    let big_bytes = liar_bag.blobs[&d(&big)].clone();
    big["size"] = json!(1024);
    let cbig = bag.config(&[big_id]);
    let (lie, _) = bag.manifest(&cbig, std::slice::from_ref(&big));

    let mut rt = routes(
        &bag,
        r,
        &[
            ("good", Body::Sized(good)),
            ("endless", Body::Endless),
            ("many", Body::Sized(many)),
            ("deep", Body::Sized(deep)),
            ("lie", Body::Sized(lie)),
        ],
    );
    rt.insert(
        format!("/v2/{r}/blobs/{}", d(&big)),
        ("application/octet-stream".into(), Body::Unsized(big_bytes)),
    );
    let fake = FakeRegistry::start(
        rt.clone(),
        Some(Body::Sized(br#"{"token":"t0k"}"#.to_vec())),
    );
    let image = |tag: &str| format!("{}/{r}:{tag}", fake.host());
    let pull = |tag: &str| {
        mx(
            &store,
            &["image", "pull", "--platform", "linux/amd64", &image(tag)],
            DEADLINE,
        )
    };

    for (tag, says) in [
        ("endless", "longer than the limit of 4194304 bytes"),
        ("many", many_says.as_str()),
        ("deep", "lists 126 layers, more than the 125"),
        ("lie", "longer than the 1024 bytes its descriptor declares"),
    ] {
        let before = fake.requests(&format!("/v2/{r}/blobs/")).len();
        let run = pull(tag);
        println!(
            "{tag}: exit {:?}, peak RSS {} MiB: {}",
            run.code,
            run.max_rss_mib,
            run.text.trim()
        );
        assert_eq!(run.code, Some(1), "{tag}: {}", run.text);
        assert!(
            run.text.contains(&image(tag)),
            "{tag}: names the image: {}",
            run.text
        );
        assert!(run.text.contains(says), "{tag}: {}", run.text);
        assert!(
            run.max_rss_mib < MAX_RSS_MIB,
            "{tag}: peak RSS {} MiB",
            run.max_rss_mib
        );
        assert_store_clean(&store, &[&d(&big), &d(&cbig), &d(&c126)]);
        let blob_requests = fake.requests(&format!("/v2/{r}/blobs/")).len() - before;
        if tag == "deep" || tag == "endless" || tag == "many" {
            assert_eq!(blob_requests, 0, "{tag}: refused before fetching any blob");
        }
        if tag == "lie" {
            assert!(run.text.contains(&d(&big)), "{}", run.text);
        }
    }
    // The token dance happened (every /v2 request needs it).
    assert!(!fake.requests("/token").is_empty());

    // The same store pulls the good image.
    let run = pull("good");
    println!("good: exit {:?}: {}", run.code, run.text.trim());
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert_store_clean(&store, &[]);
    drop(fake);

    // A token service that never stops talking.
    let fake = FakeRegistry::start(rt, Some(Body::Endless));
    let store2 = t.join("store2");
    let run = mx(
        &store2,
        &[
            "image",
            "pull",
            "--platform",
            "linux/amd64",
            &format!("{}/{r}:good", fake.host()),
        ],
        DEADLINE,
    );
    println!(
        "endless token: exit {:?}, peak RSS {} MiB: {}",
        run.code,
        run.max_rss_mib,
        run.text.trim()
    );
    assert_eq!(run.code, Some(1), "{}", run.text);
    assert!(run.text.contains("token response"), "{}", run.text);
    assert!(run.max_rss_mib < MAX_RSS_MIB);
    assert_store_clean(&store2, &[]);
    let _ = std::fs::remove_dir_all(&t);
}
