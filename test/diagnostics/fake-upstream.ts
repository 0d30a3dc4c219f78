import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const UPSTREAM_KEY = 'sk-upstream-secret-0123456789';

/** A model service that lists `models`, answers them, refuses other keys (401) and other models (404). */
export async function startFakeUpstream(models: string[]): Promise<{ baseUrl: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'HEAD') return json(405, {});
    if (req.headers.authorization !== `Bearer ${UPSTREAM_KEY}`) return json(401, { error: { message: 'Incorrect API key provided' } });
    if (req.method === 'GET' && req.url === '/v1/models')
      return json(200, { object: 'list', data: models.map((id) => ({ id, object: 'model' })) });
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const model = (JSON.parse(body) as { model: string }).model;
      if (!models.includes(model)) return json(404, { error: { message: `The model ${model} does not exist` } });
      json(200, { choices: [{ index: 0, message: { role: 'assistant', content: 'p' }, finish_reason: 'length' }] });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
