#!/bin/sh
# Entry point of the chaindns image. Configuration, later sources winning:
#   1. /usr/local/share/chaindns/container.yaml  the image's defaults
#   2. /etc/chaindns/chaindns.yaml               yours, if you mount one
#   3. the container's arguments                 flags (--allow, --redis-url, ...)
# `docker run IMAGE trace NAME [TYPE]` runs `chaindns trace` with the same files.
set -e
bin=/usr/local/bin/chaindns
defaults=/usr/local/share/chaindns/container.yaml
conf=/etc/chaindns/chaindns.yaml
if [ -f "$conf" ]; then
  files="--config $defaults --config $conf"
else
  files="--config $defaults"
fi
if [ "${1:-}" = trace ]; then
  # trace takes NAME and TYPE right after the word; options may follow.
  # shellcheck disable=SC2086 # $files is two or four words, no blanks inside
  exec "$bin" "$@" $files
fi
# shellcheck disable=SC2086
exec "$bin" $files "$@"
