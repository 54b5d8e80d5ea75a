#!/usr/bin/env bash
# Compiles the shim (syntax and types, no link) against LibTorch 1.13 and 2.x headers, with and
# without the CUDA branch, on a CPU-only Debian 12 machine:
#   - 1.13: Debian 12's libtorch-dev (installed by bin/setup);
#   - 2.x:  Debian 13's libtorch-dev, downloaded as .debs and unpacked under native/build-compat
#           (nothing is installed system-wide);
#   - CUDA: the CUDA toolkit headers in /usr/local/cuda if present (the generated
#           c10/cuda/impl/cuda_cmake_macros.h that CPU packages lack is stubbed).
# It proves every native/src/*.cpp (the #if blocks included) compiles on both major versions; running
# on 2.x needs a machine with it (native/cuda-check.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
WORK="$ROOT/native/build-compat"
mkdir -p "$WORK/lists/partial" "$WORK/debs" "$WORK/stub/c10/cuda/impl"
echo '#define C10_CUDA_BUILD_SHARED_LIBS' > "$WORK/stub/c10/cuda/impl/cuda_cmake_macros.h"

if [ ! -f "$WORK/root/usr/include/torch/csrc/api/include/torch/version.h" ]; then
  # The Debian mirror this machine already uses, asked for the next release (trixie).
  MIRROR="$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)[[:space:]]*$/\1/p' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)"
  [ -n "$MIRROR" ] || MIRROR="$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ { print $2; exit }' \
    /etc/apt/sources.list 2>/dev/null)"
  if [ -z "$MIRROR" ]; then
    echo "compat-check: no Debian mirror found in /etc/apt/sources.list{,.d}" >&2; exit 1
  fi
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR trixie main" \
    > "$WORK/sources.list"
  O=(-o "Dir::Etc::SourceList=$WORK/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o "Dir::State::Lists=$WORK/lists" -o APT::Architecture=amd64)
  apt-get "${O[@]}" update -qq
  (cd "$WORK/debs" && apt-get "${O[@]}" download libtorch-dev libtorch2.6 2>/dev/null)
  for d in "$WORK"/debs/*.deb; do dpkg -x "$d" "$WORK/root"; done
fi

check() { # name, include dirs...
  local name="$1"; shift
  local args=()
  for d in "$@"; do args+=(-isystem "$d"); done
  local src
  for src in "$ROOT"/native/src/*.cpp; do
    if ! g++ -std=c++17 -fsyntax-only -Wall -Wextra -Wno-unused-parameter -D_GLIBCXX_USE_CXX11_ABI=1 \
        -I"$ROOT/native/include" "${args[@]}" ${EXTRA:-} "$src"; then
      echo "FAIL  $name ($(basename "$src"))"; return 1
    fi
  done
  echo "OK    $name"
}
v2="$WORK/root/usr/include"
major2=$(grep -m1 TORCH_VERSION_MAJOR "$v2/torch/csrc/api/include/torch/version.h" | awk '{print $3}')
minor2=$(grep -m1 TORCH_VERSION_MINOR "$v2/torch/csrc/api/include/torch/version.h" | awk '{print $3}')
status=0
check "LibTorch 1.13 (Debian 12), CPU" /usr/include/torch/csrc/api/include || status=1
check "LibTorch $major2.$minor2 (Debian 13), CPU" "$v2" "$v2/torch/csrc/api/include" || status=1
if [ -f /usr/local/cuda/include/cuda_runtime_api.h ]; then
  EXTRA=-DRT_WITH_CUDA check "LibTorch 1.13, CUDA branch" /usr/include/torch/csrc/api/include "$WORK/stub" /usr/local/cuda/include || status=1
  EXTRA=-DRT_WITH_CUDA check "LibTorch $major2.$minor2, CUDA branch" "$v2" "$v2/torch/csrc/api/include" "$WORK/stub" /usr/local/cuda/include || status=1
else
  echo "SKIP  CUDA branch (no /usr/local/cuda/include)"
fi
# --- issue 14: distributed.cpp with c10d/Gloo (and the NCCL branch on 2.x + CUDA) ---
# Gloo's headers: Debian 12's libgloo-dev (bin/setup) for 1.13; Debian 13's, unpacked, for 2.x.
if [ ! -f "$WORK/root/usr/include/gloo/algorithm.h" ]; then
  O2=(-o "Dir::Etc::SourceList=$WORK/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$WORK/lists" -o APT::Architecture=amd64)
  (cd "$WORK/debs" && apt-get "${O2[@]}" download libgloo-dev 2>/dev/null) && \
    for d in "$WORK"/debs/libgloo-dev*.deb; do dpkg -x "$d" "$WORK/root"; done || true
fi
dist() { # name, extra flags, include dirs...
  local name="$1" flags="$2"; shift 2
  local args=()
  for d in "$@"; do args+=(-isystem "$d"); done
  if g++ -std=c++17 -fsyntax-only -Wall -Wextra -Wno-unused-parameter -D_GLIBCXX_USE_CXX11_ABI=1 \
      -DRT_WITH_DISTRIBUTED -DUSE_C10D_GLOO -DUSE_DISTRIBUTED $flags -I"$ROOT/native/include" "${args[@]}" \
      "$ROOT/native/src/distributed.cpp"; then
    echo "OK    $name"
  else
    echo "FAIL  $name"; status=1
  fi
}
dist "c10d/Gloo, LibTorch 1.13" "" /usr/include/torch/csrc/api/include
if [ -f "$v2/gloo/algorithm.h" ]; then
  dist "c10d/Gloo, LibTorch $major2.$minor2" "" "$v2" "$v2/torch/csrc/api/include"
  # ProcessGroupNCCL.hpp needs NCCL's and the CUDA libraries' headers (nccl.h, cusparse.h), not
  # only the runtime's.
  if [ -f /usr/local/cuda/include/nccl.h ] || [ -f /usr/include/nccl.h ] && [ -f /usr/local/cuda/include/cusparse.h ]; then
    dist "c10d/NCCL, LibTorch $major2.$minor2 + CUDA" "-DRT_WITH_CUDA -DUSE_C10D_NCCL" "$v2" \
      "$v2/torch/csrc/api/include" "$WORK/stub" /usr/local/cuda/include
  else
    echo "SKIP  c10d/NCCL branch (no nccl.h and cusparse.h: checked on a GPU machine by native/cuda-check.sh)"
  fi
else
  echo "SKIP  c10d/Gloo on $major2.$minor2 (no Gloo headers for it)"
fi
# --- issue 13: packed_linear.cpp's oneDNN branch (built only with LibTorch 1.13 + libdnnl-dev) ---
if [ -f /usr/include/oneapi/dnnl/dnnl.hpp ]; then
  if g++ -std=c++17 -fsyntax-only -Wall -Wextra -Wno-unused-parameter -D_GLIBCXX_USE_CXX11_ABI=1 \
      -DRT_WITH_DNNL -I"$ROOT/native/include" -isystem /usr/include/torch/csrc/api/include \
      "$ROOT/native/src/packed_linear.cpp"; then
    echo "OK    packed weights through oneDNN, LibTorch 1.13"
  else
    echo "FAIL  packed weights through oneDNN, LibTorch 1.13"; status=1
  fi
else
  echo "SKIP  packed weights through oneDNN (no libdnnl-dev)"
fi
exit $status
