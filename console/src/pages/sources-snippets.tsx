// Ready-made set-up code for a new source's write key, pointed at this deployment's API root (the
// one the console itself talks to, sub-path included).
import { API_ROOT } from '../api';
import { CopyButton } from '../components';

export interface Snippet {
  id: string;
  title: string;
  /** What the Copy button says (each snippet has its own). */
  copyLabel: string;
  note: string;
  text: string;
}

/** The API root without its trailing slash, e.g. https://sluice.example.com or https://x.example/sluice. */
export const apiRoot = (root: URL = API_ROOT): string => root.href.replace(/\/$/, '');

export function snippets(writeKey: string, root: URL = API_ROOT): Snippet[] {
  const base = apiRoot(root);
  // The Node SDK builds its URL as new URL(path, host): a sub-path must go in `path`.
  const batchPath = `${root.pathname.replace(/\/$/, '')}/v1/batch`;
  return [
    {
      id: 'browser',
      title: 'In a web page (analytics.js, RudderStack’s JavaScript SDK)',
      copyLabel: 'Copy analytics.js snippet',
      note: 'Load the SDK as usual (npm i @segment/analytics-next, or RudderStack’s v3 SDK); only where it loads its settings from and sends to changes.',
      // README.md, "In the browser (analytics.js, RudderStack's JavaScript SDK)", with the key and root filled in.
      text: [
        `// Segment's analytics.js (@segment/analytics-next): settings from Sluice instead of cdn.segment.com`,
        `const [analytics] = await AnalyticsBrowser.load({ writeKey: '${writeKey}', cdnURL: '${base}' });`,
        ``,
        `// RudderStack's JavaScript SDK (v3): source config and data plane both Sluice`,
        `rudderanalytics.load('${writeKey}', '${base}', { configUrl: '${base}' });`,
      ].join('\n'),
    },
    {
      id: 'node',
      title: 'On a server (the Segment Node SDK, @segment/analytics-node)',
      copyLabel: 'Copy Node SDK snippet',
      note: 'npm i @segment/analytics-node; the SDK batches events and posts them to /v1/batch.',
      text: [
        `import { Analytics } from '@segment/analytics-node';`,
        ``,
        `const analytics = new Analytics({ writeKey: '${writeKey}', host: '${root.origin}', path: '${batchPath}' });`,
        `analytics.track({ userId: 'user-42', event: 'Order Completed', properties: { revenue: 42.5 } });`,
        `analytics.identify({ userId: 'user-42', traits: { plan: 'pro' } });`,
        `await analytics.closeAndFlush();`,
      ].join('\n'),
    },
    {
      id: 'curl',
      title: 'From a shell (curl)',
      copyLabel: 'Copy curl command',
      note: 'The write key is the Basic-auth user name, with an empty password.',
      text: [
        `curl -s -X POST '${base}/v1/track' -u '${writeKey}:' \\`,
        `  -H 'Content-Type: application/json' \\`,
        `  -d '{"userId":"user-42","event":"Order Completed","properties":{"revenue":42.5}}'`,
      ].join('\n'),
    },
  ];
}

export function Snippets({ writeKey }: { writeKey: string }) {
  return (
    <div class="snippets">
      {snippets(writeKey).map((s) => (
        <figure class="snippet" key={s.id} aria-labelledby={`snippet-${s.id}`}>
          <div class="card-head">
            <h3 id={`snippet-${s.id}`}>{s.title}</h3>
            <CopyButton text={s.text} label={s.copyLabel} />
          </div>
          <pre class="json" tabIndex={0} aria-label={s.title}>
            {s.text}
          </pre>
          <figcaption class="muted">{s.note}</figcaption>
        </figure>
      ))}
    </div>
  );
}
