# Shared by bench/search and bench/search-against (sourced, not run): the six
# kinds of query, in the order they are measured, signing in, reading a
# results page's match count, and loading a page with wrk.

kinds=(common-word two-rare-words phrase filters-only misspelled filter-and-words)
declare -A queries=(
  [common-word]="q=kafka"
  [two-rare-words]="q=daidax+trodad"
  [phrase]="q=%22connection+pool%22"
  [filters-only]="severity=sev1&kind=incident"
  [misspelled]="q=certficate"
  [filter-and-words]="q=database+timeout&severity=sev2"
)

# sign_in PORT EMAIL: prints the session cookie's value (empty if refused).
sign_in() {
  local jar csrf
  jar=$(mktemp)
  csrf=$(curl -s -c "$jar" -b "$jar" "http://127.0.0.1:$1/login" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -n 1)
  curl -s -o /dev/null -c "$jar" -b "$jar" -H "Origin: http://127.0.0.1:$1" \
    --data-urlencode "_csrf=$csrf" --data-urlencode "email=$2" \
    --data-urlencode "password=debrief-demo-password" "http://127.0.0.1:$1/login"
  awk '$6 == "debrief_session" { print $7 }' "$jar"
  rm -f "$jar"
}

# matches_of URL SESSION: the match count a results page shows ("1,530", "≈61,000").
matches_of() {
  curl -s -H "Cookie: debrief_session=$2" "$1" | grep -o '<strong>[^<]*</strong> postmortem' | head -1 | sed 's/<[^>]*>//g; s/ postmortem//' || true
}

# load URL [SESSION]: warms up for 3 s, then loads URL for $DURATION at
# $CONNECTIONS connections; prints bench/percentiles.lua's RESULT line.
load() {
  wrk -t2 -c"$CONNECTIONS" -d3s ${2:+-H "Cookie: debrief_session=$2"} "$1" >/dev/null
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -s bench/percentiles.lua ${2:+-H "Cookie: debrief_session=$2"} "$1" | grep RESULT
}

# rps_of: the requests/s of a RESULT line on standard input.
rps_of() { sed 's/.*requests\/s=\([0-9]*\).*/\1/'; }
