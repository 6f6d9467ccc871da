#!/bin/sh
# The "build": copies the app into dist/ and stamps the release.
# BREAK_HEALTH=1 builds a release whose health check fails (for the demo).
set -eu
rm -rf dist
mkdir -p dist/bin dist/static
cp app/bin/* dist/bin/
cp app/static/* dist/static/
chmod +x dist/bin/*
echo "${PLUGBOX_VERSION:-dev}" > dist/RELEASE
if [ "${BREAK_HEALTH:-0}" = 1 ]; then echo "this release is broken" > dist/BROKEN; fi
