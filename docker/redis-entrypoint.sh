#!/bin/sh
# Entrypoint of the locally assembled Redis image (docker/redis.Dockerfile).
# Like the official image, it runs redis-server with protected mode off so clients from
# outside the container may connect; RedisContainer replaces the command with
# `redis-server <flags>`, which lands here as "$@". A first argument that is not a flag is
# a config file and stays first; flags given later (e.g. --protected-mode yes) still win.
set -e
if [ "${1#-}" != "$1" ]; then
  set -- redis-server "$@"
fi
if [ "$1" = "redis-server" ] || [ "$1" = "/usr/bin/redis-server" ]; then
  shift
  if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    conf="$1"
    shift
    set -- /usr/bin/redis-server "$conf" --protected-mode no "$@"
  else
    set -- /usr/bin/redis-server --protected-mode no "$@"
  fi
fi
exec "$@"
