#!/usr/bin/env bash
# Fetches the sqllogictest files that `make test-slow` runs but the repository does not hold:
# Materialize's test/sqllogictest files (test/slt-corpora/materialize.list) and a sample of
# SQLite's random/ and index/ corpus (test/slt-corpora/sqlite-sample.list), each at the commit
# pinned in its list.
#
#   scripts/fetch-slt-corpora.sh [materialize] [sqlite]        (default: both)
#
# Files go to $SLT_CORPORA_DIR (default build/slt-corpora/<materialize|sqlite>/). Sources, in
# order: a local git snapshot of the repository (or of the fork named on the list's `mirror`
# line) that holds the pinned commit — found under $SLT_MIRROR_ROOT/<owner>+<name>/repo, or
# given as SLT_GIT_MATERIALIZE / SLT_GIT_SQLITE — and otherwise raw.githubusercontent.com.
# Exit status 0 iff every file of the requested lists is present afterwards.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${SLT_CORPORA_DIR:=$ROOT/build/slt-corpora}"
: "${SLT_MIRROR_ROOT:=/work/.mirror}"

# list_field LIST KEY: the value of a `KEY value` header line.
list_field() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }
# list_paths LIST: the file paths (first column of the lines that are not headers or comments).
list_paths() { awk '$0 !~ /^#/ && NF && $1 != "repo" && $1 != "mirror" && $1 != "commit" { print $1 }' "$1"; }

fetch_list() {  # fetch_list NAME LIST PREFIX GIT_OVERRIDE
  local name=$1 list=$2 prefix=$3 git_override=$4
  local repo mirror commit dest gitdir="" missing=0 p cand
  repo=$(list_field "$list" repo); mirror=$(list_field "$list" mirror); commit=$(list_field "$list" commit)
  dest="$SLT_CORPORA_DIR/$name"
  mkdir -p "$dest"
  for cand in "$git_override" "$SLT_MIRROR_ROOT/${repo/\//+}/repo" ${mirror:+"$SLT_MIRROR_ROOT/${mirror/\//+}/repo"}; do
    [[ -n "$cand" && -d "$cand" ]] || continue
    if git --git-dir="$cand" cat-file -e "$commit^{commit}" 2>/dev/null; then gitdir=$cand; break; fi
  done
  while read -r p; do
    local out="$dest/$p"
    [[ -s "$out" ]] && continue
    mkdir -p "$(dirname "$out")"
    if [[ -n "$gitdir" ]] && git --git-dir="$gitdir" show "$commit:$prefix$p" >"$out.part" 2>/dev/null; then
      mv "$out.part" "$out"; continue
    fi
    local src
    for src in "$repo" ${mirror:+"$mirror"}; do
      if curl -fsSL --max-time 60 "https://raw.githubusercontent.com/$src/$commit/$prefix$p" -o "$out.part" 2>/dev/null; then
        mv "$out.part" "$out"; break
      fi
    done
    rm -f "$out.part"
    [[ -s "$out" ]] || { missing=$((missing + 1)); echo "$name: cannot fetch $prefix$p at $commit" >&2; }
  done < <(list_paths "$list")
  echo "$commit" >"$dest/COMMIT"
  if ((missing)); then echo "$name: $missing files missing in $dest" >&2; return 1; fi
  echo "$name: $(list_paths "$list" | wc -l) files at $repo@${commit:0:12} in $dest"
}

what=("$@")
((${#what[@]})) || what=(materialize sqlite)
rc=0
for w in "${what[@]}"; do
  case "$w" in
    materialize) fetch_list materialize "$ROOT/test/slt-corpora/materialize.list" test/sqllogictest/ "${SLT_GIT_MATERIALIZE:-}" || rc=1 ;;
    sqlite) fetch_list sqlite "$ROOT/test/slt-corpora/sqlite-sample.list" "" "${SLT_GIT_SQLITE:-}" || rc=1 ;;
    *) echo "unknown corpus $w (materialize or sqlite)" >&2; exit 2 ;;
  esac
done
exit $rc
