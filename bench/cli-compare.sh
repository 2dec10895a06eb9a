#!/usr/bin/env bash
# Compares a bench/cli-speed.sh result file with the committed baseline and
# fails loudly when kseal got more than 20% costlier. Only ratios are
# compared (kseal's CPU seconds over the crypto floor, over sops and over
# kubeseal, measured in one run on one machine; kseal's peak RSS over
# that of `kseal version`, the binary's own), so the baseline holds on
# another machine too; absolute seconds are printed, never judged, and so
# are the figures set against a peer's memory (n1000.peer.*). A figure of
# the baseline the results lack (a tool missing, another size) fails it
# too: a gate that compared nothing would pass anything.
#
#   bench/cli-compare.sh bench/cli-speed.baseline results.txt [TOLERANCE]
#
# TOLERANCE defaults to 1.20. To accept a new cost knowingly, replace the
# baseline with the new results in the same commit and say why.
set -euo pipefail
base=$1 new=$2 tol=${3:-1.20}
awk -F= -v tol="$tol" '
  NR == FNR { if ($1 ~ /\.ratio\./) base[$1] = $2; next }
  $1 in base && $2 != "" { seen[$1] = 1
    verdict = "ok"
    if ($2 > base[$1] * tol) { verdict = "WORSE"; bad++ }
    printf "%-44s baseline %7.3f  now %7.3f  %s\n", $1, base[$1], $2, verdict }
  END {
    for (k in base) if (!(k in seen)) { printf "%-44s baseline %7.3f  NOT MEASURED\n", k, base[k]; missing++ }
    if (missing) printf "cli-compare: %d figure(s) of the baseline not measured (a tool missing, or another size)\n", missing > "/dev/stderr"
    if (bad) printf "cli-compare: %d figure(s) more than %d%% above the baseline\n", bad, int((tol - 1) * 100 + 0.5) > "/dev/stderr"
    if (bad || missing) exit 1
  }' "$base" "$new"
