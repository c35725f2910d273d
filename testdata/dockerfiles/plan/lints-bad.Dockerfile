ARG TARGETARCH=amd64
FROM --platform=$BUILDPLATFORM debian:bookworm AS build
ARG TARGETPLATFORM
RUN apt-get update && apt-get install -y gcc make
RUN make

FROM --platform=linux/amd64 build AS again
ARG STAGE=build

FROM debian:bookworm
RUN apt-get update && apt-get install -y gcc
RUN gcc -o /hello /hello.c
COPY --from=$STAGE /out /out
