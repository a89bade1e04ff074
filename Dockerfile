# The worker image; the same image runs pve-sim (`npm run sim`) and the CLI (`npm run cli`).
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
USER node
CMD ["npm", "run", "-s", "worker"]
