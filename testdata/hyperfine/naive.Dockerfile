# hyperfine 1.18.0, the naive way: everything in the target stage, so for a
# foreign $TARGETPLATFORM apt, rustc and the whole compile run under QEMU.
# The same result as ./Dockerfile; scripts/bench.sh measures the difference.
ARG BASE=debian:bookworm
FROM ${BASE} AS build
RUN apt-get update -q && apt-get install -y -q --no-install-recommends ca-certificates gcc libc6-dev rustc-web cargo-web >/dev/null
ARG CRATE=hyperfine@1.18.0
RUN --mount=type=secret,id=cacert,target=/etc/ssl/certs/ca-certificates.crt \
    cargo install --locked --root /out "$CRATE"

FROM ${BASE}
COPY --from=build /out/bin/ /usr/local/bin/
RUN hyperfine --version
