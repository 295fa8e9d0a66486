// Lint rules, and the import boundaries of DESIGN.md's layout table: each folder may import only
// the folders the table names, so the environment never depends on an agent or a baseline.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const folders = ['env', 'baseline', 'agents', 'models', 'rescoin', 'training'];
const allowed = {
  env: [],
  baseline: ['env'],
  agents: ['env', 'models'],
  models: [],
  rescoin: ['env'],
  training: folders,
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
  // models/runtime.ts is copied alone to a gateway as policy.mjs: Node's built-ins only (issue 5).
  {
    files: ['models/runtime.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!node:(fs|path|crypto)$)', message: 'models/runtime.ts ships alone as a gateway policy.mjs: it may import node:fs, node:path and node:crypto only.' }] },
      ],
    },
  },
);
