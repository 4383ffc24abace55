import js from '@eslint/js';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import tseslint from 'typescript-eslint';

/**
 * Import zones: which part of src/ may import which (docs/architecture.md, "Import direction", says why for
 * every allowed import between components). Entry points and the daemon's wiring import anything;
 * components import the shared folders and only the components listed for them; domain/ and lib/ import
 * nothing of ours but each other. Only sandbox start-up imports simulator/, and nothing in src/ imports test/.
 */
const COMPONENT_IMPORTS = {
  smtp: ['documents', 'blobs'],
  documents: [],
  jobs: ['telnyx', 'blobs', 'documents'],
  telnyx: [],
  events: ['jobs', 'telnyx', 'inbound', 'http'],
  inbound: ['mail', 'telnyx', 'blobs', 'documents'],
  mail: ['blobs', 'inbound', 'documents'],
  http: ['blobs', 'events'],
  console: ['blobs', 'http', 'jobs', 'inbound'],
  blobs: [],
};
/** Folders every component may import, and what they may import themselves. */
const SHARED_IMPORTS = { store: ['domain', 'lib'], config: ['domain', 'lib'] };
/** Root modules every component may import. */
const SHARED_FILES = ['errors', 'log', 'metrics'];
/** The daemon's wiring: built once at start-up, imported by no component (context.ts only as a type). */
const WIRING_FILES = ['main', 'cli', 'daemon', 'daemonEvents', 'startMetrics'];
const ALL_FOLDERS = [
  ...Object.keys(COMPONENT_IMPORTS),
  ...Object.keys(SHARED_IMPORTS),
  'domain',
  'lib',
  'cli',
  'simulator',
];

const outside = (folders) => `^(\\.\\./)+(${folders.join('|')})/`;
const rootFile = (names) => `^(\\.\\./)+(${names.join('|')})\\.js$`;
const NO_TESTS = { group: ['**/test/**'], message: 'src/ never imports the tests.' };
/**
 * Libraries an idle daemon does not load (bench/README.md, "Idle memory"): src/ takes their types only, and the
 * one module that uses each loads it with `import()` when first needed.
 */
const LOADED_ON_USE = {
  regex: '^libphonenumber-js(/|$)',
  allowTypeImports: true,
  message: 'Loaded on first use: call loadPhoneNumbers() and the functions of domain/phoneNumber.ts.',
};
/**
 * node:http, and the packages whose ES module build imports it: src/ requires their CommonJS build and imports
 * their types only (src/lib/requireCommonJs.ts says why: on Node 24 an import of node:http loads Node's own fetch).
 */
const COMMONJS_BUILD_SOURCE = '^((node:)?http|smtp-server|nodemailer|@koa/router)(/.*)?$';
const COMMONJS_BUILD_MESSAGE =
  'Required, not imported (src/lib/requireCommonJs.ts says why): lib/nodeHttp.ts, smtp/smtpServerLibrary.ts, ' +
  'lib/koaRouter.ts, or requireCommonJs.';
const COMMONJS_BUILD_ONLY = {
  regex: COMMONJS_BUILD_SOURCE,
  allowTypeImports: true,
  message: COMMONJS_BUILD_MESSAGE,
};
/** What every file of src/ must not import, whatever its zone. */
const EVERYWHERE = [NO_TESTS, LOADED_ON_USE, COMMONJS_BUILD_ONLY];
const NO_FOCUSED_TESTS = {
  selector: "CallExpression[callee.property.name='only']",
  message: 'No focused tests.',
};

function zone(files, forbiddenFolders, { contextAsType = true, extra = [] } = {}) {
  const patterns = [
    ...EVERYWHERE,
    { regex: outside(forbiddenFolders), message: "Outside this folder's import zone (eslint.config.js)." },
    { regex: rootFile(WIRING_FILES), message: "The daemon's wiring is imported by entry points only." },
    ...extra,
  ];
  if (contextAsType) {
    patterns.push({
      regex: rootFile(['context']),
      allowTypeImports: true,
      message: "Components take the context as a type; makeCtx is for the daemon's start-up.",
    });
  }
  return { files, rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] } };
}

function importZones() {
  const zones = [];
  for (const [component, allowed] of Object.entries(COMPONENT_IMPORTS)) {
    const shared = [...Object.keys(SHARED_IMPORTS), 'domain', 'lib'];
    const forbidden = ALL_FOLDERS.filter(
      (f) => f !== component && !allowed.includes(f) && !shared.includes(f),
    );
    zones.push(zone([`src/${component}/**/*.ts`], forbidden));
  }
  for (const [folder, allowed] of Object.entries(SHARED_IMPORTS)) {
    const forbidden = ALL_FOLDERS.filter((f) => f !== folder && !allowed.includes(f));
    zones.push(
      zone([`src/${folder}/**/*.ts`], forbidden, {
        extra: [{ regex: rootFile(['metrics', 'context']), message: 'Shared folders know no daemon.' }],
      }),
    );
  }
  for (const folder of ['domain', 'lib']) {
    const patterns = [
      ...EVERYWHERE,
      {
        regex: '^\\.\\./(?!(domain|lib|store)/)',
        message: `${folder}/ imports nothing of ours but domain/ and lib/.`,
      },
      {
        regex: '^\\.\\./store/',
        // Remaining exception: the job transition rules take the store's row types (types only).
        allowTypeImports: folder === 'domain',
        message: `${folder}/ imports nothing of ours but domain/ and lib/.`,
      },
    ];
    zones.push({
      files: [`src/${folder}/**/*.ts`],
      rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] },
    });
  }
  // The built-in Telnyx stand-in shares only generic helpers with the daemon, and counts the pages of the media
  // it fetches in the same killable document sandbox.
  zones.push(
    zone(
      ['src/simulator/**/*.ts'],
      ALL_FOLDERS.filter((f) => f !== 'simulator' && f !== 'lib' && f !== 'documents'),
      { extra: [{ regex: rootFile(['metrics', 'context']), message: 'The simulator knows no daemon.' }] },
    ),
  );
  // Root modules: the shared ones import only shared folders; the wiring anything but the CLI and the tests.
  zones.push({
    files: SHARED_FILES.map((name) => `src/${name}.ts`),
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            ...EVERYWHERE,
            {
              regex: '^\\./(?!(store/|domain/|lib/|errors\\.js$|log\\.js$))',
              message: 'Shared root modules import only shared folders.',
            },
          ],
        },
      ],
    },
  });
  // main.ts is the sandbox start-up: the one place in the daemon that starts the simulator.
  zones.push({
    files: ['src/main.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [...EVERYWHERE, { regex: '^\\./(cli/|cli\\.js$)', message: 'Nothing imports the CLI.' }],
        },
      ],
    },
  });
  zones.push({
    files: ['src/*.ts'],
    ignores: [...SHARED_FILES.map((name) => `src/${name}.ts`), 'src/cli.ts', 'src/main.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            ...EVERYWHERE,
            { regex: '^\\./(cli/|cli\\.js$)', message: 'Nothing imports the CLI.' },
            {
              regex: '^\\./(simulator/|main\\.js$)',
              message: 'Only main.ts (sandbox start-up) starts the simulator.',
            },
          ],
        },
      ],
    },
  });
  // The CLI may import anything but the tests; of the simulator only the file that says where it runs (and
  // `doctor`, which in sandbox mode checks against a simulator of its own).
  zones.push({
    files: ['src/cli/**/*.ts', 'src/cli.ts'],
    ignores: ['src/cli/doctor/runDoctor.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            ...EVERYWHERE,
            {
              regex: '^(\\.\\./)+simulator/(?!simulatorInfo\\.js$)',
              message: 'The CLI finds the simulator through simulatorInfo only.',
            },
          ],
        },
      ],
    },
  });
  // The doctor's runner sits outside the CLI's zone (it starts a simulator of its own) but not outside these rules.
  zones.push({
    files: ['src/cli/doctor/runDoctor.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: EVERYWHERE }] },
  });
  return zones;
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'var/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'simple-import-sort': simpleImportSort },
    rules: {
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      'no-restricted-syntax': ['error', NO_FOCUSED_TESTS],
    },
  },
  ...importZones(),
  {
    // import() of what src/ requires as CommonJS (no-restricted-imports sees only import declarations).
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        NO_FOCUSED_TESTS,
        {
          selector: `ImportExpression[source.value=/${COMMONJS_BUILD_SOURCE.replaceAll('/', '\\/')}/]`,
          message: COMMONJS_BUILD_MESSAGE,
        },
        {
          // Koa tests an object body against the global `Response`, which on Node 24 loads Node's own fetch.
          selector:
            "AssignmentExpression[left.property.name='body'][right.type=/^(ObjectExpression|ArrayExpression)$/]",
          message: 'A JSON answer is set with setJsonBody (src/http/koaBodies.ts says why).',
        },
      ],
    },
  },
  {
    files: ['src/cli.ts', 'src/cli/**', 'bench/**', 'test/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
);
