#!/usr/bin/env bash
# Run one webfaq-spark stage with spark-submit.
#
#   ./spark-submit.sh STAGE [--profile local|cluster|databricks|gpu[,...]] [--warehouse DIR] [--verbose] [options]
#   ./spark-submit.sh extract --input warc.paths.gz --profile cluster
#   ./spark-submit.sh annotate --profile cluster,gpu
#   ./spark-submit.sh extract --help
#
# The profile (conf/<profile>.yaml over conf/base.yaml; several stack left to right) gives the
# master, Delta's Maven package and the Spark settings, the stage's job class what each task needs
# (GPUs, cores, memory); the code travels to the executors as a zip of jobs/, lib/ and udfs/, made
# in the cache folder (cache_dir in conf/base.yaml, ~/.cache/webfaq-spark by default). A run shows
# its own lines; --verbose brings back Spark's INFO lines and Ivy's dependency report.
# Environment: PYTHON (interpreter with the dependencies; default .venv/bin/python, else python3),
# SPARK_SUBMIT (default: spark-submit on PATH, else the one beside PYTHON).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
stages() { for f in "$here"/jobs/*.py; do n="$(basename "$f" .py)"; case "$n" in __init__|base) ;; *) echo "$n";; esac; done; }
usage() {
  echo "usage: $0 STAGE [--profile PROFILE] [options]   ($0 STAGE --help for a stage's options)"
  echo "stages: $(stages | tr '\n' ' ')"
}

stage="${1:-}"
case "$stage" in
  -h|--help) usage; exit 0 ;;
  "") usage >&2; exit 2 ;;
esac
shift
if [ ! -f "$here/jobs/$stage.py" ]; then
  echo "$0: unknown stage '$stage'" >&2; usage >&2; exit 2
fi

if [ -z "${PYTHON:-}" ]; then
  if [ -x "$here/.venv/bin/python" ]; then PYTHON="$here/.venv/bin/python"; else PYTHON="$(command -v python3)"; fi
fi
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
export WEBFAQ_CONF_DIR="${WEBFAQ_CONF_DIR:-$here/conf}"
export PYSPARK_PYTHON="${PYSPARK_PYTHON:-$PYTHON}"
export PYSPARK_DRIVER_PYTHON="${PYSPARK_DRIVER_PYTHON:-$PYTHON}"

# --help is answered by the job's own argument parser, without starting Spark. The options that
# change how Spark is started (--profile, --conf, --verbose) go to jobs.base as well.
conf_args=()
verbose=""
prev=""
for arg in "$@"; do
  case "$arg" in
    -h|--help) exec "$PYTHON" -m "jobs.$stage" --help ;;
    --profile=*) conf_args+=(--profile "${arg#--profile=}") ;;
    --conf=*) conf_args+=(--conf "${arg#--conf=}") ;;
    --verbose) verbose=1 ;;
  esac
  case "$prev" in
    --profile|--conf) conf_args+=("$prev" "$arg") ;;
  esac
  prev="$arg"
done

# The profile's Spark settings, what the stage's job declares it needs (jobs/<stage>.py: resources)
# and the code zip, built in the cache folder (lib/conf.py: cache_dir).
flags="$("$PYTHON" -m jobs.base spark-submit-args "$stage" --with-code "${conf_args[@]}" ${verbose:+--verbose})"
submit_args=()
while IFS= read -r line; do [ -n "$line" ] && submit_args+=("$line"); done <<< "$flags"

if [ -z "${SPARK_SUBMIT:-}" ]; then
  SPARK_SUBMIT="$(command -v spark-submit || true)"
  [ -n "$SPARK_SUBMIT" ] || SPARK_SUBMIT="$(dirname "$PYTHON")/spark-submit"
fi
# spark-submit runs the job's Python with its stderr merged into its stdout. The job marks each
# line it writes to stderr (jobs/base.py, mark_stderr); the marked lines go back to stderr here,
# so that errors and progress stay apart from the counters on stdout. The exit code is spark-submit's.
mark="@@webfaq-stderr@@"
export WEBFAQ_STDERR_MARK="$mark"
route() {
  local line
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      "$mark"*) printf '%s\n' "${line#"$mark"}" >&2 ;;
      *) printf '%s\n' "$line" ;;
    esac
  done
}
# spark-submit's own stderr, unless --verbose: Ivy's report of the --packages it resolves is held
# back (and shown after all when the resolution fails), and so is the JVM's notice about the
# incubator module Spark asks for. Spark's INFO lines are kept out by the quiet log4j2 file
# (conf/log4j2-quiet.properties, passed by jobs.base).
quiet() {
  local line ivy=0
  local -a held=()
  while IFS= read -r line || [ -n "$line" ]; do
    if [ "$ivy" = 1 ]; then
      held+=("$line")
      case "$line" in
        *" artifacts copied, "*" already retrieved"*) ivy=0; held=() ;;
        "Exception in thread"*|"Error: "*) printf '%s\n' "${held[@]}" >&2; ivy=0; held=() ;;
      esac
      continue
    fi
    case "$line" in
      ":: loading settings :: "*|"Ivy Default Cache set to: "*) ivy=1; held=("$line") ;;
      "WARNING: Using incubator modules: jdk.incubator.vector") ;;
      *) printf '%s\n' "$line" >&2 ;;
    esac
  done
  if [ "${#held[@]}" -gt 0 ]; then printf '%s\n' "${held[@]}" >&2; fi
  return 0
}
set +e -o pipefail
if [ -n "$verbose" ]; then
  "$SPARK_SUBMIT" "${submit_args[@]}" "$here/jobs/$stage.py" "$@" | route
else
  { "$SPARK_SUBMIT" "${submit_args[@]}" "$here/jobs/$stage.py" "$@" 2>&1 1>&3 3>&- | quiet; } 3>&1 | route
fi
exit "$?"
