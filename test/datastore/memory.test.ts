import { MemoryDatastore } from '../../src/datastore/memory.js';
import { datastoreContract } from './contract.js';

/** The reference semantics: the in-memory backend passes the same contract as the real ones. */
datastoreContract('memory', { open: async () => new MemoryDatastore(), shared: false });
