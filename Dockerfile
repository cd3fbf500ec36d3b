# pgmirror runs its TypeScript sources through tsx (a runtime dependency), so there is no build step.
FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY bin ./bin
COPY src ./src
COPY grammar ./grammar

USER node
EXPOSE 9900 3000
ENTRYPOINT ["node", "bin/pgmirror.js"]
CMD ["start"]
