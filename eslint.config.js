// Lint rules, and the import boundaries of DESIGN.md's layout table: each folder may import only
// the folders the table names, so the environment never depends on an agent or a baseline.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const folders = ['runtime', 'env', 'baseline', 'agents', 'models', 'training', 'evaluation', 'export', 'ledger', 'habits', 'community', 'cli'];
const allowed = {
  runtime: [],
  env: ['runtime'],
  baseline: ['env', 'runtime'],
  agents: ['env', 'runtime', 'models'],
  models: ['runtime'],
  training: ['runtime', 'env', 'baseline', 'agents', 'models'],
  evaluation: ['runtime', 'env', 'baseline', 'agents', 'models', 'training'],
  export: ['runtime', 'env', 'baseline', 'agents', 'models', 'training', 'evaluation'],
  ledger: ['env'],
  // The habits fitter and its check (DESIGN.md, Habits): reads logs, writes scenarios, draws days and plots.
  habits: ['runtime', 'env', 'training', 'evaluation'],
  community: folders.filter((f) => f !== 'community' && f !== 'cli'),
  cli: folders.filter((f) => f !== 'cli'),
};

const boundary = (folder) => {
  const banned = folders.filter((f) => f !== folder && !allowed[folder].includes(f));
  return {
    files: [`${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: banned.map((f) => ({
            group: [`../${f}/*`, `../../${f}/*`, `../${f}`, `../../${f}`],
            message: `${folder}/ may not import ${f}/ (DESIGN.md, Layout).`,
          })),
        },
      ],
    },
  };
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'runs/**', 'reports/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...folders.map(boundary),
  // runtime/ is bundled alone into a gateway's policy.mjs: Node's built-ins only (DESIGN.md, Layout).
  {
    files: ['runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!node:(fs|path|crypto)$|\\./)', message: 'runtime/ ships alone as a gateway policy.mjs: it may import node:fs, node:path, node:crypto and its own files only.' }] },
      ],
    },
  },
);
