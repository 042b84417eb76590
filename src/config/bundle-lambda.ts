import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Packages that carry native code or read their own data files at run time: shipped, not bundled. */
const shipped = ['sharp', 'pdfkit'];
/**
 * Never needed on Lambda (the embedded store is local-only; TypeScript is compiled by the bundle).
 * They are replaced by stubs that explain themselves, because an ESM bundle hoists every
 * external import, even one reached only through a lazy `import()`.
 */
const unavailable = /^(better-sqlite3|tsx)(\/.*)?$/;

export interface BundleOptions {
  jobsModule: string | null;
  outDir: string;
  /** Also write this zip (the deployment package). */
  zipPath?: string;
  report(line: string): void;
}

/**
 * Builds the Lambda deployment package: one ESM bundle (esbuild) with jobshift, the user's job
 * types and the AWS SDK, plus node_modules for the few packages that cannot be bundled.
 */
export async function bundleLambda(options: BundleOptions): Promise<{ entry: string; zip: string | null }> {
  const { build } = await import('esbuild');
  const here = dirname(fileURLToPath(import.meta.url));
  const packageRoot = resolve(here, '../..');
  const dist = (path: string) => join(packageRoot, 'dist', path);
  const outDir = resolve(options.outDir);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });

  const entrySource = [
    `import { createLambdaHandler } from ${JSON.stringify(dist('config/lambda-entry.js'))};`,
    ...(options.jobsModule
      ? [
          `import { definitionsFromModule } from ${JSON.stringify(dist('core/registry.js'))};`,
          `import * as userJobs from ${JSON.stringify(resolve(options.jobsModule))};`,
          'export const handler = createLambdaHandler({ jobs: definitionsFromModule(userJobs) });',
        ]
      : ['export const handler = createLambdaHandler({ jobs: [] });']),
  ].join('\n');
  const entryFile = join(outDir, '.entry.mjs');
  writeFileSync(entryFile, entrySource);
  const outfile = join(outDir, 'index.mjs');
  await build({
    entryPoints: [entryFile],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: [...shipped, 'pg-native'],
    plugins: [
      {
        name: 'unavailable-on-lambda',
        setup(builder) {
          builder.onResolve({ filter: unavailable }, (args) => ({ path: args.path, namespace: 'unavailable' }));
          builder.onLoad({ filter: /.*/, namespace: 'unavailable' }, (args) => ({
            loader: 'js',
            contents: `const fail = () => { throw new Error(${JSON.stringify(
              `${args.path} is not part of the Lambda package (use JOBSHIFT_STORE=dynamodb or postgres; job types are bundled)`,
            )}); };
              export default fail; export const tsImport = fail;`,
          }));
        },
      },
    ],
    alias: { jobshift: dist('index.js') },
    // CommonJS dependencies inside an ESM bundle still call require().
    banner: { js: "import { createRequire as __jobshiftRequire } from 'node:module'; const require = __jobshiftRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  rmSync(entryFile);
  options.report(`bundled ${outfile}`);

  const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const specs = shipped.map((name) => `${name}@${manifest.dependencies[name] ?? 'latest'}`);
  writeFileSync(join(outDir, 'package.json'), JSON.stringify({ name: 'jobshift-lambda', private: true, type: 'module' }, null, 2));
  execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--no-package-lock', '--os=linux', '--cpu=x64', ...specs], {
    cwd: outDir,
    stdio: 'pipe',
  });
  options.report(`installed ${specs.join(', ')} for linux-x64`);

  if (!options.zipPath) return { entry: outfile, zip: null };
  const zip = resolve(options.zipPath);
  rmSync(zip, { force: true });
  if (existsSync('/usr/bin/zip')) execFileSync('zip', ['-qr', zip, '.'], { cwd: outDir });
  else execFileSync('python3', ['-m', 'zipfile', '-c', zip, 'index.mjs', 'package.json', 'node_modules'], { cwd: outDir });
  options.report(`wrote ${zip}`);
  return { entry: outfile, zip };
}
