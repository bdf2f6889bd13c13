#!/usr/bin/env bash
# Builds fuzz/corpus/TARGET (not committed) from the project's own inputs under tests/ and
# scenarios/: YAML files, inventories, host patterns, template expressions, shell commands,
# fleet files, fault plans and space files. Run from anywhere; safe to re-run (it only adds).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/fuzz/corpus"
cd "$root"
mkdir -p "$out"/{yaml_loader,inventory_ini,inventory_yaml,host_patterns,templates,shell,fleet_file,fault_plan,space_file}

# One corpus file per input, named by its content's hash so re-runs do not duplicate.
put() { # target, then the content on stdin
    local tmp
    tmp="$(mktemp)"
    cat >"$tmp"
    if [ -s "$tmp" ]; then
        mv "$tmp" "$out/$1/$(sha1sum "$tmp" | cut -c1-16)"
    else
        rm -f "$tmp"
    fi
}

yamls=$(find tests scenarios -type f \( -name '*.yml' -o -name '*.yaml' \) -size -64k | sort)
for f in $yamls; do put yaml_loader <"$f"; done

# Inventories: INI ones are the files without a YAML extension named like an inventory.
find tests scenarios -type f \( -name '*.ini' -o -name 'inv' -o -name 'inventory' -o -name 'hosts' -o -path '*inventory*' \) \
    ! -name '*.yml' ! -name '*.yaml' ! -name '*.rs' -size -64k | sort | while read -r f; do
    put inventory_ini <"$f"
done
for f in $yamls; do
    case "$f" in *inv*|*hosts*) put inventory_yaml <"$f" ;; esac
done

# Host patterns: every `hosts:` value, each with and without a limit taken from another one.
pats=$(grep -h -o 'hosts: *[^#]*' $yamls 2>/dev/null | sed 's/hosts: *//; s/^["'\'']//; s/["'\'']$//' | sort -u | head -300)
prev="all"
while IFS= read -r p; do
    [ -n "$p" ] || continue
    printf '\n%s\n' "$p" | put host_patterns
    printf '%s\n%s\n' "$prev" "$p" | put host_patterns
    prev="$p"
done <<<"$pats"
for p in 'web*' '~db-[ab]' 'prod:!lb' 'app:&db' 'web[1:3]' 'all[-1]' '2001:db8::1' 'lb-[a:c]'; do
    printf '\n%s\n' "$p" | put host_patterns
done

# Templates: every line with an expression or a statement, with an empty context and with a
# small context of every type; template files whole.
ctx='s: text
n: 42
f: 1.5
b: true
l: [1, two, {three: 3}]
d: {k: v, n: [1, 2]}
'
grep -h -E '\{\{|\{%' $yamls 2>/dev/null | sed 's/^ *//' | sort -u | head -2000 | while IFS= read -r line; do
    printf '\0%s' "$line" | put templates
    printf '%s\0%s' "$ctx" "$line" | put templates
done
find tests scenarios -type f -name '*.j2' -size -64k | while read -r f; do
    { printf '%s\0' "$ctx"; cat "$f"; } | put templates
done

# Shell: the commands of shell/command tasks.
grep -h -E '^\s*-?\s*(ansible\.builtin\.)?(shell|command|raw): ' $yamls 2>/dev/null |
    sed -E 's/^\s*-?\s*(ansible\.builtin\.)?(shell|command|raw): *//; s/^["'\'']//; s/["'\'']$//' |
    sort -u | head -1000 | while IFS= read -r line; do
        printf '%s\n' "$line" | put shell
    done
for s in 'for i in 1 2 3; do echo $i > /tmp/f$i; done; cat /tmp/f*' 'x=$((1+2)); echo ${x:-none} | tr 0-9 a-j' \
    'cat <<EOF > /etc/motd
hello $HOSTNAME
EOF
grep -c hello /etc/motd' 'while true; do :; done' 'case $1 in a|b) echo ab;; *) echo other;; esac'; do
    printf '%s\n' "$s" | put shell
done

# The fleet's files.
for f in scenarios/*/fleet.yml tests/data/fleet/*.yml; do [ -f "$f" ] && put fleet_file <"$f"; done
for f in scenarios/*/faults/*.yml tests/data/fleet/*fault*.yml; do [ -f "$f" ] && put fault_plan <"$f"; done
for f in scenarios/*/space*.yml tests/data/fleet/*space*.yml; do [ -f "$f" ] && put space_file <"$f"; done

for t in "$out"/*; do echo "$(basename "$t"): $(find "$t" -type f | wc -l) inputs"; done
