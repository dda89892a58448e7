# One imstorm server node. Context: a staging dir holding package.json, server/ and the
# production node_modules (`npm ci --omit=dev`); docker/build-server-image.sh makes it:
#   docker/build-server-image.sh [--tag imstorm/server:dev] [--node-image node:22-bookworm-slim]
# Configuration is the environment (PROTOCOL.md); in a container HOST must be 0.0.0.0.
#   docker run --rm -p 8080:8080 -e JWT_SECRET=... -e REDIS_URL=redis://redis:6379 imstorm/server:dev
ARG NODE_IMAGE=node:22-bookworm-slim
FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
COPY app/ /app/
EXPOSE 8080
# node itself is PID 1's program, so SIGTERM reaches the server (graceful drain, exit 0).
ENTRYPOINT ["node", "/app/server/main.ts"]
