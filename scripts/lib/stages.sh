# shellcheck shell=bash
# A pipeline as named stages that writes into a fresh run folder. Sourced by bench.sh;
# tests/scripts_test.py runs it with fake stages.
#
#   run_folder_begin results/HOST      a new hidden folder beside it, in $RUN_DIR
#   run_stage NAME [AFTER...] -- CMD   runs CMD unless a stage it comes after did not succeed
#   stage_summary LOG_DIR              one line per stage; returns 1 if any failed
#   run_folder_publish DEST            moves $RUN_DIR to DEST, replacing what was there but
#                                      its studies/
#
# A stage's failure does not stop the pipeline: it is reported and the stages that do not
# come after it still run. An interrupt (INT or TERM) does: the run folder is removed and
# the published folder is left as it was.

STAGE_NAMES=()
declare -A STAGE_STATE=()   # ok, failed or skipped
declare -A STAGE_CAUSE=()   # the failed stage that made this one fail (itself) or be skipped
declare -A STAGE_EXIT=()
STAGE_LOG_DIR=""
RUN_DIR=""
RUN_TARGET=""

# Makes a fresh folder beside TARGET (hidden, so never mistaken for a published one) for
# this run's files and logs; sets RUN_DIR and STAGE_LOG_DIR ($RUN_DIR/logs).
run_folder_begin() {
  RUN_TARGET=$1
  mkdir -p "$(dirname "$RUN_TARGET")"
  RUN_DIR=$(mktemp -d "$(dirname "$RUN_TARGET")/.$(basename "$RUN_TARGET").XXXXXX")
  chmod "$(umask -S)" "$RUN_DIR"
  STAGE_LOG_DIR="$RUN_DIR/logs"
  mkdir "$STAGE_LOG_DIR"
  trap run_folder_abandon INT TERM
}

# The interrupt handler: bash runs it once the stage in the foreground has stopped.
run_folder_abandon() {
  trap '' INT TERM
  rm -rf "$RUN_DIR"
  echo "poolbench: interrupted; this run's files are removed and $RUN_TARGET/ is as it was" >&2
  exit 130
}

# Moves the run folder to DEST. An existing DEST is moved aside first and removed only once
# the new one is in place; interrupts wait until both moves are done. DEST's studies/ (runs
# made by hand, each with its command in docs/results.md) is no pipeline's to remake: it is
# copied into the new folder first.
run_folder_publish() {
  local dest=$1 old=""
  trap '' INT TERM
  if [ -d "$dest/studies" ] && [ ! -e "$RUN_DIR/studies" ]; then
    cp -a "$dest/studies" "$RUN_DIR/studies"
  fi
  if [ -e "$dest" ]; then
    old=$(mktemp -d "$(dirname "$dest")/.$(basename "$dest").old.XXXXXX")
    mv "$dest" "$old/"
  fi
  mv "$RUN_DIR" "$dest"
  [ -z "$old" ] || rm -rf "$old"
  trap - INT TERM
}

# run_stage NAME [AFTER...] -- COMMAND [ARG...]
# Runs COMMAND under `set -e` in a subshell, its output on the terminal and in
# $STAGE_LOG_DIR/NAME.log, unless a stage named in AFTER did not succeed.
run_stage() {
  local name=$1 after=()
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do after+=("$1"); shift; done
  [ $# -gt 1 ] || { echo "run_stage: usage: run_stage NAME [AFTER...] -- COMMAND [ARG...]" >&2; return 2; }
  shift
  STAGE_NAMES+=("$name")
  local stage
  for stage in "${after[@]}"; do
    if [ "${STAGE_STATE[$stage]:-}" != ok ]; then
      STAGE_STATE[$name]=skipped
      STAGE_CAUSE[$name]=${STAGE_CAUSE[$stage]:-$stage}
      echo "poolbench: stage $name skipped: ${STAGE_CAUSE[$name]} failed" >&2
      return 0
    fi
  done

  local log="$STAGE_LOG_DIR/$name.log" errexit=0
  echo "=== stage $name" >&2
  # Outside `if` and `||`, so that `set -e` holds inside the stage (bash ignores it in a
  # function called as a condition). The stage's own INT trap ends it after the command
  # in the foreground; tee -i keeps logging until then.
  [[ $- == *e* ]] && errexit=1
  set +e
  (
    trap 'exit 130' INT TERM
    set -e
    "$@"
  ) 2>&1 | tee -i "$log"
  local status=("${PIPESTATUS[@]}")
  [ "$errexit" = 0 ] || set -e
  local code=${status[0]}
  [ "$code" != 0 ] || code=${status[1]}

  if [ "$code" = 0 ]; then
    STAGE_STATE[$name]=ok
  else
    STAGE_STATE[$name]=failed
    STAGE_CAUSE[$name]=$name
    STAGE_EXIT[$name]=$code
    echo "poolbench: stage $name failed (exit code $code); its output is in $log" >&2
  fi
}

# Prints each stage's outcome, the logs named as they are in LOG_DIR (where the run folder
# ended up); returns 1 if any stage failed.
stage_summary() {
  local log_dir=$1 name failed=0
  echo "poolbench: stages"
  for name in "${STAGE_NAMES[@]}"; do
    case ${STAGE_STATE[$name]} in
      ok) printf '  %-12s ok\n' "$name" ;;
      failed)
        failed=1
        printf '  %-12s failed (exit code %s, log %s)\n' "$name" "${STAGE_EXIT[$name]}" "$log_dir/$name.log" ;;
      skipped) printf '  %-12s skipped because %s failed\n' "$name" "${STAGE_CAUSE[$name]}" ;;
    esac
  done
  return "$failed"
}

# True when a stage has failed.
stages_failed() {
  local name
  for name in "${STAGE_NAMES[@]}"; do
    [ "${STAGE_STATE[$name]}" != failed ] || return 0
  done
  return 1
}
