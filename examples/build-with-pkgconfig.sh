#!/bin/bash
# Build and run the example as an outside user would:
#   cc dma_copy_client.c $(PKG_CONFIG_PATH=BUILD pkg-config --cflags --libs dmasim)
# Usage: build-with-pkgconfig.sh BUILD_DIR [CC]
set -euo pipefail
build=$1 cc=${2:-cc}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# the library must exist (the test runs after the build)
[ -f "$build/libdmasim.a" ] || { echo "no $build/libdmasim.a" >&2; exit 1; }
flags=$(PKG_CONFIG_PATH="$build" pkg-config --cflags --libs dmasim)
"$cc" -std=gnu11 -Wall -Wextra -Werror -o "$out/client" \
	"$here/dma_copy_client.c" $flags
"$out/client" x86
"$out/client" arm64
