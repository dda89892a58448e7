# A minimal Node 22 runtime assembled from the project's own Node binary
# (node_modules/node/bin/node) and the libraries `ldd` lists for it, plus /bin/sh (dash).
# docker/build-local-images.sh tags it imstorm-local/node:22 and passes it as NODE_IMAGE to
# docker/toxiproxy.Dockerfile and docker/server.Dockerfile, so they build without a registry.
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin
CMD ["node"]
