#!/usr/bin/env bash
# Rebuilds the tiny binaries in testdata/elf/ that the xx-verify tests use,
# with this machine's compilers: Debian's cross gcc (glibc, dynamic), clang,
# and zig from PyPI (musl static, ARMv6, big-endian, riscv64, mips, loong64,
# PE and Mach-O). The results are committed; CI does not rebuild them.
# Every file is listed with its command in testdata/elf/FIXTURES.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_packages clang lld gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf gcc-arm-linux-gnueabi \
  gcc-i686-linux-gnu gcc-powerpc64le-linux-gnu gcc-s390x-linux-gnu \
  libc6-dev-arm64-cross libc6-dev-armhf-cross libc6-dev-armel-cross libc6-dev-i386-cross \
  libc6-dev-ppc64el-cross libc6-dev-s390x-cross
python3 -m ziglang version >/dev/null 2>&1 || pip install -q ziglang

out=testdata/elf
src=$out/src/hello.c
start=$out/src/start.c
notes=$out/FIXTURES.md
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
export SOURCE_DATE_EPOCH=0
# Small files: no separate code pages, 4 KiB alignment, no build id, stripped.
small=(-Os -s -Wl,-z,noseparate-code -Wl,-z,max-page-size=4096 -Wl,--build-id=none)

{
  echo "# ELF/PE/Mach-O fixtures for xx-verify"
  echo
  echo "Built by \`scripts/make-elf-fixtures.sh\` from \`src/hello.c\` (or \`src/start.c\`, a libc-free"
  echo "\`_start\`) with the compilers named below. Regenerate with that script; do not edit."
  echo
  echo "| file | what it is | command |"
  echo "|---|---|---|"
} >"$notes"

# build NAME DESCRIPTION COMMAND...: runs COMMAND -o $out/NAME and records it.
build() {
  local name=$1 desc=$2
  shift 2
  log "building $name"
  "$@" -o "$out/$name"
  echo "| \`$name\` | $desc | \`$*\` |" | sed "s|$PWD/||g" >>"$notes"
}
zig() { python3 -m ziglang cc "$@"; }

# glibc, dynamically linked, Debian cross gcc 12.
build linux-amd64-gnu-dynamic "x86-64 glibc, dynamic" gcc "${small[@]}" "$src"
build linux-arm64-gnu-dynamic "AArch64 glibc, dynamic" aarch64-linux-gnu-gcc "${small[@]}" "$src"
build linux-armv7-gnueabihf-dynamic "ARMv7 hard-float glibc (Debian armhf), dynamic" arm-linux-gnueabihf-gcc "${small[@]}" "$src"
build linux-armv5-gnueabi-dynamic "ARMv5TE soft-float glibc (Debian armel), dynamic" arm-linux-gnueabi-gcc "${small[@]}" "$src"
build linux-armv7-gnueabi-dynamic "ARMv7 but soft-float glibc, dynamic" arm-linux-gnueabi-gcc -march=armv7-a "${small[@]}" "$src"
build linux-armv6-gnueabi-vfp-dynamic "ARMv6 soft-float ABI using VFPv2, dynamic" arm-linux-gnueabi-gcc -march=armv6 -mfpu=vfp -mfloat-abi=softfp "${small[@]}" "$src"
build linux-armv7-gnueabihf-neon-dynamic "ARMv7 hard-float with NEON/VFPv3, dynamic" arm-linux-gnueabihf-gcc -mfpu=neon "${small[@]}" "$src"
build linux-386-gnu-dynamic "i686 glibc, dynamic" i686-linux-gnu-gcc "${small[@]}" "$src"
build linux-ppc64le-gnu-dynamic "POWER8 little-endian glibc, dynamic" powerpc64le-linux-gnu-gcc "${small[@]}" "$src"
build linux-s390x-gnu-dynamic "IBM Z glibc, dynamic" s390x-linux-gnu-gcc "${small[@]}" "$src"

# Static without libc: clang + lld (static, and static-pie).
build linux-amd64-static "x86-64, static, no libc" clang -Os -s -nostdlib -static -fuse-ld=lld "$start"
build linux-amd64-static-pie "x86-64, static-pie, no libc" clang -Os -s -nostdlib -static-pie -fPIE -fuse-ld=lld "$start"
build linux-arm64-static "AArch64, static, no libc" clang --target=aarch64-linux-gnu -Os -s -nostdlib -static -fuse-ld=lld "$start"

# musl, static, zig 0.17.
build linux-arm64-musl-static "AArch64 musl, static" zig -target aarch64-linux-musl -Os -s "$src"
build linux-armv6-musleabihf-static "ARMv6 hard-float musl, static (Raspberry Pi Zero: arm1176jzf_s)" zig -target arm-linux-musleabihf -mcpu=arm1176jzf_s -Os -s "$src"
build linux-armv7-musleabihf-static "ARMv7 hard-float musl, static" zig -target arm-linux-musleabihf -mcpu=cortex_a7 -Os -s "$src"
build linux-riscv64-musl-static "RISC-V 64 musl, static" zig -target riscv64-linux-musl -Os -s "$src"
build linux-loong64-musl-static "LoongArch64 musl, static" zig -target loongarch64-linux-musl -Os -s "$src"
build linux-mips-musl-static "MIPS big-endian musl, static" zig -target mips-linux-musleabi -Os -s "$src"
build linux-mipsle-musl-static "MIPS little-endian musl, static" zig -target mipsel-linux-musleabi -Os -s "$src"
build linux-mips64-musl-static "MIPS64 big-endian musl, static" zig -target mips64-linux-muslabi64 -Os -s "$src"
build linux-mips64le-musl-static "MIPS64 little-endian musl, static" zig -target mips64el-linux-muslabi64 -Os -s "$src"
build linux-ppc64-musl-static "POWER big-endian (ppc64) musl, static" zig -target powerpc64-linux-musl -Os -s "$src"
build linux-s390x-musl-static "IBM Z musl, static" zig -target s390x-linux-musl -Os -s "$src"
build linux-armbe-static "ARM big-endian, static, no libc" zig -target armeb-linux-musleabi -nostdlib -static -Os -s "$start"
build linux-arm64be-static "AArch64 big-endian, static, no libc" zig -target aarch64_be-linux-musl -nostdlib -static -Os -s "$start"
build linux-amd64-musl-dynamic "x86-64 musl, dynamic (Alpine-style loader)" zig -target x86_64-linux-musl -dynamic -Os -s "$src"

# Other operating systems.
build freebsd-amd64 "x86-64 FreeBSD" zig -target x86_64-freebsd -Os -s "$src"
build windows-amd64.exe "PE32+ x86-64" zig -target x86_64-windows-gnu -Os -s "$src"
build windows-386.exe "PE32 i386" zig -target x86-windows-gnu -Os -s "$src"
build windows-arm64.exe "PE32+ ARM64" zig -target aarch64-windows-gnu -Os -s "$src"
build darwin-amd64 "Mach-O x86_64" zig -target x86_64-macos -Os "$src"
build darwin-arm64 "Mach-O arm64" zig -target aarch64-macos -Os "$src"

# Universal Mach-O: both slices behind a fat header (built here, no lipo needed).
python3 - "$out/darwin-amd64" "$out/darwin-arm64" "$out/darwin-universal" <<'PY'
import struct, sys
a, b, dst = sys.argv[1:]
slices = [(0x01000007, 3, open(a, 'rb').read()), (0x0100000c, 0, open(b, 'rb').read())]
align = 14  # 16 KiB
offset = 1 << align
header = struct.pack('>II', 0xcafebabe, len(slices))
body = b''
for cpu, sub, data in slices:
    header += struct.pack('>IIIII', cpu, sub, offset + len(body), len(data), align)
    body += data + b'\0' * ((-len(data)) % (1 << align))
open(dst, 'wb').write(header + b'\0' * (offset - len(header)) + body)
PY
echo "| \`darwin-universal\` | Mach-O universal (x86_64 + arm64) | fat header written by the script around darwin-amd64 and darwin-arm64 |" >>"$notes"

# Bad inputs.
printf 'just some text\n' >"$out/not-a-binary.txt"
head -c 100 "$out/linux-arm64-gnu-dynamic" >"$out/truncated-elf"
echo "| \`not-a-binary.txt\` | a text file | printf |" >>"$notes"
echo "| \`truncated-elf\` | the first 100 bytes of linux-arm64-gnu-dynamic | head -c 100 |" >>"$notes"

{
  echo
  echo "Compilers: $(gcc --version | head -1); $(clang --version | head -1); zig $(python3 -m ziglang version)."
} >>"$notes"
ls -l "$out" | awk '{s+=$5} END {print "fixtures total:", s, "bytes"}'
