"""Running contracts: resolving datasets, the runner, results and the durable results history."""
