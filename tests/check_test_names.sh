#!/bin/sh
# Fails when a Catch test name cannot be a CTest test name. Why: CMake splits
# lists at ';', so catch_discover_tests registered a name with ';' as pieces
# that match no test; each piece ran nothing and passed (32 tests never ran
# under ctest until this check). Args: every Catch test binary.
status=0
for bin in "$@"; do
  bad=$("$bin" --list-test-names-only | grep ';')
  if [ -n "$bad" ]; then
    echo "$bin: test names with ';' (ctest splits them and runs nothing): use ',' instead:" >&2
    echo "$bad" >&2
    status=1
  fi
done
exit $status
