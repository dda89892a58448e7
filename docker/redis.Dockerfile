# Redis assembled from this machine's Debian redis-server binary (no registry needed):
# docker/build-local-images.sh fills the context's rootfs/ with /usr/bin/redis-server,
# /usr/bin/redis-cli, /bin/sh (dash), the libraries `ldd` lists for them, and
# docker/redis-entrypoint.sh. Works with @testcontainers/redis's RedisContainer, which
# replaces the command with `redis-server <flags>` and waits for "Ready to accept connections".
FROM scratch
COPY rootfs/ /
WORKDIR /data
VOLUME /data
EXPOSE 6379
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["redis-server"]
