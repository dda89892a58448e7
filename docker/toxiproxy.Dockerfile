# A Toxiproxy-compatible image: the embedded proxy (harness/faults) behind
# toxiproxy-server's command line, on Toxiproxy's ports (8474 for the API, 8666-8697 for
# proxies), so @testcontainers/toxiproxy's ToxiProxyContainer and compose files run it like
# ghcr.io/shopify/toxiproxy. Context: a staging dir with package.json, harness/faults and
# node_modules/zod (docker/build-local-images.sh makes it).
#   docker run --rm -p 8474:8474 IMAGE                       # API on 0.0.0.0:8474
#   docker run --rm --network host IMAGE -host=127.0.0.1 -port=18474
ARG NODE_IMAGE=node:22-bookworm-slim
FROM ${NODE_IMAGE}
WORKDIR /app
COPY app/ /app/
EXPOSE 8474 8666-8697
ENTRYPOINT ["node", "/app/harness/faults/toxiproxy-main.ts"]
CMD ["-host=0.0.0.0"]
