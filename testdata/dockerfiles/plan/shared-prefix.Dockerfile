# Steps before `ARG TARGETPLATFORM` are shared by all targets; after it, one per target.
FROM --platform=$BUILDPLATFORM debian:bookworm AS build
COPY --from=xx / /
RUN apt-get update && apt-get install -y clang lld
ARG TARGETPLATFORM
RUN xx-apt-get install -y xx-c-essentials
COPY hello.c /src/
RUN xx-clang -o /hello /src/hello.c && xx-verify /hello

FROM scratch
COPY --from=build /hello /hello
