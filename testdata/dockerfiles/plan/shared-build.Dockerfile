# The build stage runs on the build machine and never reads TARGET* args:
# one instance serves every target platform.
FROM --platform=$BUILDPLATFORM debian:bookworm AS build
RUN apt-get update && apt-get install -y gcc
COPY hello.c /src/
RUN gcc -O2 -o /hello /src/hello.c

FROM debian:bookworm
COPY --from=build /hello /usr/bin/hello
RUN ["/usr/bin/hello"]
