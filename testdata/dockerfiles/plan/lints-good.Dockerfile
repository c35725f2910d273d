# The same build, written the fast way: compile on the build machine with xx,
# declare TARGET* args only where needed, and only copy into the target stage.
FROM --platform=$BUILDPLATFORM debian:bookworm AS build
COPY --from=xx / /
RUN apt-get update && apt-get install -y clang lld make
ARG TARGETPLATFORM
RUN xx-apt-get install -y xx-c-essentials
RUN make CC=xx-clang && xx-verify /out/hello

FROM debian:bookworm
COPY --from=build /out/hello /usr/bin/hello
