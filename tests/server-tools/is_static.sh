#!/bin/sh
# plugbox-server is copied to hosts of any distribution and any glibc: with
# PLUGBOX_SERVER_STATIC it must be a static executable (no program
# interpreter, no NEEDED library) that runs. Usage: is_static.sh BINARY [RUNNER]
# (RUNNER: e.g. qemu-aarch64 for another architecture's binary).
set -eu
bin=$1
runner=${2:-}
if readelf -l "$bin" | grep -q 'INTERP'; then
  echo "FAIL: $bin has a program interpreter (it is dynamically linked)"; exit 1
fi
needed=$(readelf -d "$bin" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if [ -n "$needed" ]; then
  echo "FAIL: $bin needs shared libraries: $needed"; exit 1
fi
echo "ok: $bin is static ($(readelf -h "$bin" | sed -n 's/.*Machine: *//p'))"
# And it runs: --version names it.
out=$($runner "$bin" --version)
echo "$out"
case $out in
  "plugbox-server "*) ;;
  *) echo "FAIL: --version printed: $out"; exit 1 ;;
esac
