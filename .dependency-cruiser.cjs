// The layer rules of docs/architecture.md, checked in CI (`npm run lint:deps`).
//   infrastructure  config logging metrics database redis queue common health tracing
//   shared domain   domain/ (principal, key format, event types, the stored-event columns)
//   features        everything else under src/ (auth, ratelimit, audit, sources, ingest, ...)
//   composition     src/app/, src/main.ts, src/cli.ts: may import anything
// A layer imports only from itself or below; nothing imports upward; no cycles anywhere.
const INFRA = '^src/(config|logging|metrics|database|redis|queue|common|health|tracing)/';
const DOMAIN = '^src/domain/';
const COMPOSITION = '^src/(app/|main\\.ts$|cli\\.ts$)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules form a DAG: a cycle means two modules cannot change or be tested apart.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'infrastructure-knows-no-feature',
      severity: 'error',
      comment: 'Infrastructure sits at the bottom: it may not import the shared domain, a feature or the app.',
      from: { path: INFRA },
      to: { path: '^src/', pathNot: INFRA },
    },
    {
      name: 'domain-knows-no-feature',
      severity: 'error',
      comment: 'The shared domain may import only infrastructure and itself.',
      from: { path: DOMAIN },
      to: { path: '^src/', pathNot: [INFRA, DOMAIN] },
    },
    {
      name: 'nothing-imports-the-composition-root',
      severity: 'error',
      comment: 'Only src/app, main.ts and cli.ts wire features together; nothing may import them back.',
      from: { path: '^src/', pathNot: COMPOSITION },
      to: { path: COMPOSITION },
    },
    {
      name: 'src-does-not-import-tests-or-bench',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|loadtest)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
