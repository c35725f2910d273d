ARG BASE=debian:bookworm
ARG VERSION

FROM ${BASE} AS base
ENV APP_HOME=/app
WORKDIR $APP_HOME

FROM base AS test
RUN echo testing

FROM busybox AS unused
RUN echo never planned

FROM base AS release
ARG VERSION
LABEL version=$VERSION
COPY hello.c $APP_HOME/
