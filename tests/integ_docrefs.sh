#!/bin/bash
# integ_docrefs.sh — every file that a comment or a document names exists in the repository,
# so a reader who cloned it can follow every reference. Scanned: the comments of C, JavaScript,
# protobuf, shell, Python, INI, YAML, Makefile and Dockerfile sources (not code or string
# literals), and MJCF files and Markdown documents whole. A reference is
#   - a Markdown link target (`[text](path)`, resolved from the document's folder; URLs and
#     pure #anchors are skipped),
#   - any name ending in .md (bare names may live anywhere in the repository),
#   - any path through a folder called shared/ or design/,
#   - a path under a top-level folder (actor/ learner/ proto/ common/ deploy/ tests/ .ci/)
#     naming a source, config, document or shipped result (.c .h .sh .ini .xml .proto .yml
#     .yaml .sbatch .png .csv .rldt), or a folder written with a trailing slash.
# Globs (`learner/algo/rldt*.c`, `proto/wire.[ch]`) must match something. Words holding a
# template (`<task>`, `{a,b}`, `$VAR`, `%`) or a URL are not references, nor are outputs: paths
# inside a run directory (`runs/...`, or a placeholder such as `RUN_DIR/...`) and the names in
# OUTPUTS, files the programs write. The scanner first proves it can fail on a planted tree.
# Prints "integ_docrefs: N passed, N failed".
set -u
dc_name=integ_docrefs
. "$(dirname "$0")/deploy_check.sh"
root=${RLDT_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
# files the programs write (not documents of the repository): `rldt report`'s summary
OUTPUTS="report.md"

# list_files ROOT: the repository's files (git's list when it is a work tree), one per line
list_files() {
    if git -C "$1" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$1" ls-files --cached --others --exclude-standard
    else
        (cd "$1" && find . -path ./.git -prune -o -path './build*' -prune -o -path ./runs \
            -prune -o -type f -print | sed 's|^\./||')
    fi
}

# kind_of FILE: how its comments are found, in $kind (c, hash, whole) or "skip"
kind_of() {
    case $1 in
    *.md | *.xml) kind=whole ;;
    *.c | *.h | *.proto | *.js) kind=c ;;
    *.sh | *.py | *.ini | *.yml | *.yaml | *.sbatch | Makefile | */Makefile | *Dockerfile* | .ci/*)
        kind=hash
        ;;
    *) kind=skip ;;
    esac
}

# candidates KIND FILE: "LINE<TAB>link|ref<TAB>TOKEN" for every reference in FILE's comments
candidates() {
    local md=0
    case $2 in *.md) md=1 ;; esac
    awk -v kind="$1" -v md="$md" -v outputs="$OUTPUTS" '
    # the comment text of one line of C: outside string and character literals
    function ctext(line,    out, i, n, c, c2) {
        out = ""; n = length(line); i = 1
        while (i <= n) {
            c = substr(line, i, 1); c2 = substr(line, i, 2)
            if (inblock) {
                if (c2 == "*/") { inblock = 0; i += 2; out = out " "; continue }
                out = out c; i++; continue
            }
            if (instr) {
                if (c == "\\") { i += 2; continue }
                if (c == q) instr = 0
                i++; continue
            }
            if (c2 == "//") return out " " substr(line, i + 2)
            if (c2 == "/*") { inblock = 1; i += 2; continue }
            if (c == "\"" || c == "\047") { instr = 1; q = c }
            i++
        }
        instr = 0
        return out
    }
    function htext(line) {
        if (match(line, /(^|[ \t])#/)) return substr(line, RSTART + RLENGTH)
        return ""
    }
    function classify(w, ln,    p, base) {
        if (w ~ /^\[/) w = substr(w, 2)
        if (w !~ /\[/) sub(/\].*$/, "", w)
        sub(/[.,:;]+$/, "", w)
        if (w !~ /[A-Za-z]/) return
        if (w in seen) return # a link target, checked as one
        if (w ~ /^(runs|[A-Z][A-Z_]*)\// || index(" " outputs " ", " " w " ")) return # outputs
        if (w ~ /[A-Za-z0-9_*?]\.md$/ || w ~ /(^|\/)(shared|design)\/./) {
            print ln "\tref\t" w
            return
        }
        p = w
        sub(/^(\.\.?\/)+/, "", p)
        if (p !~ /^(actor|learner|proto|common|deploy|tests|\.ci)\//) return
        base = p; sub(/^.*\//, "", base)
        if (p ~ /\/$/ || base ~ /\.(c|h|sh|ini|xml|proto|yml|yaml|sbatch|png|csv|rldt|\[[a-z]+\])$/)
            print ln "\tref\t" w
    }
    {
        if (kind == "c") t = ctext($0)
        else if (kind == "hash") t = htext($0)
        else t = $0
        if (t == "") next
        # neither URLs nor templates are references
        gsub(/[^ \t]*(:\/\/|[<{$%])[^ \t]*/, " ", t)
        delete seen
        if (md) {
            s = t
            while (match(s, /\]\([^) \t]+\)/)) {
                w = substr(s, RSTART + 2, RLENGTH - 3); s = substr(s, RSTART + RLENGTH)
                sub(/#.*$/, "", w)
                if (w != "" && w !~ /^[a-z]+:/) { print FNR "\tlink\t" w; seen[w] = 1 }
            }
        }
        s = t
        while (match(s, /[]A-Za-z0-9_.\/*?~[-]+/)) {
            w = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
            classify(w, FNR)
        }
    }' "$2"
}

# exists PATH: a file or folder, or a glob that matches one
exists() {
    case $1 in
    *[*?[]*) compgen -G "$1" >/dev/null ;;
    *) [ -e "$1" ] ;;
    esac
}

# resolve ROOT FILE HOW TOKEN: does the reference TOKEN made in FILE exist under ROOT?
resolve() {
    local r=$1 f=$2 how=$3 tok=$4 dir
    dir=$r/$f
    dir=${dir%/*}
    case $tok in /*) return 1 ;; esac # outside the repository
    if [ "$how" = link ]; then
        exists "$dir/$tok"
        return
    fi
    case $tok in
    ./* | ../*) exists "$dir/$tok" ;;
    */*) exists "$r/$tok" || exists "$dir/$tok" ;;
    *) exists "$dir/$tok" || exists "$r/$tok" || grep -qx "\(.*/\)\?${tok//./\\.}" "$files_list" ;;
    esac
}

# scan ROOT: one check per file with references; prints the bad ones; sets nfiles nrefs nbad
scan() {
    local r=$1 f kind ln how tok badf
    files_list=$(mktemp)
    scan_errs=$(mktemp)
    list_files "$r" >"$files_list"
    nfiles=0 nrefs=0 nbad=0
    while IFS= read -r f; do
        kind_of "$f"
        [ "$kind" = skip ] || [ ! -f "$r/$f" ] && continue
        badf=0
        while IFS=$'\t' read -r ln how tok; do
            nrefs=$((nrefs + 1))
            if ! resolve "$r" "$f" "$how" "$tok"; then
                echo "  $f:$ln: '$tok' does not exist in the repository"
                badf=$((badf + 1))
            fi
        done < <(candidates "$kind" "$r/$f" 2>>"$scan_errs")
        nfiles=$((nfiles + 1))
        nbad=$((nbad + badf))
        [ "$badf" -eq 0 ] && dc_passed=$((dc_passed + 1)) || bad "$f: $badf broken reference(s)"
    done <"$files_list"
    rm -f "$files_list"
    if [ -s "$scan_errs" ]; then # the scanner itself failed on some file
        bad "the scanner runs cleanly: $(head -n 3 "$scan_errs" | tr '\n' ' ')"
        nbad=$((nbad + 1))
    fi
    rm -f "$scan_errs"
}

# ---- the scanner must find planted broken references, and only those ----
plant=$(mktemp -d "${TMPDIR:-/tmp}/rldt-docrefs.XXXXXX")
trap 'rm -rf "$plant"' EXIT
mkdir -p "$plant/learner/algo" "$plant/deploy/configs" "$plant/proto"
# the broken names are made up now (a random word), so no made-up document name sits in the
# repository for a reader or another checker to trip over
t=$(mktemp -u XXXXXXXX)
t=${t##*/}
cat >"$plant/learner/algo/x.c" <<EOF
/* the math of learner/algo/README.md §3 and of ${t}N.md; see proto/wire.[ch] */
static const char *p = "learner/$t.c /srv/$t/$t.md"; // shapes in learner/algo/${t}_y.h
// a template: deploy/policies/<task>.rldt; a URL: https://example.org/a/$t.md
// outputs: runs/x/report.md, RUN_DIR/$t.md, report.md
EOF
printf '# see learner/algo/%s_gone.c, ok: learner/algo/rldt*.c\nx = 1\n' "$t" >"$plant/deploy/configs/a.ini"
printf 'syntax = "proto3";\n' >"$plant/proto/wire.h"
cat >"$plant/learner/algo/README.md" <<EOF
# Doc
[up](../README.md), [here](x.c#L1), [gone](../$t.md), [web](https://example.org),
read /srv/$t/${t}G.md and \`deploy/configs/\` and \`tests/\`.
EOF
printf 'int x;\n' >"$plant/learner/algo/rldt_a.c"
touch "$plant/learner/README.md"
saved_passed=$dc_passed saved_failed=$dc_failed
scan "$plant" >"$plant.out" 2>&1
got=$(grep -c "does not exist" "$plant.out")
want="x.c:1: '${t}N.md'
x.c:2: 'learner/algo/${t}_y.h'
a.ini:1: 'learner/algo/${t}_gone.c'
README.md:2: '../$t.md'
README.md:3: '/srv/$t/${t}G.md'
README.md:3: 'tests/'"
missing=""
while IFS= read -r w; do grep -qF "$w" "$plant.out" || missing="$missing [$w]"; done <<<"$want"
rm -f "$plant.out"
dc_passed=$saved_passed dc_failed=$saved_failed
check "a planted tree: the 6 broken references are found (found $got; missed:${missing:- none})" \
    test "$got" = 6 -a -z "$missing"

# ---- the repository ----
scan "$root"
check "the repository's $nfiles scanned files hold $nrefs references, $nbad broken" test "$nbad" = 0
dc_finish
