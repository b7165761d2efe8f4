# The production image: Node 24 LTS, production dependencies only.
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# scripts/no-canvas stands in for pdfjs-dist's optional renderer (see its package.json).
COPY scripts ./scripts
RUN npm ci --omit=dev --no-audit --no-fund
COPY server ./server
COPY web ./web
USER node
ENV HOST=0.0.0.0 PORT=1080 DATA_DIR=/home/node/data
EXPOSE 1080
CMD ["node", "server/main.ts"]
