# The API and the CPU worker (one image, two commands). TF.js runs on its wasm backend here; install
# @tensorflow/tfjs-node for native CPU kernels (the engine picks it up when present).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip
COPY package.json package-lock.json .npmrc tsconfig.json prisma.config.ts ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY packages ./packages
COPY apps ./apps
# Dev dependencies stay: tsx runs the TypeScript sources directly (there is no build step).
RUN npm ci --include=dev && npm cache clean --force
EXPOSE 3000
# node itself (not npm) is PID 1, so SIGTERM reaches the process that shuts down gracefully.
CMD ["node", "--import", "tsx", "apps/api/src/main.ts"]
