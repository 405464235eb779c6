// Bundles the dashboard's script: web/src/main.js and the npm libraries it imports, into one
// minified file with no imports left, so the page works offline from the binary alone, and
// a gzip copy beside it (OUT.js.gz) that the server sends to browsers that accept gzip.
//   node web/bundle.mjs OUT.js        (the CMake build runs this)
//   node web/bundle.mjs --watch       (development: writes web/dist/app.js for `serve --web-dir web`)
import { build, context } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync, constants } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const watch = process.argv[2] === '--watch';
const options = {
  entryPoints: [join(here, 'src', 'main.js')],
  outfile: watch ? join(here, 'dist', 'app.js') : process.argv[2],
  bundle: true,
  minify: !watch,
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15'],
  legalComments: 'none',
  logLevel: 'warning',
};
if (!options.outfile) {
  console.error('usage: node web/bundle.mjs OUT.js | --watch');
  process.exit(2);
}
if (watch) await (await context(options)).watch();
else {
  await build(options);
  writeFileSync(options.outfile + '.gz', gzipSync(readFileSync(options.outfile), { level: constants.Z_BEST_COMPRESSION }));
}
