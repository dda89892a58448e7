# The harness: this checkout's imstorm CLI (bin/, harness/, server/, scenarios/) with its
# node_modules, on the registry-free Node image, plus Debian's redis-server and redis-cli
# (with the libraries ldd lists) so `imstorm run --env local` works inside the container.
# One image for both roles: `imstorm agent` (docker/compose.fleet.yaml, deploy/k8s
# agents-job.yaml) and the orchestrator `imstorm run … --agents N --control-listen …`
# (deploy/k8s orchestrator-job.yaml). Context: a staging dir that
# docker/build-local-images.sh makes (tag imstorm-local/harness:dev).
#   docker run --rm --network host -e IMSTORM_CONTROL_TOKEN=… imstorm-local/harness:dev \
#     node bin/imstorm.js agent --control ws://127.0.0.1:7400/control
ARG NODE_IMAGE=imstorm-local/node:22
FROM ${NODE_IMAGE}
COPY rootfs/ /
WORKDIR /imstorm
# nothing to apt-get inside the image: a missing redis-server is an error, not an install
ENV IMSTORM_NO_INSTALL=1
CMD ["node", "bin/imstorm.js", "--help"]
