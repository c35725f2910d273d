# syntax=docker/dockerfile:1
# hello-c the naive way: the compiler is installed and run in the target
# stage, so every platform compiles under QEMU. For comparison (bench.sh).
ARG BASE=debian:bookworm
FROM ${BASE}
RUN apt-get update -q && apt-get install -y -q --no-install-recommends gcc libc6-dev >/dev/null
COPY hello.c /src/
RUN gcc -O2 -o /usr/local/bin/hello /src/hello.c
RUN hello
CMD ["hello"]
