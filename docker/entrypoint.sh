#!/bin/sh
# Entrypoint of the Marketing OP image.
#   (no arguments) / serve [options]  -> apply migrations, then `marketing-op serve`
#   <marketing-op command> [args]      -> `marketing-op <command> [args]` (e.g. create-user)
#   <program on PATH> [args]           -> that program (e.g. sh, python)
# MIGRATE_ON_START=0 skips the migrations (e.g. when a release job runs them instead).
set -eu

if [ "$#" -eq 0 ]; then
    set -- serve
fi

if [ "$1" = "serve" ]; then
    case "${MIGRATE_ON_START:-1}" in
        0 | false | no | off) ;;
        *) marketing-op migrate --no-input ;;
    esac
    exec marketing-op "$@"
fi

# An executable on PATH runs as itself; anything else (including shell builtins
# such as `test`) is a marketing-op command.
program="$(command -v -- "$1" 2>/dev/null || true)"
case "$program" in
    /*) exec "$@" ;;
    *) exec marketing-op "$@" ;;
esac
