# The worker image; the same image runs pve-sim (`npm run sim`) and the CLI (`npm run cli`).
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
# Named volumes take this directory's owner, so pve-sim (running as node) can write its data there.
RUN mkdir -p /data && chown node:node /data
USER node
CMD ["npm", "run", "-s", "worker"]
