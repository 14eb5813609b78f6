// Builds what app/static/vendor/ serves for the process owner's pages, from node_modules as package-lock.json
// pins it (run `npm ci && npm run build`; `node modeler/build.mjs DIR` writes into DIR instead, for the test that
// compares the committed files with a rebuild):
//   bpmn-js/          the navigated viewer (auditors, version views) and its CSS and font, copied from bpmn-js's dist/
//   bpmn-modeler/     the modeler: bpmn-js with the properties panel, the spiffworkflow: moddle extension,
//                     this app's panel entries and bpmnlint's recommended rules (bpmn-js-bpmnlint), one minified file
import { build } from 'esbuild';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const compileConfig = require('bpmnlint/lib/support/compile-config');

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const out = path.resolve(process.argv[2] || path.join(root, 'app/static/vendor'));
const bpmnJs = path.dirname(require.resolve('bpmn-js/package.json'));

// bpmnlint's rules, resolved at build time: the browser gets the configuration with every rule it names.
const lintConfig = {
  name: 'bpmnlint-config',
  setup(builder) {
    builder.onResolve({ filter: /^bpmnlint-config$/ }, () => ({ path: 'bpmnlint-config', namespace: 'lint' }));
    builder.onLoad({ filter: /.*/, namespace: 'lint' }, async () => ({
      contents: await compileConfig(JSON.parse(await readFile(path.join(here, '.bpmnlintrc'), 'utf8'))),
      resolveDir: here,
      loader: 'js'
    }));
  }
};

// The code editors and Camunda-only helpers the properties panel imports are replaced by stub.js (see there), and
// its Camunda and Zeebe providers lose their `$inject` so nothing keeps them in the bundle: 1.8 MB → 1 MB.
const STUBBED = /^(@codemirror\/|@lezer\/|@bpmn-io\/(feel-editor|feelers-editor|extract-process-variables|lang-feel|feel-lint)|@camunda\/feel-builtins|@bpmn-io\/semver-compat)/;
const stubs = {
  name: 'stubs',
  setup(builder) {
    builder.onResolve({ filter: STUBBED }, () => ({ path: path.join(here, 'stub.js') }));
    builder.onLoad({ filter: /bpmn-js-properties-panel[\\/]dist[\\/]index\.esm\.js$/ }, async (args) => ({
      contents: (await readFile(args.path, 'utf8')).replace(/^(ZeebePropertiesProvider|CamundaPlatformPropertiesProvider)\.\$inject = .*$/gm, ''),
      loader: 'js'
    }));
  }
};

await rm(path.join(out, 'bpmn-js'), { recursive: true, force: true });
await rm(path.join(out, 'bpmn-modeler'), { recursive: true, force: true });
await mkdir(path.join(out, 'bpmn-js'), { recursive: true });
for (const file of ['bpmn-navigated-viewer.production.min.js', 'assets']) {
  await cp(path.join(bpmnJs, 'dist', file), path.join(out, 'bpmn-js', file), { recursive: true });
}
await cp(path.join(bpmnJs, 'LICENSE'), path.join(out, 'bpmn-js', 'LICENSE'));
const version = JSON.parse(await readFile(path.join(bpmnJs, 'package.json'), 'utf8')).version;
await writeFile(path.join(out, 'bpmn-js', 'README.md'), `bpmn-js ${version} (https://github.com/bpmn-io/bpmn-js): the navigated
viewer, its CSS and font, copied unmodified from the npm package's dist/ folder by \`npm run build\` (modeler/build.mjs).
Licence: LICENSE (bpmn.io licence; the watermark must stay visible). The modeler is in ../bpmn-modeler/.
`);

await build({
  entryPoints: { modeler: path.join(here, 'index.js'), 'modeler-panel': path.join(here, 'modeler.css') },
  outdir: path.join(out, 'bpmn-modeler'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: '@bpmn-io/properties-panel/preact',
  legalComments: 'external',
  charset: 'utf8',
  logLevel: 'warning',
  plugins: [lintConfig, stubs]
});
await writeFile(path.join(out, 'bpmn-modeler', 'README.md'), `The process owner's modeler, built by \`npm run build\`
(modeler/build.mjs) from modeler/ and the packages package-lock.json pins: bpmn-js, bpmn-js-properties-panel,
@bpmn-io/properties-panel, bpmn-js-bpmnlint with bpmnlint's recommended rules. Their licences (bpmn.io licence for
bpmn-js: the watermark must stay visible; MIT otherwise) are in modeler.js.LEGAL.txt and the packages themselves.
Do not edit: change modeler/ and rebuild (docs/process-model.md).
`);
