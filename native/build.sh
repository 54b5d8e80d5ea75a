#!/usr/bin/env bash
# Builds librectok_torch.so with CMake, incrementally. Called by Maven (rectok-native) and bin/*.
#   native/build.sh [BUILD_DIR]      (default: native/build)
# LibTorch: RECTOK_LIBTORCH=<prefix> | RECTOK_USE_PYTHON_TORCH=1 | Debian libtorch-dev.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/build}"
if ! command -v cmake >/dev/null || ! command -v g++ >/dev/null; then
  echo "rectok: cmake and g++ are needed to build the native shim: apt-get install -y cmake g++ (or run bin/setup as root)" >&2
  exit 1
fi
if [ -z "${RECTOK_LIBTORCH:-}" ] && [ -z "${RECTOK_USE_PYTHON_TORCH:-}" ] && [ ! -f /usr/lib/x86_64-linux-gnu/cmake/Torch/TorchConfig.cmake ]; then
  echo "rectok: LibTorch not found. Install it (apt-get install -y libtorch-dev, or run bin/setup as root)," >&2
  echo "        or set RECTOK_LIBTORCH=<libtorch prefix>, or RECTOK_USE_PYTHON_TORCH=1 to use python3's torch." >&2
  exit 1
fi
mkdir -p "$out"
# Reconfigure when the LibTorch choice changes.
stamp="torch=${RECTOK_LIBTORCH:-}|py=${RECTOK_USE_PYTHON_TORCH:-}"
if [ ! -f "$out/CMakeCache.txt" ] || [ "$(cat "$out/.rectok-torch" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$out/CMakeCache.txt" "$out/CMakeFiles"
  cmake -S "$here" -B "$out" -DCMAKE_BUILD_TYPE=Release ${RECTOK_USE_PYTHON_TORCH:+-DRECTOK_USE_PYTHON_TORCH=ON} >"$out/configure.log" 2>&1 \
    || { cat "$out/configure.log" >&2; exit 1; }
  echo "$stamp" > "$out/.rectok-torch"
fi
if ! cmake --build "$out" -j"$(nproc)" >"$out/build.log" 2>&1; then
  cat "$out/build.log" >&2
  echo "rectok: native build failed (log: $out/build.log)" >&2
  exit 1
fi
grep -E 'warning|error' "$out/build.log" >&2 || true
