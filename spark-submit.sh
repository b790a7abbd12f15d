#!/usr/bin/env bash
# Run one webfaq-spark stage with spark-submit.
#
#   ./spark-submit.sh STAGE [--profile local|cluster|databricks|gpu] [--warehouse DIR] [options]
#   ./spark-submit.sh extract --input warc.paths.gz --profile cluster
#   ./spark-submit.sh extract --help
#
# The profile (conf/<profile>.yaml over conf/base.yaml) gives the master, Delta's Maven package and
# the Spark settings, the stage's job class what each task needs (GPUs, cores, memory); the code
# travels to the executors as a zip of jobs/, lib/ and udfs/.
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

# --help is answered by the job's own argument parser, without starting Spark.
profile=local
prev=""
for arg in "$@"; do
  case "$arg" in
    -h|--help) exec "$PYTHON" -m "jobs.$stage" --help ;;
    --profile=*) profile="${arg#--profile=}" ;;
  esac
  [ "$prev" = "--profile" ] && profile="$arg"
  prev="$arg"
done

# The profile's Spark settings and what the stage's job declares it needs (jobs/<stage>.py: resources).
flags="$("$PYTHON" -m jobs.base spark-submit-args "$stage" --profile "$profile")"
submit_args=()
while IFS= read -r line; do [ -n "$line" ] && submit_args+=("$line"); done <<< "$flags"

mkdir -p "$here/build"
zip="$here/build/webfaq_spark.zip"
"$PYTHON" - "$here" "$zip" <<'PY'
import os, sys, zipfile
root, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
    for pkg in ("lib", "udfs", "jobs"):
        for d, dirs, files in os.walk(os.path.join(root, pkg)):
            dirs[:] = [x for x in dirs if x != "__pycache__"]
            for f in files:
                if not f.endswith(".pyc"):
                    p = os.path.join(d, f)
                    zf.write(p, os.path.relpath(p, root))
PY

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
set +e
"$SPARK_SUBMIT" "${submit_args[@]}" --py-files "$zip" "$here/jobs/$stage.py" "$@" | route
status="${PIPESTATUS[0]}"
exit "$status"
