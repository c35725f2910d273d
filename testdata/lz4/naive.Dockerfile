# lz4 1.9.4, the naive way: apt and the compile in the target stage, under
# QEMU for a foreign $TARGETPLATFORM. The same result as ./Dockerfile.
ARG BASE=debian:bookworm
FROM ${BASE} AS build
RUN apt-get update -q && apt-get install -y -q --no-install-recommends gcc libc6-dev make >/dev/null
ADD http://deb.debian.org/debian/pool/main/l/lz4/lz4_1.9.4.orig.tar.gz /lz4.tar.gz
RUN echo "0b0e3aa07c8c063ddf40b082bdf7e37a1562bda40a0ff5272957f3e987e0e54b  /lz4.tar.gz" | sha256sum -c - \
    && mkdir /src && tar -xzf /lz4.tar.gz -C /src --strip-components=1
RUN make -C /src -j"$(nproc)" lz4 >/dev/null && mkdir -p /out && cp /src/lz4 /out/

FROM ${BASE}
COPY --from=build /out/lz4 /usr/local/bin/
RUN lz4 --version
