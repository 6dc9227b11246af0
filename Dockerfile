# Herald: one image for the controller and the speaker.
#   docker build -t ghcr.io/herald-lb/herald:v0.1.0 .
# Stage 1 compiles TypeScript and the native addon; stage 2 carries only what runs.
FROM node:20-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY controller ./controller
COPY speaker ./speaker
COPY lab ./lab
COPY cmd ./cmd
COPY crds ./crds
COPY bin ./bin
COPY scripts/build.mjs ./scripts/build.mjs
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /herald
ENV NODE_ENV=production
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
COPY --from=build /src/build/Release/herald_native.node ./build/Release/herald_native.node
COPY --from=build /src/crds ./crds
# Non-root by default (the controller); the speaker's DaemonSet runs it as root with only
# NET_RAW and NET_ADMIN, which it needs for AF_PACKET and TCP-MD5.
USER 65532:65532
ENTRYPOINT ["node", "/herald/bin/herald.js"]
CMD ["--help"]
