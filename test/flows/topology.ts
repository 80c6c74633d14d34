import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { prepareResource } from '../../src/api/prepare.js';
import type { Resource } from '../../src/api/types.js';
import { REPO_ROOT } from '../helpers/paths.js';

export const TOPOLOGY = join(REPO_ROOT, 'testdata', 'flows', 'topology.yaml');

/** The flow tests' resources (testdata/flows/topology.yaml), as stored. */
export function topologyResources(): Resource[] {
  return parseAllDocuments(readFileSync(TOPOLOGY, 'utf8')).map((d, i) => prepareResource(d.toJS() as Resource, { subjectPrefix: `document ${i + 1}:` }));
}
