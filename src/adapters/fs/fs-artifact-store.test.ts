import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runArtifactStoreConformance } from '../../ports/artifact-store.conformance.js';
import { createFsArtifactStore } from './fs-artifact-store.js';

runArtifactStoreConformance('fs', async () => {
  const rootDir = mkdtempSync(join(tmpdir(), 'jobshift-artifacts-'));
  return { store: createFsArtifactStore({ rootDir }), close: async () => rmSync(rootDir, { recursive: true, force: true }) };
});
