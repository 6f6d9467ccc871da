#!/bin/sh
# plugbox-server is copied to hosts of any distribution: with
# PLUGBOX_SERVER_STATIC it must need nothing but glibc at run time.
# Usage: needs_only_glibc.sh PATH-TO-plugbox-server
set -eu
bin=$1
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$needed" ] || { echo "FAIL: readelf found no NEEDED entries in $bin"; exit 1; }
bad=0
for lib in $needed; do
  case $lib in
    libc.so.*|libm.so.*|ld-linux*.so.*) echo "ok: $lib" ;;
    *) echo "FAIL: $bin needs $lib (link it statically, see server-tools/CMakeLists.txt)"; bad=1 ;;
  esac
done
# And it runs: the static parts were linked in whole.
"$bin" --help >/dev/null
exit $bad
