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
);
