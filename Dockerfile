# syntax=docker/dockerfile:1
# Jaga as a container: the esbuild bundle (scripts/build.ts) with what it reads at run time
# (migrations/, policies/, and PGlite, which loads its WebAssembly from beside its own module).
#   docker build -t jaga .
#   docker run -p 8080:8080 -e JWT_SECRET=$(openssl rand -hex 32) -v jaga-data:/data jaga
# With PostgreSQL: compose.yaml. Configuration: README.md, Configuration.

# ---- build: install the runtime dependencies and bundle src/entry/node.ts ----
FROM node:24-bookworm-slim AS build
WORKDIR /app
# patches/ is applied by the postinstall step (patch-package), so it comes in with the lock file.
COPY package.json package-lock.json ./
COPY patches ./patches
# Dev dependencies (linters, test runner, wrangler) are not needed to bundle: esbuild is a dependency.
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY migrations ./migrations
RUN node scripts/build.ts

# ---- run: the bundle only, as an unprivileged user ----
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    JAGA_DATA_DIR=/data \
    POLICY_DIR=/app/policies
WORKDIR /app
# The bundle resolves ../../migrations from dist/node/, and imports PGlite as a package.
COPY --from=build /app/dist/node ./dist/node
COPY --from=build /app/node_modules/@electric-sql ./node_modules/@electric-sql
# The API reference page (/docs) serves Swagger UI's files from its package.
COPY --from=build /app/node_modules/swagger-ui-dist ./node_modules/swagger-ui-dist
COPY migrations ./migrations
COPY policies ./policies
# The embedded database (used when DATABASE_URL is unset) lives in a volume the node user owns.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 8080
# Ready: database reachable, migrations current, policies loaded (GET /readyz answers 200).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# What `npm start` runs after its build step; node is PID 1 and handles SIGTERM (graceful shutdown).
CMD ["node", "--max-old-space-size=1024", "--max-semi-space-size=8", "dist/node/jaga.mjs"]
