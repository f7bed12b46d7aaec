/**
 * The `cluster` test project's global setup (vitest.config.ts): one local Redis Cluster (3
 * masters, 1 replica each) for every file of the project, handed to them as `redisClusterNodes`
 * (test/support/harness.ts reads it), and removed when the run ends.
 */
import type { TestProject } from 'vitest/node';
import { startLocalCluster } from './redis-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The seed nodes of the project's Redis Cluster, `host:port,…`. */
    redisClusterNodes: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startLocalCluster({ masters: 3, replicasPerMaster: 1 });
  project.provide('redisClusterNodes', cluster.nodes.join(','));
  return () => cluster.destroy();
}
