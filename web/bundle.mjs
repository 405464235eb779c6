// Bundles the dashboard's scripts: web/src/main.js and the npm libraries it imports into one
// minified file with no imports left (OUT.js), and the SQL editor's CodeMirror parts
// (web/src/editor.js) into editor.js beside it, which the SQL page loads when it opens; so
// the page works offline from the binary alone. A gzip copy is written beside each
// (.js.gz), which the server sends to browsers that accept gzip.
//   node web/bundle.mjs OUT.js        (the CMake build runs this)
//   node web/bundle.mjs --watch       (development: writes web/dist/ for `serve --web-dir web`)
import { build, context } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync, constants } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const watch = process.argv[2] === '--watch';
const outfile = watch ? join(here, 'dist', 'app.js') : process.argv[2];
if (!outfile) {
  console.error('usage: node web/bundle.mjs OUT.js | --watch');
  process.exit(2);
}
const common = {
  bundle: true,
  minify: !watch,
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15'],
  legalComments: 'none',
  logLevel: 'warning',
};
const bundles = [
  { ...common, entryPoints: [join(here, 'src', 'main.js')], outfile },
  { ...common, entryPoints: [join(here, 'src', 'editor.js')], outfile: join(dirname(outfile), 'editor.js') },
];
if (watch) {
  for (const options of bundles) await (await context(options)).watch();
} else {
  for (const options of bundles) {
    await build(options);
    writeFileSync(options.outfile + '.gz', gzipSync(readFileSync(options.outfile), { level: constants.Z_BEST_COMPRESSION }));
  }
}
