# Shared shell helpers for scripts/*.sh. Source it; it defines functions only.

# log MSG...: progress on stderr, so stdout stays for results.
log() { printf '==> %s\n' "$*" >&2; }

# ensure_packages PKG...: installs the Debian packages that are missing.
# Idempotent and quiet when everything is there. `apt-get update` may exit 100
# on this machine (a mirror's armhf security index has the wrong size), so its
# status is ignored and the install itself is what must succeed.
ensure_packages() {
  local missing=()
  local p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: packages ${missing[*]} are missing and installing them needs root" >&2
    echo "hint: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
    return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_rust_components: rustfmt and clippy, which the test command runs.
ensure_rust_components() {
  if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    log "installing rustfmt and clippy"
    rustup component add rustfmt clippy
  fi
}

# start_registry DIR: a docker-registry on a free 127.0.0.1 port, storing in
# DIR/registry and logging to DIR/registry.log. Sets `reg` (host:port) and
# `reg_pid` (the caller kills it, e.g. in its EXIT trap).
start_registry() {
  local dir=$1 port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat >"$dir/registry.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/registry
http:
  addr: 127.0.0.1:$port
YAML
  docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1 &
  reg_pid=$!
  for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
    sleep 0.2
  done
  reg=127.0.0.1:$port
}

# registry_with_base WORK MX: a docker-registry (see start_registry) holding
# debian:bookworm for every platform, as fresh stores (CI runners) pull it.
# MX is the mxbuild binary; the base images are made in WORK/seed.
registry_with_base() {
  local work=$1 mx=$2
  start_registry "$work"
  log "registry on $reg"
  scripts/base-images.sh "$work/seed" >/dev/null
  MXBUILD_ROOT=$work/seed "$mx" image push debian:bookworm "$reg/library/debian:bookworm" >/dev/null
}

# xx_context DIR: the xx helpers for `COPY --from=xx / /` (this checkout's
# static binary from target/release and its links) in DIR/usr/bin.
xx_context() {
  mkdir -p "$1/usr/bin"
  cp target/release/xx "$1/usr/bin/xx"
  "$1/usr/bin/xx" install-links "$1/usr/bin"
}

# replace_bench_section NAME FILE: puts FILE (a section opened by
# `<!-- NAME` and closed by `<!-- /NAME -->`) into BENCHMARKS.md in place of
# the section of that name, or at the end; then prints it.
replace_bench_section() {
  local name=$1 section=$2 tmp
  # `NAME:` or `NAME ` exactly: bench-c must not match bench-cache.
  if grep -Eq "^<!-- $name[: ]" BENCHMARKS.md 2>/dev/null; then
    tmp=$(mktemp)
    awk -v f="$section" -v start="^<!-- $name[: ]" -v stop="^<!-- /$name -->" '
      $0 ~ start { while ((getline l < f) > 0) print l; skip = 1; next }
      $0 ~ stop { skip = 0; next }
      !skip { print }
    ' BENCHMARKS.md >"$tmp"
    cp "$tmp" BENCHMARKS.md
    rm -f "$tmp"
  else
    { echo; cat "$section"; } >>BENCHMARKS.md
  fi
  cat "$section"
}

# registry_workspace MX: what the registry scripts (demo-distributed,
# bench-cache) share: a scratch directory `work` removed on exit, a
# registry `reg` holding debian:bookworm (killed on exit), and the xx
# helpers in `xxctx`. MX is the mxbuild binary.
registry_workspace() {
  work=$(mktemp -d)
  reg_pid=
  trap '[ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null; rm -rf "$work"' EXIT
  registry_with_base "$work" "$1"
  xxctx=$work/xx
  xx_context "$xxctx"
}
