# syntax=docker/dockerfile:1
# A common mistake: the build stage runs on $BUILDPLATFORM but compiles with
# the native compiler, so every target image gets a build-platform binary.
# mxbuild's verification must catch it (builder tests and the README).
ARG BASE=debian:bookworm
FROM --platform=$BUILDPLATFORM ${BASE} AS build
RUN apt-get update -q && apt-get install -y -q --no-install-recommends gcc libc6-dev >/dev/null
COPY hello.c /src/
RUN mkdir -p /out && gcc -O2 -o /out/hello /src/hello.c

FROM ${BASE}
COPY --from=build /out/hello /usr/local/bin/hello
CMD ["hello"]
