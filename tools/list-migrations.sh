#!/bin/sh
# Prints schema/NNNN_*.sql in order, one per line, for meson.
cd "$(dirname "$0")/.." && ls schema/[0-9][0-9][0-9][0-9]_*.sql | sort
