#!/usr/bin/env bash
# CUDA check: build the shim against this machine's LibTorch 2.x and run the native test suite
# with tensors on cuda:0.
#
#   native/cuda-check.sh prepare   on a build machine (JDK 25 + Maven): compiles everything and
#                                  writes .cuda-bundle/ (a jlinked JDK, the JUnit console, the
#                                  compiled classes and test classpath), under the 64 MiB a
#                                  device call may carry.
#   native/cuda-check.sh [run]     on the GPU machine: builds native/build-cuda against
#                                  RECTOK_LIBTORCH or python3's torch, then runs the tests with
#                                  -Drectok.test.device=cuda:0 (DeviceTest puts ops, autograd and
#                                  AdamW on the GPU; everything else exercises the 2.x build).
#                                  The pure-Java checkpoint tests (they only parse golden/public's
#                                  files, which the bundle leaves out) are left to the CPU suite.
#
#   native/cuda-check.sh bench     on the GPU machine (issue 13), after 'run' built native/build-cuda:
#                                  times DiT^DH-XL + AutoGuidance (DiT^DH-S) sampling, 150 grid
#                                  points, random weights, in fp32 and in bf16, each without and
#                                  with CUDA graphs (--cuda-graphs: every Euler step replayed as
#                                  one graph), and prints images per second for each of the four
#                                  rows, then a summary table (RECTOK_BENCH_BATCH, default 8;
#                                  RECTOK_BENCH_STEPS, default 150).
#
# The GPU machine needs neither Java nor Maven: carry .cuda-bundle along with the tree.
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
BUNDLE="$ROOT/.cuda-bundle"
DEVICE="${RECTOK_TEST_DEVICE:-cuda:0}"

prepare() {
  JAVA_HOME="$("$ROOT/bin/jdk")"; export JAVA_HOME
  export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
  cd "$ROOT"
  "$ROOT/mvnw" -B -q -DskipTests -pl rectok-api,rectok-native package dependency:copy-dependencies -DincludeScope=test \
    -DoutputDirectory="$BUNDLE/lib"
  "$ROOT/mvnw" -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.4 \
    -DoutputDirectory="$BUNDLE"
  # --- issue 13: the CLI for 'bench' (its jar and runtime dependencies; the CPU shim inside the
  # rectok-native jar is unused there: -Drectok.native.lib points at the CUDA build) ---
  "$ROOT/mvnw" -B -q -DskipTests -pl samples -am package
  rm -rf "$BUNDLE/cli" && mkdir -p "$BUNDLE/cli"
  cp samples/target/rectok-cli-*.jar samples/target/lib/*.jar "$BUNDLE/cli/"
  rm -rf "$BUNDLE/classes" "$BUNDLE/jdk" "$BUNDLE/golden"
  mkdir -p "$BUNDLE/classes"
  cp -r rectok-api/target/classes "$BUNDLE/classes/api"
  cp -r rectok-native/target/classes "$BUNDLE/classes/native"
  cp -r rectok-native/target/test-classes "$BUNDLE/classes/native-test"
  rm -rf "$BUNDLE/classes/native/dev/rectok/torch/native" # the CPU shim; the GPU machine builds its own
  # Not needed on the GPU: our own jars (classes are copied), jqwik's extras, byte-buddy (assertj
  # loads it only for soft assertions).
  rm -f "$BUNDLE"/lib/rectok-*.jar "$BUNDLE"/lib/jqwik-web-*.jar "$BUNDLE"/lib/jqwik-time-*.jar "$BUNDLE"/lib/byte-buddy-*.jar
  "$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.management,java.xml,java.naming,jdk.unsupported,java.desktop \
    --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$BUNDLE/jdk"
  strip --strip-unneeded "$BUNDLE/jdk/lib/server/libjvm.so"
  du -sh "$BUNDLE"
  echo "carry .cuda-bundle to the GPU machine and run: native/cuda-check.sh"
}

run() {
  cd "$ROOT"
  echo "== GPU"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "(no nvidia-smi)"
  if [ -z "${RECTOK_LIBTORCH:-}" ]; then
    export RECTOK_USE_PYTHON_TORCH=1
    python3 -c 'import torch; print("python torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())'
  fi
  echo "== build the shim against LibTorch 2.x"
  local t0=$SECONDS
  "$ROOT/native/build.sh" "$ROOT/native/build-cuda"
  grep -E "rectok_torch: LibTorch" "$ROOT/native/build-cuda/configure.log" || true
  echo "built in $((SECONDS - t0)) s"

  local java
  if [ -x "$BUNDLE/jdk/bin/java" ]; then
    java="$BUNDLE/jdk/bin/java"
  elif [ -n "${JAVA_HOME:-}" ]; then
    java="$JAVA_HOME/bin/java"
  else
    echo "no JDK: run 'native/cuda-check.sh prepare' on a build machine and carry .cuda-bundle" >&2
    exit 1
  fi
  [ -d "$BUNDLE/classes" ] || { echo "no .cuda-bundle/classes: run 'native/cuda-check.sh prepare' first" >&2; exit 1; }
  local cp="$BUNDLE/classes/native-test:$BUNDLE/classes/native:$BUNDLE/classes/api"
  for j in "$BUNDLE"/lib/*.jar; do cp="$cp:$j"; done

  # Default: every native test class; arguments replace that with JUnit selectors.
  local selectors=("$@")
  if [ ${#selectors[@]} -eq 0 ]; then
    selectors=(--scan-class-path "$BUNDLE/classes/native-test"
      --exclude-package dev.rectok.torch.io --exclude-classname '.*CheckpointTensorTest')
  fi
  echo "== native tests on $DEVICE"
  t0=$SECONDS
  # A fixed, pre-touched Java heap keeps RSS a measure of native memory (MemoryTest).
  OMP_WAIT_POLICY=PASSIVE "$java" --enable-native-access=ALL-UNNAMED -Xss4m -Xms1g -Xmx1g -XX:+AlwaysPreTouch \
    -Drectok.native.lib="$ROOT/native/build-cuda/librectok_torch.so" \
    -Drectok.test.device="$DEVICE" \
    -Drectok.header="$ROOT/native/include/rectok_torch.h" \
    -jar "$BUNDLE"/junit-platform-console-standalone-*.jar execute \
    --class-path "$cp" "${selectors[@]}" --details=summary --disable-banner \
    --config=jqwik.database="$BUNDLE/jqwik-database"
  echo "tests ran in $((SECONDS - t0)) s"

  # --- issue 14: c10d on the GPU machine ---
  # The scan above already ran dev.rectok.torch.distributed's tests on $DEVICE: the collectives
  # (Gloo), and DataParallelStepTest, which on CUDA runs a 2-rank data-parallel step over NCCL when
  # there are two GPUs (one per rank: NCCL refuses two ranks on one GPU) and a 1-rank NCCL
  # allreduce with one. This prints what the shim was built with and reruns that test alone.
  echo "== distributed (c10d)"
  grep -E "rectok_torch: c10d|Gloo headers not found" "$ROOT/native/build-cuda/configure.log" || true
  OMP_WAIT_POLICY=PASSIVE "$java" --enable-native-access=ALL-UNNAMED -Xss4m -Xmx1g \
    -Drectok.native.lib="$ROOT/native/build-cuda/librectok_torch.so" -Drectok.test.device="$DEVICE" \
    -jar "$BUNDLE"/junit-platform-console-standalone-*.jar execute --class-path "$cp" \
    --select-class dev.rectok.torch.distributed.DataParallelStepTest --details=tree --disable-banner || status=1
  return ${status:-0}
}

# --- issue 13: sampling throughput on the GPU, fp32 against bf16 ---
bench() {
  cd "$ROOT"
  local java="$BUNDLE/jdk/bin/java"
  [ -x "$java" ] || java="${JAVA_HOME:-/nonexistent}/bin/java"
  [ -d "$BUNDLE/cli" ] || { echo "no .cuda-bundle/cli: run 'native/cuda-check.sh prepare' first" >&2; exit 1; }
  [ -f "$ROOT/native/build-cuda/librectok_torch.so" ] || { echo "no native/build-cuda: run 'native/cuda-check.sh run' first" >&2; exit 1; }
  local batch="${RECTOK_BENCH_BATCH:-8}" steps="${RECTOK_BENCH_STEPS:-150}" p g log summary=""
  log="$(mktemp)"
  for p in fp32 bf16; do
    for g in "" --cuda-graphs; do
      echo "== DiT^DH-XL + AutoGuidance, $steps grid points, batch $batch, $p${g:+, CUDA graphs} on $DEVICE"
      "$java" --enable-native-access=dev.rectok.torch -Drectok.native.lib="$ROOT/native/build-cuda/librectok_torch.so" \
        -p "$BUNDLE/cli" -m dev.rectok.cli/dev.rectok.cli.RecTokCli bench sample --device "$DEVICE" --preset DiTDDT_xl \
        --guide-preset DiTDDT_s --steps "$steps" --batch "$batch" --iters 1 --precision "$p" $g >"$log" 2>&1 || true
      grep -E "forward ms|sampling ms|images_per_second|peak_rss|rror" "$log" || tail -5 "$log"
      summary+="$(printf '%-5s %-11s %s' "$p" "${g:-(eager)}" "$(sed -n 's/^images_per_second=//p' "$log")")"$'\n'
    done
  done
  rm -f "$log"
  echo "== images per second (DiT^DH-XL + AutoGuidance, $((steps - 1)) Euler steps, batch $batch, $DEVICE)"
  printf '%s' "$summary"
}

case "${1:-run}" in
  prepare) prepare ;;
  run) shift || true; run "$@" ;;
  bench) bench ;;
  *) echo "usage: native/cuda-check.sh [prepare|run|bench]" >&2; exit 2 ;;
esac
