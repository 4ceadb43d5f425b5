# Sourced by the scripts that screenshot the editor: waits for a top-level window on a
# virtual X display.
#   wait_for_window DISPLAY PATTERN TRIES LOG
# prints the id of the first window whose `xwininfo -tree` line matches the awk PATTERN,
# polling every half second up to TRIES times; if none appears, prints LOG to stderr and
# returns 1.
wait_for_window() {
  local display=$1 pattern=$2 tries=$3 log=$4 win=""
  for _ in $(seq 1 "$tries"); do
    sleep 0.5
    win=$(DISPLAY=$display xwininfo -root -tree 2>/dev/null | awk "$pattern {print \$1; exit}")
    if [ -n "$win" ]; then
      echo "$win"
      return 0
    fi
  done
  echo "the editor window did not appear; log:" >&2
  cat "$log" >&2
  return 1
}
