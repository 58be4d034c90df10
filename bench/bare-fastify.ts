// The single-event baseline: a bare Fastify server in its own process (so it does not share
// the load generator's event loop) that answers every ingestion POST with 200 {"success":true}
// and does nothing else. It parses the JSON body, as any Fastify route would.
import Fastify from 'fastify';

async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
  const app = Fastify({ logger: false, bodyLimit: 512_000 });
  app.post('/v1/*', async () => ({ success: true }));
  app.get('/health/ready', async () => ({ status: 'ok' }));
  await app.listen({ port, host: '127.0.0.1' });
  process.on('SIGTERM', () => {
    void app.close().then(() => process.exit(0));
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
