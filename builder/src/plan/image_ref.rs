//! What a Dockerfile may name as an image (`FROM x`, `COPY --from=x`,
//! `RUN --mount=from=x`, when `x` is neither a stage nor a named context):
//! only an image reference.
//!
//! In BuildKit such a name goes through docker's reference parser, so
//! `FROM oci-layout:///some/dir` or `FROM /some/dir` fails with "invalid
//! reference format": local sources (OCI layouts, directories) reach a build
//! only through `--build-context`, which the person running the build
//! chooses. A Dockerfile is untrusted input; if it could name a layout or a
//! directory, it could copy any image or file of the machine into its output.
//! mxbuild refuses names that are local sources (a `scheme://` or a path)
//! at plan time, with a hint that says how to pass the source properly;
//! anything else is parsed as a reference when the image is looked up.

/// Refuses `name` when it is a local source (an OCI layout, another
/// `scheme://`, a path) instead of an image reference; the error is
/// (message, hint). `what` is the instruction part that named it (`FROM `,
/// `COPY --from=`), written right before the name.
pub fn check(what: &str, name: &str) -> Result<(), (String, String)> {
    if let Some((scheme, _)) = name.split_once("://") {
        let message = if scheme.eq_ignore_ascii_case("oci-layout") {
            format!(
                "{what}{name}: an OCI layout cannot be named in a Dockerfile (only an image reference can)"
            )
        } else {
            format!(
                "{what}{name}: {scheme}:// is not an image reference (sources like this are given on the command line)"
            )
        };
        let hint = format!(
            "pass it as a named context, --build-context NAME={name}, and use the name here ({what}NAME)"
        );
        return Err((message, hint));
    }
    if name.starts_with('/')
        || name.starts_with("./")
        || name.starts_with("../")
        || name == "."
        || name == ".."
    {
        return Err((
            format!(
                "{what}{name}: a directory cannot be named in a Dockerfile (only an image reference can)"
            ),
            format!(
                "pass it as a named context, --build-context NAME={name} (or NAME=oci-layout://{name} for an OCI layout), and use the name here ({what}NAME)"
            ),
        ));
    }
    // Other malformed names (an undefined `$STAGE`, upper case) cannot
    // reach anything local: the image lookup refuses them with the parser's
    // message, and `mxbuild plan` still shows the lints about them.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_sources_are_refused_images_pass() {
        for ok in [
            "debian",
            "debian:bookworm",
            "127.0.0.1:5000/app:1",
            "ghcr.io/o/a@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ] {
            assert!(check("FROM ", ok).is_ok(), "{ok}");
        }
        let (m, h) = check("FROM ", "oci-layout:///srv/private:latest").unwrap_err();
        assert!(m.contains("OCI layout cannot be named"), "{m}");
        assert!(
            h.contains("--build-context NAME=oci-layout:///srv/private:latest"),
            "{h}"
        );
        for bad in [
            "docker-image://debian",
            "local:///etc",
            "/srv/layout",
            "./dir",
            "../up",
            "..",
            "OCI-LAYOUT:///x",
        ] {
            assert!(check("COPY --from=", bad).is_err(), "{bad}");
        }
    }
}
