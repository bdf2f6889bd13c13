#!/bin/sh
echo "args: $*"
echo "on $(hostname)" >&2
touch "$1/ran-$2"
