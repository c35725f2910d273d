//! Hostile OCI layouts (written here, each with one lie) used through
//! `mxbuild verify oci-layout://DIR` and `--build-context x=oci-layout://DIR`
//! with `FROM x`: each is refused with an error naming the image and the
//! digest at fault, nothing unverified is stored, nothing hangs (FIFOs named
//! like blobs), and the same store still imports and verifies a good image
//! afterwards.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::support::bounded::{have_time, mx};
use crate::support::hostile_image::{self, Bag, assert_store_clean, blob_path, digest as d};
use crate::support::{is_root, tmp};
use serde_json::{Value, json};
use testkit::{mkfifo, require};

const DEADLINE: Duration = Duration::from_secs(120);

/// A layout case: its directory, what the error must say, and blobs that
/// must not end up in the store.
struct Case {
    name: &'static str,
    dir: std::path::PathBuf,
    expect: Vec<String>,
    absent: Vec<String>,
}

/// Every hostile layout, written under `t`.
fn cases(t: &Path) -> Vec<Case> {
    let mut out = Vec::new();
    let mut case =
        |name: &'static str, bag: &Bag, entry: &Value, expect: Vec<String>, absent: Vec<String>| {
            let dir = t.join(name);
            bag.write_layout(&dir, entry);
            out.push(Case {
                name,
                dir,
                expect,
                absent,
            });
        };

    // A layer longer than its descriptor says (declared 1 KiB, 1 MiB long).
    let mut b = Bag::default();
    let (mut l, id) = b.layer("big", &vec![b'x'; 1 << 20]);
    let real = l["size"].as_u64().unwrap();
    l["size"] = json!(1024);
    let c = b.config(&[id]);
    let (m, e) = b.manifest(&c, std::slice::from_ref(&l));
    let _ = m;
    case(
        "layer-longer",
        &b,
        &e,
        vec![
            d(&l),
            "longer than the 1024 bytes its descriptor declares".into(),
        ],
        vec![d(&l), d(&e), d(&c)],
    );
    assert!(real > 1024);

    // A layer shorter than its descriptor says.
    let mut b = Bag::default();
    let (mut l, id) = b.layer("small", b"tiny");
    let real = l["size"].as_u64().unwrap();
    l["size"] = json!(real + 1024);
    let c = b.config(&[id]);
    let (_, e) = b.manifest(&c, std::slice::from_ref(&l));
    case(
        "layer-shorter",
        &b,
        &e,
        vec![
            d(&l),
            format!(
                "has {real} bytes, but its descriptor declares {}",
                real + 1024
            ),
        ],
        vec![d(&l), d(&e), d(&c)],
    );

    // A Docker foreign layer, an unknown media type.
    for (name, media, says) in [
        (
            "foreign-layer",
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
            "foreign/non-distributable layer",
        ),
        (
            "unknown-layer-type",
            "application/vnd.example.not-a-layer",
            "not a layer type mxbuild unpacks",
        ),
    ] {
        let mut b = Bag::default();
        let (mut l, id) = b.layer("f", b"foreign");
        l["mediaType"] = json!(media);
        l["urls"] = json!(["http://127.0.0.1:9/evil"]);
        let c = b.config(&[id]);
        let (_, e) = b.manifest(&c, std::slice::from_ref(&l));
        case(
            name,
            &b,
            &e,
            vec![d(&e), media.to_string(), says.to_string()],
            vec![d(&l), d(&e), d(&c)],
        );
    }

    // diff_ids that do not match the layers (two for one).
    let mut b = Bag::default();
    let (l, id) = b.layer("a", b"a");
    let c = b.config(&[id.clone(), id]);
    let (_, e) = b.manifest(&c, std::slice::from_ref(&l));
    case(
        "diff-ids-mismatch",
        &b,
        &e,
        vec![d(&c), d(&e), "lists 2 diff_ids, but manifest".into()],
        vec![d(&l), d(&e), d(&c)],
    );

    // 126 layers: one more than Docker (and mxbuild) allow.
    let mut b = Bag::default();
    let (l, id) = b.layer("a", b"a");
    let c = b.config(&vec![id; 126]);
    let (_, e) = b.manifest(&c, &vec![l.clone(); 126]);
    case(
        "too-many-layers",
        &b,
        &e,
        vec![d(&e), "lists 126 layers, more than the 125".into()],
        vec![d(&l), d(&e), d(&c)],
    );

    // A 5 MiB manifest (padding in an annotation), honestly described.
    let mut b = Bag::default();
    let (l, id) = b.layer("a", b"a");
    let c = b.config(&[id]);
    let big = json!({
        "schemaVersion": 2, "mediaType": hostile_image::OCI_MANIFEST, "config": c, "layers": [l],
        "annotations": {"pad": "p".repeat(5 << 20)},
    })
    .to_string();
    let (md, ms) = b.add(big.as_bytes());
    let e = json!({"mediaType": hostile_image::OCI_MANIFEST, "digest": md, "size": ms});
    case(
        "huge-manifest",
        &b,
        &e,
        vec![md.clone(), "more than the 4 MiB".into()],
        vec![d(&l), md.clone(), d(&c)],
    );

    // A config longer than its descriptor says.
    let mut b = Bag::default();
    let (l, id) = b.layer("a", b"a");
    let mut c = b.config(&[id]);
    c["size"] = json!(10);
    let (_, e) = b.manifest(&c, std::slice::from_ref(&l));
    case(
        "config-longer",
        &b,
        &e,
        vec![d(&c), "longer than the 10 bytes".into()],
        vec![d(&l), d(&e), d(&c)],
    );

    // A manifest that does not hash to its name.
    let mut b = Bag::default();
    let (l, id) = b.layer("a", b"a");
    let c = b.config(&[id]);
    let (m, e) = b.manifest(&c, std::slice::from_ref(&l));
    let mut forged = m.clone();
    let last = forged.len() - 1;
    forged[last - 1] = b' ';
    b.blobs.insert(d(&e), forged);
    case(
        "manifest-forged",
        &b,
        &e,
        vec![d(&e), "hashes to".into()],
        vec![d(&l), d(&e), d(&c)],
    );

    // The layer blob is a FIFO: refused, not read (no hang), and a symlink
    // to /dev/zero: refused, not followed.
    for (name, special) in [("layer-fifo", "FIFO"), ("layer-symlink", "symbolic link")] {
        let mut b = Bag::default();
        let (l, id) = b.layer("a", b"fifo");
        let c = b.config(&[id]);
        let (_, e) = b.manifest(&c, std::slice::from_ref(&l));
        let mut without = b.clone();
        without.blobs.remove(&d(&l));
        case(
            name,
            &without,
            &e,
            vec![d(&l), special.to_string()],
            vec![d(&l), d(&e), d(&c)],
        );
        let p = blob_path(&t.join(name), &d(&l));
        if name == "layer-fifo" {
            mkfifo(&p);
        } else {
            std::os::unix::fs::symlink("/dev/zero", &p).unwrap();
        }
    }

    // index.json itself is a FIFO.
    let b = Bag::default();
    let dir = t.join("index-fifo");
    fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    mkfifo(&dir.join("index.json"));
    let _ = b;
    out.push(Case {
        name: "index-fifo",
        dir,
        expect: vec!["index.json".into(), "FIFO".into()],
        absent: vec![],
    });
    out
}

#[test]
fn hostile_layouts_are_refused_and_the_store_still_works() {
    if !require(is_root(), "mxbuild verify mounts the image (needs root)")
        || !require(
            have_time(),
            "GNU time is needed (scripts/setup.sh installs it)",
        )
    {
        return;
    }
    let t = tmp("hostile-layouts");
    let store = t.join("store");
    for c in cases(&t) {
        let run = mx(
            &store,
            &[
                "verify",
                &format!("oci-layout://{}:latest", c.dir.display()),
            ],
            DEADLINE,
        );
        println!("{}: exit {:?}: {}", c.name, run.code, run.text.trim());
        assert_eq!(
            run.code,
            Some(2),
            "{}: must fail cleanly, not hang: {}",
            c.name,
            run.text
        );
        assert!(
            run.text
                .contains(&format!("oci-layout://{}", c.dir.display())),
            "{}: the error names the image: {}",
            c.name,
            run.text
        );
        for want in &c.expect {
            assert!(
                run.text.contains(want.as_str()),
                "{}: expected {want:?} in: {}",
                c.name,
                run.text
            );
        }
        let absent: Vec<&str> = c.absent.iter().map(String::as_str).collect();
        assert_store_clean(&store, &absent);
    }

    // The same store imports and verifies a good image afterwards.
    let mut b = Bag::default();
    let (_, e) = b.good("still works\n");
    let good = t.join("good");
    b.write_layout(&good, &e);
    let run = mx(
        &store,
        &["verify", &format!("oci-layout://{}:latest", good.display())],
        DEADLINE,
    );
    println!("good: exit {:?}: {}", run.code, run.text.trim());
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert!(blob_path(&store, &d(&e)).exists());
    assert_store_clean(&store, &[]);
    let _ = fs::remove_dir_all(&t);
}

/// The same refusal through a build: `--build-context x=oci-layout://DIR`
/// with `FROM x` fails before anything runs; a good layout builds.
#[test]
fn hostile_layout_as_a_build_context() {
    if !require(is_root(), "mxbuild build needs root")
        || !require(
            have_time(),
            "GNU time is needed (scripts/setup.sh installs it)",
        )
    {
        return;
    }
    let t = tmp("hostile-context");
    let store = t.join("store");
    let ctx = t.join("ctx");
    fs::create_dir_all(&ctx).unwrap();
    fs::write(ctx.join("Dockerfile"), "FROM x\nCOPY note.txt /note.txt\n").unwrap();
    fs::write(ctx.join("note.txt"), "note\n").unwrap();

    let mut b = Bag::default();
    let (mut l, id) = b.layer("big", &vec![b'x'; 1 << 20]);
    l["size"] = json!(1024);
    let c = b.config(&[id]);
    let (_, e) = b.manifest(&c, std::slice::from_ref(&l));
    let bad = t.join("bad");
    b.write_layout(&bad, &e);
    let build = |layout: &Path, out: &Path| {
        mx(
            &store,
            &[
                "build",
                "--platform",
                "linux/amd64",
                "--build-context",
                &format!("x=oci-layout://{}:latest", layout.display()),
                "-o",
                &format!("type=local,dest={}", out.display()),
                ctx.to_str().unwrap(),
            ],
            DEADLINE,
        )
    };
    let run = build(&bad, &t.join("out-bad"));
    println!("bad context: exit {:?}: {}", run.code, run.text.trim());
    assert_ne!(run.code, Some(0), "{}", run.text);
    assert!(run.code.is_some(), "no hang: {}", run.text);
    assert!(
        run.text.contains(&d(&l)) && run.text.contains("longer than the 1024 bytes"),
        "{}",
        run.text
    );
    assert!(!t.join("out-bad/note.txt").exists());
    assert_store_clean(&store, &[&d(&l), &d(&e), &d(&c)]);

    let mut b = Bag::default();
    let (_, e) = b.good("base\n");
    let good = t.join("good");
    b.write_layout(&good, &e);
    let run = build(&good, &t.join("out-good"));
    println!("good context: exit {:?}", run.code);
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert_eq!(
        fs::read_to_string(t.join("out-good/note.txt")).unwrap(),
        "note\n"
    );
    assert_eq!(
        fs::read_to_string(t.join("out-good/hello.txt")).unwrap(),
        "base\n"
    );
    let _ = fs::remove_dir_all(&t);
}
