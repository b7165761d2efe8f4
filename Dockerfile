# The production image: Node 24 LTS, production dependencies only, and the page built in a stage of its own.
FROM node:24-slim AS page
WORKDIR /app
COPY package.json package-lock.json ./
# scripts/no-canvas stands in for pdfjs-dist's optional renderer (see its package.json).
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
COPY web ./web
# The page imports the upload rules from the server (one source of the refusal words).
COPY server ./server
RUN node scripts/build-web.ts

FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm ci --omit=dev --no-audit --no-fund
COPY server ./server
COPY --from=page /app/dist/web ./dist/web
USER node
# Listening on every interface needs authentication: set JWT_SECRET, JWT_JWKS_URL or AUTH=required
# (API keys), or AUTH=none on purpose; without one of them the server refuses to start and says so.
ENV HOST=0.0.0.0 PORT=1080 DATA_DIR=/home/node/data
EXPOSE 1080
CMD ["node", "server/main.ts"]
