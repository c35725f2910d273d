//! xx-clang for the non-Linux targets, in a debootstrapped Debian bookworm
//! root with clang, lld and llvm, as upstream's suite runs them: Windows
//! (relative LLVM tool links, `<triple>-windres` and a real resource
//! compile), darwin without ld64 (a warning, not a failure) and wasi (the C
//! runtime from `xx-apt-get install xx-c-essentials`, a module that runs).

use std::process::Command;

use crate::support::{Sandbox, base_rootfs, require};

#[test]
fn windows_darwin_and_wasi_toolchains() {
    let Some(rootfs) = base_rootfs("amd64", &["clang", "lld"]) else {
        return;
    };
    let sb = Sandbox::new("other-os", &rootfs);
    sb.run_ok(
        "apt-get update -q >/tmp/apt.log 2>&1 && apt-get install -y -q llvm >>/tmp/apt.log 2>&1 \
         || { tail -30 /tmp/apt.log; exit 1; }",
        &[],
    );

    // Windows: LLVM tools linked by relative name, as upstream; a windres.
    let win = [("TARGETPLATFORM", "windows/arm64")];
    let links = sb.run_ok(
        "xx-clang --setup-target-triple && readlink /usr/bin/aarch64-w64-mingw32-dlltool \
         /usr/bin/aarch64-w64-mingw32-ar && cat /usr/bin/aarch64-w64-mingw32-windres",
        &win,
    );
    let mut lines = links.lines();
    assert_eq!(lines.next(), Some("llvm-dlltool"), "{links}");
    assert_eq!(lines.next(), Some("llvm-ar"), "{links}");
    assert!(
        links.contains("exec xx-windres --target=aarch64-w64-mingw32 \"$@\""),
        "{links}"
    );

    // A real resource script through <triple>-windres: a COFF object for ARM64.
    let rc = r#"#define GREETING "hello"
STRINGTABLE
BEGIN
  1 GREETING
END
"#;
    let script = format!(
        "mkdir -p /out && cat > /out/app.rc <<'EOF'\n{rc}EOF\n\
         aarch64-w64-mingw32-windres /out/app.rc /out/app.o && \
         XX_WINDRES_DRYRUN=1 XX_TMP_FILE_FIXED=/tmp/t xx-windres -F x86_64-w64-mingw32 -O res /out/app.rc /out/app.res && \
         xx-windres -F x86_64-w64-mingw32 /out/app.rc /out/app.res && ls /out"
    );
    let out = sb.run_ok(&script, &win);
    assert!(
        out.contains("-E -xc -D RC_INVOKED=1 -o /tmp/t /out/app.rc"),
        "dry run prints the pipeline: {out}"
    );
    assert!(out.contains("-fo /tmp/t_ -I /out /tmp/t"), "{out}");
    assert!(out.contains("cp /tmp/t_ /out/app.res"), "{out}");
    let obj = std::fs::read(sb.upper("/out/app.o")).unwrap();
    assert_eq!(
        u16::from_le_bytes([obj[0], obj[1]]),
        0xaa64,
        "COFF machine ARM64"
    );
    let res = std::fs::read(sb.upper("/out/app.res")).unwrap();
    assert_eq!(
        &res[..8],
        b"\0\0\0\0\x20\0\0\0",
        "a .res starts with its null header"
    );
    assert!(
        res.windows(10).any(|w| w == "h\0e\0l\0l\0o\0".as_bytes()),
        "the string made it through the preprocessor"
    );

    // darwin without ld64: upstream warns, exits 0 and writes the config.
    let out = sb.run(
        "xx-clang --setup-target-triple && cat /usr/bin/x86_64-apple-macos10.6.cfg",
        &[
            ("TARGETOS", "darwin"),
            ("TARGETARCH", "amd64"),
            ("XX_NO_DOWNLOAD", "1"),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("building for darwin requires ld64 linker"),
        "{out:?}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "--target=x86_64-apple-macos10.6 -fuse-ld=ld64 -isysroot /xx-sdk/MacOSX11.1.sdk -stdlib=libc++"
    );

    // The xcrun stand-in reports the SDK that is there (upstream: always 11.1).
    let out = sb.run_ok(
        "rm -f /usr/bin/xcrun && mkdir -p /xx-sdk/MacOSX13.3.sdk && \
         xx-clang --setup-target-triple 2>/dev/null && xcrun --show-sdk-version && xcrun --show-sdk-path",
        &[("TARGETPLATFORM", "darwin/arm64")],
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["13.3", "/xx-sdk/MacOSX13.3.sdk"],
        "{out}"
    );

    // wasi: the usual two lines, then a module that runs under node's WASI.
    let wasi = [("TARGETPLATFORM", "wasi/wasm")];
    let hello =
        "#include <stdio.h>\nint main(void) { printf(\"hello from C on wasm32\\n\"); return 0; }\n";
    let script = format!(
        "set -e\ncat > /out/hello.c <<'EOF'\n{hello}EOF\n\
         xx-apt-get install -y -q xx-c-essentials >/tmp/apt-wasi.log 2>&1 || {{ tail -30 /tmp/apt-wasi.log; exit 1; }}\n\
         xx-clang -O2 -o /out/hello.wasm /out/hello.c\n\
         xx-verify /out/hello.wasm && echo verified\n\
         cat /usr/bin/wasm32-wasi.cfg"
    );
    let out = sb.run_ok(&script, &wasi);
    assert!(out.contains("verified"), "{out}");
    assert!(
        out.contains("--target=wasm32-wasi -fuse-ld=lld --sysroot=/usr"),
        "{out}"
    );
    let module = sb.upper("/out/hello.wasm");
    let has_node = Command::new("node").arg("--version").output().is_ok();
    if !require(has_node, "node (for WASI) missing: run scripts/setup.sh") {
        return;
    }
    let runner = "const fs = require('fs'); const { WASI } = require('wasi');
const wasi = new WASI({ version: 'preview1', args: [], env: {} });
WebAssembly.compile(fs.readFileSync(process.argv[1]))
  .then((m) => WebAssembly.instantiate(m, wasi.getImportObject()))
  .then((i) => wasi.start(i));";
    let out = Command::new("node")
        .args(["--no-warnings", "-e", runner])
        .arg(&module)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "hello from C on wasm32",
        "{out:?}"
    );
}
