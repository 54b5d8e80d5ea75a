#!/usr/bin/env bash
# bench/reference/compare.sh: the SDK (`bin/rectok bench`) against the PyTorch port of the
# reference (bench/reference/rectok_reference.py, Debian python3-torch = the same LibTorch 1.13 +
# OpenBLAS as the shim), run ALTERNATELY in one session so that machine noise hits both sides alike.
#
#   bench/reference/compare.sh [--rounds R] [--threads T] [--only tok|tokenc|tokdec|dits|ditxl[,...]]
#                              [--warmup W] [--iters N] [--keep-openblas-env] [--baseline DIR] [--bf16]
#
# Each round runs every workload once on each side (the side that goes first alternates from round
# to round: J P, P J, J P, ...). A run reports the median of its timed iterations after W untimed
# ones (default 3: the JVM's JIT is still compiling during the first forwards; the Python script
# gets the same W; --iters N replaces each workload's default count of timed iterations, 5 or 3);
# the table shows, per side, the
# median over the rounds of those per-run medians, the spread (min-max) and the ratio Java/Python
# of the medians (lower is better for Java; < 1.00 means the SDK is faster).
# --bf16 (issue 13) adds a side "Java bf16": this SDK with --precision bf16, in the same rotation.
# Workloads (issue 13 added ditxl4 and sample): sample times one whole Euler run of DiT^DH-XL with
# AutoGuidance (DiT^DH-S) at batch 1 over SAMPLE_POINTS grid points (default 11 = 10 steps; the
# per-step cost is constant, so the ratio is that of a 150-point run); a peak-RSS table follows.
# --baseline DIR adds a third side: DIR/bin/rectok, a built copy of another version of the SDK
# (e.g. the commit before an optimisation), interleaved with the other two in the same rotation.
#
# Environment, identical for both sides:
#   OMP_WAIT_POLICY=PASSIVE (unless set); intra-op threads T (default: nproc), via --threads on both;
#   heap retention: the SDK calls rt_configure_malloc(1 GiB, INT_MAX, 256 MiB) itself, Python gets
#   the equivalent MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_/MALLOC_TOP_PAD_ variables;
#   OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (auto-detected core, as bench/run does for the models)
#   unless --keep-openblas-env.
# Needs: /usr/bin/python3 with torch (apt-get install python3-torch); a built checkout (the script
# packages the CLI with ./mvnw first unless RECTOK_NO_BUILD=1; nothing goes into ~/.m2).
# Output: the table on stdout, raw outputs in bench/target/reference/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rounds=3
warmup=3
threads="$(nproc)"
only="tok,dits,ditxl"
keep_blas=0
iters_override=""
baseline=""
bf16=0
sample_points="${SAMPLE_POINTS:-11}"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --iters) iters_override="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --keep-openblas-env) keep_blas=1; shift ;;
    --baseline) baseline="$(cd "$2" && pwd)"; shift 2 ;;
    --bf16) bf16=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done

JAVA_HOME="$("$root/bin/jdk")"; export JAVA_HOME
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
py=/usr/bin/python3
"$py" -c 'import torch' 2>/dev/null || { echo "compare.sh: $py has no torch (apt-get install -y python3-torch)" >&2; exit 1; }
out="$root/bench/target/reference"
mkdir -p "$out"
if [ "${RECTOK_NO_BUILD:-0}" != 1 ]; then
  (cd "$root" && ./mvnw -o -B -q package -DskipTests -pl samples -am) >"$out/mvn.log" 2>&1 || { tail -40 "$out/mvn.log" >&2; exit 1; }
fi

blas_env=()
[ "$keep_blas" = 1 ] || blas_env=(-u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)

# workload -> "label|common args|iterations"
declare -A spec=(
  [tok]="rectok_BB encode+decode 256², batch 4|tokenizer --preset rectok_BB --batch 4 --mode both|5"
  [tokenc]="rectok_BB encode 256², batch 4|tokenizer --preset rectok_BB --batch 4 --mode encode|5"
  [tokdec]="rectok_BB decode 256², batch 4|tokenizer --preset rectok_BB --batch 4 --mode decode|5"
  [dits]="DiT^DH-S forward, batch 1|dit --preset DiTDDT_s --batch 1|5"
  [ditxl]="DiT^DH-XL forward, batch 1|dit --preset DiTDDT_xl --batch 1|3"
  [ditxl4]="DiT^DH-XL forward, batch 4|dit --preset DiTDDT_xl --batch 4|3"
  [sample]="DiT^DH-XL + AutoGuidance (S), $((sample_points - 1))-step run, batch 1|sample --preset DiTDDT_xl --guide-preset DiTDDT_s --steps $sample_points --batch 1|1"
)
IFS=, read -r -a works <<<"$only"
for w in "${works[@]}"; do [ -n "${spec[$w]:-}" ] || { echo "compare.sh: unknown workload $w" >&2; exit 2; }; done

run_side() { # side workload round -> prints ms_per_forward
  local side="$1" w="$2" r="$3" args iters log
  IFS='|' read -r _ args iters <<<"${spec[$w]}"
  iters="${iters_override:-$iters}"
  log="$out/$w.$side.$r.txt"
  if [ "$side" = java ] || [ "$side" = base ] || [ "$side" = j16 ]; then
    local top="$root" extra=()
    [ "$side" = base ] && top="$baseline"
    [ "$side" = j16 ] && extra=(--precision bf16)
    env "${blas_env[@]}" "$top/bin/rectok" bench $args "${extra[@]}" --iters "$iters" --warmup "$warmup" --threads "$threads" >"$log" 2>&1
  else
    env "${blas_env[@]}" MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=2147483647 \
      MALLOC_TOP_PAD_=268435456 "$py" "$here/rectok_reference.py" bench $args --iters "$iters" \
      --warmup "$warmup" --threads "$threads" >"$log" 2>&1
  fi
  local ms
  ms="$(sed -n 's/^ms_per_sample_run=//p' "$log")"
  [ -n "$ms" ] || ms="$(sed -n 's/^ms_per_forward=//p' "$log")"
  echo "$ms $(sed -n 's/^cpu_ms_per_forward=//p' "$log") $(sed -n 's/^peak_rss_mb=//p' "$log")"
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(date +%s)
declare -A res cpu rss
sides=(java python)
[ -n "$baseline" ] && sides+=(base)
[ "$bf16" = 1 ] && sides+=(j16)
for ((r = 1; r <= rounds; r++)); do
  for w in "${works[@]}"; do
    # rotate the starting side from round to round: J P (B), P (B) J, ...
    order=()
    for ((i = 0; i < ${#sides[@]}; i++)); do order+=("${sides[$(((i + r - 1) % ${#sides[@]}))]}"); done
    for side in "${order[@]}"; do
      read -r v c m <<<"$(run_side "$side" "$w" "$r")"
      rss[$w.$side]="${rss[$w.$side]:-} ${m:-nan}"
      [ -n "$v" ] || { echo "compare.sh: $side $w failed (log: $out/$w.$side.$r.txt)" >&2; tail -20 "$out/$w.$side.$r.txt" >&2; exit 1; }
      res[$w.$side]="${res[$w.$side]:-} $v"
      cpu[$w.$side]="${cpu[$w.$side]:-} ${c:-nan}"
      echo "round $r $w $side: $v ms wall, ${c:-?} ms CPU (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    done
  done
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
t1=$(date +%s)

{
  echo "RecTok SDK (Java) vs PyTorch reference port, same run, alternating"
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); cores: $(nproc); threads: $threads; rounds: $rounds; warm-up $warmup + timed iterations per run; OMP_WAIT_POLICY=$OMP_WAIT_POLICY;" \
    "OpenBLAS env: $([ "$keep_blas" = 1 ] && echo "kept (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-})" || echo 'unset (auto core)')"
  echo "LibTorch: Debian $(dpkg-query -W -f='${Version}' libtorch1.13 2>/dev/null || echo '?'); python3-torch $(dpkg-query -W -f='${Version}' python3-torch 2>/dev/null || echo '?');" \
    "BLAS: $(readlink -f /etc/alternatives/libblas.so.3-x86_64-linux-gnu 2>/dev/null || echo '?')"
  echo "load average (1/5/15 min): before $load_before, after $load_after; wall $((t1 - t0)) s"
  echo
  [ -n "$baseline" ] && echo "baseline: $baseline"
  table() { # title, then "label|java values|python values|baseline values|java bf16 values" lines on stdin
    echo "$1"
    echo
    local head="| workload | Java ms (median; min-max) | PyTorch ms (median; min-max) | Java / PyTorch |" rule="| --- | --- | --- | --- |"
    [ -n "$baseline" ] && { head="$head baseline Java ms | baseline / PyTorch |"; rule="$rule --- | --- |"; }
    [ "$bf16" = 1 ] && { head="$head Java bf16 ms | bf16 / PyTorch |"; rule="$rule --- | --- |"; }
    echo "$head"
    echo "$rule"
    awk -F'|' '
      function med(s,   a, n, i, j, t) { n = split(s, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        lo = a[1]; hi = a[n]; return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
      { j = med($2); jl = lo; jh = hi; p = med($3); pl = lo; ph = hi
        printf "| %s | %.0f (%.0f-%.0f) | %.0f (%.0f-%.0f) | %.2f |", $1, j, jl, jh, p, pl, ph, j / p
        if ($4 != "") { b = med($4); printf " %.0f (%.0f-%.0f) | %.2f |", b, lo, hi, b / p }
        if ($5 != "") { b = med($5); printf " %.0f (%.0f-%.0f) | %.2f |", b, lo, hi, b / p }
        printf "\n" }'
    echo
  }
  for w in "${works[@]}"; do
    IFS='|' read -r label _ _ <<<"${spec[$w]}"
    echo "$label|${res[$w.java]}|${res[$w.python]}|${res[$w.base]:-}|${res[$w.j16]:-}"
  done | table "Wall time per forward (what a user waits; lower is better):"
  for w in "${works[@]}"; do
    IFS='|' read -r label _ _ <<<"${spec[$w]}"
    echo "$label|${cpu[$w.java]}|${cpu[$w.python]}|${cpu[$w.base]:-}|${cpu[$w.j16]:-}"
  done | table "CPU time per forward, all threads (/proc/self/stat, 10 ms ticks; less sensitive to other processes' load):"
  for w in "${works[@]}"; do
    IFS='|' read -r label _ _ <<<"${spec[$w]}"
    echo "$label|${rss[$w.java]}|${rss[$w.python]}|${rss[$w.base]:-}|${rss[$w.j16]:-}"
  done | table "Peak RSS of the process, MB (VmHWM; the 'ms' headers read MB here):"
} | tee "$out/report.txt"
