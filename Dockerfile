# The production image: Node 24 LTS, production dependencies only.
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY server ./server
COPY web ./web
COPY scripts ./scripts
USER node
ENV HOST=0.0.0.0 PORT=1080 DATA_DIR=/home/node/data
EXPOSE 1080
CMD ["node", "server/main.ts"]
