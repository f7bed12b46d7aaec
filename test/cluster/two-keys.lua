-- A probe for test/cluster/cluster-client.test.ts: touches both of its keys in one step.
redis.call('SET', KEYS[1], '1')
redis.call('SET', KEYS[2], '1')
return 2
