#!/bin/bash
# Differential fuzzing of fleetsim's inventory against real Ansible.
#   run.sh FROM TO   (seeds; e.g. run.sh 1 40)
# Generates random INI/YAML inventories with group_vars/host_vars and host patterns (gen.py),
# records what ansible-core prints (ref.py for patterns, ansible-inventory for --list/--graph),
# then compares with the shared runner. Needs the reference install (ANSIBLE_BIN, default
# /tmp/ansible-ref/bin) and a release build (ENGINE, default target/release/fleetsim).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ANSIBLE_BIN=${ANSIBLE_BIN:-/tmp/ansible-ref/bin}
ENGINE=${ENGINE:-$(cd "$HERE/../../.." && pwd)/target/release/fleetsim}
export ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_PATTERN_MISMATCH=ignore ANSIBLE_INVENTORY_UNPARSED_WARNING=0 PATH=$ANSIBLE_BIN:$PATH
D=${CASES:-/tmp/fleetsim-inventory-fuzz}; rm -rf "$D"; mkdir -p "$D"
for s in $(seq "$1" "$2"); do
  c=$D/s$s; "$ANSIBLE_BIN/python" "$HERE/gen.py" "$s" "$c"
  inv=$(cd "$c"; ls inventory.*)
  (cd "$c"; "$ANSIBLE_BIN/python" "$HERE/ref.py" "$c"
   ansible-inventory -i "$inv" --list > expected/list.json 2>/dev/null
   ansible-inventory -i "$inv" --graph > expected/graph.txt 2>/dev/null)
done
/work/shared/conformance/run-inventory --engine "$ENGINE" --cases "$D" | grep -v "^ok"
