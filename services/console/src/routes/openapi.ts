import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';

/**
 * The JSON API's OpenAPI 3.1 description. It lives in services/console/public/ (next to src/ and dist/, so
 * this same relative path works from the TypeScript source in tests and from the compiled dist/routes/, and
 * the image ships it: the Dockerfile copies a service's dist/ and public/). It is not one of the /static/
 * files; test/console-openapi.int.test.ts holds the console's answers to it.
 */
export const OPENAPI_FILE = fileURLToPath(new URL('../../public/openapi.json', import.meta.url));

/** `GET /api/openapi.json`, behind the same authentication as the API it describes. */
export const openapiRoutes: FastifyPluginAsync = async (app) => {
  // Read and parsed once at start: a missing or broken document stops the console from starting, rather
  // than a 500 the first time someone asks for it.
  const text = await readFile(OPENAPI_FILE, 'utf8');
  const body = JSON.stringify(JSON.parse(text));
  app.get('/api/openapi.json', async (_req, reply) =>
    reply.type('application/json; charset=utf-8').send(body),
  );
};
